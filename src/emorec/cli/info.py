"""``emorec info``: emorec's version and folder, every dependency's installed version, and the
devices TensorFlow sees where it is installed."""

from __future__ import annotations

import argparse
import json
import platform
import re
from pathlib import Path
from typing import Any

from .._version import __version__, installed_version

__all__ = ["add_info_parser", "dependencies", "run"]

MISSING = "not installed"


def add_info_parser(sub: Any) -> None:
    """The ``info`` subcommand and its options."""
    p = sub.add_parser(
        "info",
        help="show versions of emorec and its dependencies, and TensorFlow's devices",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def dependencies() -> dict[str, dict[str, str | None]]:
    """emorec's declared dependencies, from its installed metadata: for each, the version
    installed (``"not installed"``), what emorec asks for, and the extra that brings it
    (None: the core install).

    Examples
    --------
    >>> from emorec.cli.info import dependencies
    >>> deps = dependencies()
    >>> deps["numpy"]["extra"] is None and deps["numpy"]["installed"] != "not installed"
    True
    """
    from importlib import metadata

    try:
        declared = metadata.requires("emorec") or []
    except metadata.PackageNotFoundError:  # running from a source tree, not installed
        declared = []
    found: dict[str, dict[str, str | None]] = {}
    for line in declared:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)", line)
        if match is None:
            continue
        name, spec = match.group(1), match.group(3).strip()
        if name.lower() == "emorec":  # an extra made of other extras
            continue
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        key = name.lower()
        if key in found and found[key]["extra"] is None:
            continue  # core wins over an extra that repeats it
        found[key] = {
            "installed": installed_version(name, MISSING),
            "requires": spec or None,
            "extra": extra.group(1) if extra else None,
        }
    return dict(sorted(found.items(), key=lambda kv: (kv[1]["extra"] is not None, kv[0])))


def tensorflow_devices() -> list[str] | None:
    """The devices TensorFlow sees (``"CPU:0"``, ``"GPU:0"``...), None where it is not
    installed. Imports TensorFlow (a few seconds), its start-up lines kept off the terminal."""
    if installed_version("tensorflow", MISSING) == MISSING:
        return None
    from .. import _native

    _native.import_tensorflow_quietly()
    import tensorflow as tf

    return [
        f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()
    ]


def run(args: argparse.Namespace) -> int:
    """Print the versions, the package's folder and TensorFlow's devices."""
    deps = dependencies()
    info: dict[str, Any] = {
        "emorec": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "package_dir": str(Path(__file__).resolve().parent.parent),  # emorec/, not emorec/cli/
        # the runtimes and frameworks at the top level too (scripts read them there)
        **{
            name: installed_version(name, MISSING)
            for name in ("ai-edge-litert", "tensorflow", "keras")
        },
        "dependencies": deps,
        "tensorflow_devices": tensorflow_devices(),
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = 16
    for key in ("emorec", "python", "platform", "package_dir"):
        print(f"{key.ljust(width)}{info[key]}")
    print("dependencies (installed; emorec asks for; extra that brings it):")
    names = max(map(len, deps), default=0) + 2
    for name, dep in deps.items():
        extra = f"emorec[{dep['extra']}]" if dep["extra"] else "core"
        print(f"  {name.ljust(names)}{dep['installed']:<14}{dep['requires'] or '':<14}{extra}")
    devices = info["tensorflow_devices"]
    shown = "TensorFlow not installed" if devices is None else ", ".join(devices) or "none"
    print(f"{'devices'.ljust(width)}{shown}")
    return 0
