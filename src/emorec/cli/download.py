"""``emorec download``: FER2013 through the Kaggle API, or FER+'s votes."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_download_parser", "run"]


def add_download_parser(sub: Any) -> None:
    """The ``download`` subcommand and its options."""
    p = sub.add_parser(
        "download",
        help="download FER2013 (Kaggle API) or FER+'s votes (fer2013new.csv, GitHub)",
    )
    p.add_argument("dataset", choices=["fer2013", "ferplus"])
    p.add_argument(
        "--csv",
        action="store_true",
        help="fer2013: the original challenge CSV instead of the image folders",
    )
    p.add_argument("--dir", default=None, help="download folder (default ~/.cache/emorec/...)")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Download, and print where the files are."""
    if args.dataset == "ferplus":
        from ..data.ferplus_download import download_ferplus

        if args.csv:
            raise ValueError("--csv is for fer2013; FER+'s votes are one file, fer2013new.csv")
        path = download_ferplus(args.dir, force=args.force)
    else:
        from ..data.kaggle import download_fer2013

        path = download_fer2013("csv" if args.csv else "images", path=args.dir, force=args.force)
    print(path)
    return 0
