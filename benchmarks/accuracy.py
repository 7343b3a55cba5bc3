"""Accuracy of a bundled model (or model file) on FER2013 PublicTest, against both label sets.

    python benchmarks/accuracy.py [fer2013.tar.gz] [--ferplus fer2013new.csv] [--model NAME]
                                  [--tta MODE] [--figure confusion.png] [--write-card]

Reads the challenge's tarball (``fer2013/fer2013.csv``, the raw pixels users have) with FER+'s
votes beside it (``EmotionDataset.from_csv(..., ferplus=..., ferplus_mode="fer2013")``), and
evaluates with :func:`emorec.evaluate` on PublicTest:

- against FER2013's original labels (all 3,569 PublicTest rows of the shared copy) and against
  FER+'s majority (the rows where FER+ has one: not a face, unknown and ties left out);
- on the raw pixels, on the same faces histogram-equalised (OpenCV's ``equalizeHist``, as the
  earlier, equalised copy of FER2013 was made), and on the raw faces that do not also occur in
  Training (exact copies found by :mod:`emorec.data.duplicates`);
- under every test-time augmentation on the raw pixels, the classifier's default marked.

For a model trained by the Trainer on this data, the validation split it was selected on is
carved again (10 %, seed 0, from the same read of the data: FER+'s probability or majority
mode, or FER2013's labels) and reported first. ``--write-card`` stores the figures in the model
file's card under ``metrics`` (``public_test``: FER2013 labels, raw pixels, default TTA;
``public_test_ferplus``: FER+ majority; ``_equalised`` and ``_unseen`` variants), each naming
its split, label set and pixels.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np
from _fer_data import LABEL_SETS, read_public, trained_validation
from _machine import FER2013_TAR, FERPLUS_CSV, describe_machine

from emorec import DEFAULT_TTA, DatasetSplit, EmotionDataset, ModelCard, evaluate
from emorec.models import resolve_model
from emorec.models.card import DEFAULT_PRETRAINED


def equalised(part: DatasetSplit) -> DatasetSplit:
    """The split's faces histogram-equalised one by one (OpenCV), labels unchanged."""
    images = np.stack([cv2.equalizeHist(img[..., 0])[..., None] for img in part.images])
    return DatasetSplit(
        part.name, images, part.labels, part.label_names, part.sources, None, part.label_sets
    )


def figures(report: Any) -> dict[str, dict[str, Any]]:
    """``{label set: {n, accuracy, macro_f1}}`` of a report with FER+'s label sets."""
    return {
        key: {"n": r.n, "accuracy": round(r.accuracy, 4), "macro_f1": round(r.macro_f1, 4)}
        for key, r in report.label_sets.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_TAR))
    parser.add_argument("--ferplus", default=None, help="fer2013new.csv (default: beside data)")
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
    votes = Path(args.ferplus) if args.ferplus else Path(args.data).with_name(FERPLUS_CSV.name)
    for need in (Path(args.data), votes):
        if not need.exists():
            sys.exit(f"{need}: not found; pass FER2013's fer2013.tar.gz and FER+'s fer2013new.csv")
    print(describe_machine(timed=False))
    path = resolve_model(args.model, keras=args.write_card)  # a card is written to .keras
    card = ModelCard.read(path)
    args.tta = args.tta or card.tta or DEFAULT_TTA
    print(
        f"model: {path.name} ({card.architecture_name}, {card.parameters:,} parameters, "
        f"{path.stat().st_size / 1e6:.2f} MB); data: {Path(args.data).name} + {votes.name}"
    )
    # a val figure that cannot be measured again here (another copy of the data) is kept
    metrics = {k: v for k, v in card.metrics.items() if not k.startswith("public_test")}
    ds = read_public(args.data, votes)
    carved = trained_validation(card, args.data, votes, ds)
    if carved is not None:
        val_split, mode = carved
        val = EmotionDataset({"val": val_split}, ds.label_names)
        report = evaluate(path, val, "val", tta=args.tta)
        print(f"\nval (10 % of Training as trained: {mode}), tta={args.tta}:")
        for key, fig in figures(report).items():
            print(
                f"  {LABEL_SETS[key]:<15} n={fig['n']:<5} accuracy {fig['accuracy']:.2%}  "
                f"macro-F1 {fig['macro_f1']:.2%}"
            )
        metrics["val"] = {
            "accuracy": round(report.accuracy, 4),
            "macro_f1": round(report.macro_f1, 4),
            "tta": args.tta,
            "n": report.n,
            "labels": {"probability": "ferplus", "majority": "ferplus"}.get(mode, "fer2013"),
            "label_sets": figures(report),
        }
    else:
        print(
            "\nval: not reported (the model was not trained on this file, so its selection "
            "split cannot be carved again here)"
        )

    public = ds["public_test"]
    unseen = ds.drop_duplicates("public_test", of="train")["public_test"]
    print(
        f"\nPublicTest: {len(public)} faces, {len(public) - len(unseen)} of them also in "
        f"Training (exact copies); FER+ majority for "
        f"{int((public.label_sets['ferplus'] >= 0).sum())}"
    )
    variants = {
        "raw": public,
        "equalised": equalised(public),
        "unseen": unseen,
    }
    print(f"\n{'pixels':<10} {'tta':<6} {'label set':<15} {'n':>5} {'accuracy':>9} {'macro-F1':>9}")
    final = None
    for variant, part in variants.items():
        view = EmotionDataset({"public_test": part}, ds.label_names)
        for tta in ("none", "flip", "shift") if variant == "raw" else (args.tta,):
            report = evaluate(path, view, "public_test", tta=tta)
            marker = "  <- classifier default" if tta == args.tta else ""
            for key, fig in figures(report).items():
                print(
                    f"{variant:<10} {tta:<6} {LABEL_SETS[key]:<15} {fig['n']:>5} "
                    f"{fig['accuracy']:>9.2%} {fig['macro_f1']:>9.2%}{marker}"
                )
            if tta != args.tta:
                continue
            for key, fig in figures(report).items():
                name = "public_test" + ("_ferplus" if key == "ferplus" else "")
                name += "" if variant == "raw" else f"_{variant}"
                metrics[name] = {
                    **fig,
                    "tta": tta,
                    "split": "PublicTest",
                    "labels": key,
                    "pixels": "equalised" if variant == "equalised" else "raw",
                    **({"without": "faces also in Training"} if variant == "unseen" else {}),
                }
            if variant == "raw":
                final = report
    assert final is not None
    for key, r in final.label_sets.items():
        print(f"\n{LABEL_SETS[key]}, raw pixels, tta={args.tta}:")
        print("\n".join(str(r).splitlines()[1:]))
    if args.figure:
        r = final.label_sets["fer2013"]
        r.plot_confusion_matrix(
            args.figure,
            title=(
                f"{path.stem} on FER2013 PublicTest, FER2013 labels, raw pixels "
                f"(tta={args.tta}): accuracy {r.accuracy:.1%}"
            ),
        )
        print(f"wrote {args.figure}")
    if args.write_card:
        card.metrics = metrics
        card.write(path)
        print(f"wrote the metrics into {path}'s card")


if __name__ == "__main__":
    main()
