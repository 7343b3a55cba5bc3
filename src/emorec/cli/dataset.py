"""``emorec dataset summary``: images per split and class of a folder, a .zip or a CSV."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .reading import add_reading_arguments, read_dataset

__all__ = ["add_dataset_parser", "run"]


def add_dataset_parser(sub: Any) -> None:
    """The ``dataset summary`` subcommand and its options."""
    p = sub.add_parser("dataset", help="inspect a dataset")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "summary", help="count images per split and class in a folder, .zip or fer2013.csv"
    )
    q.add_argument(
        "path",
        help="class folders (optionally under split folders), a .zip, a .csv, or shards "
        "written by EmotionDataset.to_shards",
    )
    q.add_argument("--json", action="store_true", help="print JSON")
    add_reading_arguments(q)
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the images per split and class."""
    ds = read_dataset(args.path, args)
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
