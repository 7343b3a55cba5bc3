"""Accuracy of a bundled model (or model file) on FER2013 PublicTest and on its validation split.

    python benchmarks/accuracy.py [PATH_TO_fer2013.zip] [--model NAME_OR_FILE] [--tta MODE]
                                  [--figure docs/_static/confusion_matrix.png] [--write-card]

Evaluates with :func:`emorec.evaluate` on ``test`` (PublicTest in the Kaggle layout) with the
test-time augmentation the classifier applies by default with this model (the card's ``tta``,
else ``emorec.DEFAULT_TTA``), and, for comparison, every other TTA mode; prints accuracy,
macro-F1, per-class recall and the confusion matrix, and draws the matrix as an image.
``--write-card`` stores the figures in the model file's card under ``metrics`` (this is how
the bundled cards get them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _machine import FER2013_ZIP, describe_machine

from emorec import DEFAULT_TTA, EmotionDataset, ModelCard, evaluate
from emorec.models import resolve_model
from emorec.models.card import DEFAULT_PRETRAINED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--model", default=DEFAULT_PRETRAINED)
    parser.add_argument(
        "--tta",
        default=None,
        choices=["none", "flip", "shift"],
        help="the classifier's default to mark and store (default: the card's tta, else flip)",
    )
    parser.add_argument("--figure", default=None, help="write the confusion matrix image here")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    print(describe_machine(timed=False))
    path = resolve_model(args.model)
    card = ModelCard.read(path)
    args.tta = args.tta or card.tta or DEFAULT_TTA
    config = (card.training or {}).get("config", {})
    ds = EmotionDataset.from_directory(args.data)
    if config.get("val_split") == "val":
        # the validation split the model was selected on: same fraction, same seed
        ds = ds.split("val", fraction=0.1, seed=0)
    print(
        f"model: {path.name} ({card.architecture_name}, {card.parameters:,} parameters, "
        f"{path.stat().st_size / 1e6:.2f} MB)"
    )
    metrics = dict(card.metrics)
    for split, label in (
        ("val", "val (10 % of Training, selection)"),
        ("test", "PublicTest (test/)"),
    ):
        if split not in ds:
            continue
        for mode in ("none", "flip", "shift"):
            report = evaluate(path, ds, split, tta=mode)
            marker = "  <- classifier default" if mode == args.tta else ""
            print(
                f"{label:<36} tta={mode:<6} accuracy {report.accuracy:.2%}  "
                f"macro-F1 {report.macro_f1:.2%}{marker}"
            )
            if mode == args.tta:
                key = "public_test" if split == "test" else "val"
                metrics[key] = {
                    "accuracy": round(report.accuracy, 4),
                    "macro_f1": round(report.macro_f1, 4),
                    "tta": mode,
                    "n": report.n,
                }
                if split == "test":
                    final = report
    print()
    print(final)
    print("\nconfusion matrix (rows: true, columns: predicted):")
    print(" " * 10 + "".join(f"{name[:8]:>9}" for name in final.labels))
    for name, row in zip(final.labels, final.confusion):
        print(f"{name:<10}" + "".join(f"{v:>9}" for v in row))
    if args.figure:
        final.plot_confusion_matrix(
            args.figure,
            title=(
                f"{path.stem} on FER2013 PublicTest (tta={args.tta}): accuracy {final.accuracy:.1%}"
            ),
        )
        print(f"wrote {args.figure}")
    if args.write_card:
        card.metrics = metrics
        card.write(path)
        print(f"wrote the metrics into {path}'s card")


if __name__ == "__main__":
    main()
