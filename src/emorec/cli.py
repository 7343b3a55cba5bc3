"""The ``emorec`` command line.

Subcommands::

    emorec info                          versions and where things are
    emorec dataset summary PATH          counts per split and class of a folder, .zip or .csv
    emorec download fer2013 [--csv]      download FER2013 through the Kaggle API

A user error (bad path, bad file, missing credentials) prints one line to stderr and exits
with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ._version import __version__
from .data.kaggle import KaggleError

__all__ = ["main"]

#: Exceptions that are the user's to fix: reported in one line, exit status 2.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, OSError, KaggleError)


def _read_dataset(path: str, args: argparse.Namespace) -> Any:
    from .data import EmotionDataset

    p = Path(path)
    kwargs = {"progress_bar": None}
    if p.suffix.lower() == ".csv":
        return EmotionDataset.from_csv(p, **kwargs)
    return EmotionDataset.from_directory(
        p,
        color_mode=getattr(args, "color_mode", "grayscale"),
        errors=getattr(args, "errors", "raise"),
        **kwargs,
    )


def _cmd_info(args: argparse.Namespace) -> int:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    info = {
        "emorec": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
        "numpy": version("numpy"),
        "pillow": version("pillow"),
        "kaggle": version("kaggle"),
        "package_dir": str(Path(__file__).parent),
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key.ljust(width)}  {value}")
    return 0


def _cmd_dataset_summary(args: argparse.Namespace) -> int:
    ds = _read_dataset(args.path, args)
    if args.json:
        print(
            json.dumps(
                {
                    "label_names": list(ds.label_names),
                    "splits": {s: ds.class_counts(s) for s in ds.split_names},
                    "image_shape": {s: list(ds[s].images.shape[1:]) for s in ds.split_names},
                    "skipped": [list(x) for x in ds.skipped],
                },
                indent=2,
            )
        )
    else:
        print(f"{args.path}: {len(ds)} images, {len(ds.label_names)} classes")
        print(ds.summary())
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from .data.kaggle import download_fer2013

    path = download_fer2013("csv" if args.csv else "images", path=args.dir, force=args.force)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``emorec`` command."""
    parser = argparse.ArgumentParser(
        prog="emorec", description="Recognise emotions in faces: data, training, prediction."
    )
    parser.add_argument("--version", action="version", version=f"emorec {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="show versions of emorec and its dependencies")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("dataset", help="inspect a dataset")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "summary", help="count images per split and class in a folder, .zip or fer2013.csv"
    )
    q.add_argument("path", help="class folders (optionally under split folders), a .zip, or a .csv")
    q.add_argument("--color-mode", choices=["grayscale", "rgb"], default="grayscale")
    q.add_argument(
        "--errors",
        choices=["raise", "skip"],
        default="raise",
        help="on an unreadable image: stop (default) or skip it and go on",
    )
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_cmd_dataset_summary)

    p = sub.add_parser("download", help="download a dataset through the Kaggle API")
    p.add_argument("dataset", choices=["fer2013"])
    p.add_argument(
        "--csv", action="store_true", help="the original challenge CSV instead of the image folders"
    )
    p.add_argument("--dir", default=None, help="download folder (default ~/.cache/emorec/...)")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.set_defaults(func=_cmd_download)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``emorec`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", stream=sys.stderr
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("emorec: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"emorec: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
