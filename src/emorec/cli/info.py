"""``emorec info``: the versions of emorec and its dependencies, and where it is installed."""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

from .._version import __version__, installed_version

__all__ = ["add_info_parser", "run"]

#: The distributions that install ``cv2`` (``emorec[video]`` brings the first).
OPENCV = ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless")


def add_info_parser(sub: Any) -> None:
    """The ``info`` subcommand and its options."""
    p = sub.add_parser("info", help="show versions of emorec and its dependencies")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the versions (None: not installed) and the package's folder."""
    info = {
        "emorec": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": installed_version("numpy"),
        "pillow": installed_version("pillow"),
        "ai-edge-litert": installed_version("ai-edge-litert"),
        "tensorflow": installed_version("tensorflow"),
        "keras": installed_version("keras"),
        "opencv": next(
            (v for v in map(installed_version, OPENCV) if v != "not installed"), "not installed"
        ),
        "onnxruntime": installed_version("onnxruntime"),
        "kagglehub": installed_version("kagglehub"),
        "package_dir": str(Path(__file__).resolve().parent.parent),  # emorec/, not emorec/cli/
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key.ljust(width)}  {value}")
    return 0
