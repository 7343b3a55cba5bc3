"""``emorec evaluate``: accuracy, macro-F1, per-class figures and the confusion matrix of a
model on a dataset split."""

from __future__ import annotations

import argparse
from typing import Any

from .reading import add_reading_arguments, read_dataset

__all__ = ["add_evaluate_parser", "run"]


def add_evaluate_parser(sub: Any) -> None:
    """The ``evaluate`` subcommand and its options."""
    p = sub.add_parser("evaluate", help="evaluate a model file on a dataset split")
    p.add_argument("model", help="a .keras file (or a bundled model's name)")
    p.add_argument(
        "data", help="class folders, a .zip of them, fer2013.csv or the challenge's fer2013.tar.gz"
    )
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default=None,
        choices=["none", "flip", "shift"],
        help="test-time augmentation (default: the model card's, as predict applies it; "
        "--tta alone: flip; shift: 10 views)",
    )
    p.add_argument("--batch-size", type=int, default=256, help="images per model call")
    p.add_argument("--confusion-matrix", metavar="IMAGE", help="write the confusion matrix image")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_reading_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate; print the report (and write the confusion matrix if asked)."""
    from ..evaluation import evaluate

    ds = read_dataset(args.data, args)
    report = evaluate(args.model, ds, args.split, tta=args.tta, batch_size=args.batch_size)
    if args.confusion_matrix:
        report.plot_confusion_matrix(args.confusion_matrix)
    print(report.to_json() if args.json else report)
    return 0
