"""The fast models against ``fer``, in one run: raw PublicTest, both label sets, crops/s.

    python benchmarks/fast_model.py [fer2013.tar.gz] [--ferplus fer2013new.csv]
        [--model NAME_OR_FILE ...] [--fer-python PATH | --no-fer]

Issue 23's target for the fast model: at least ``fer`` + 3 points against FER2013's labels and
``fer`` + 5 against FER+'s majority on the raw PublicTest pixels, at 2x or more ``fer``'s crop
rate, all in one run beside ``fer``. This script measures exactly that, on the 3,589
PublicTest faces of the challenge's tarball (raw pixels; FER+'s majority where FER+ gives one,
read as :mod:`_fer_data` reads it):

- each ``--model`` as users call it: :meth:`emorec.EmotionClassifier.predict_proba` on the
  48x48 crops in batches of 256 at the model's default test-time augmentation (its card's);
- ``fer``'s two emotion models on the same crops (``_fer_peer.py classify``, in fer's own
  virtualenv): its default quantized TFLite model and its Keras model, each as fer feeds a
  detected face (resized to 64x64, scaled to [-1, 1]).

Accuracy and macro-F1 against each label set, crops/s (the whole split after a warm-up
batch), and for each emorec model its margins over ``fer``'s more accurate model against each
label set and its crop rate over ``fer``'s faster path. Timed figures need an idle machine:
the header prints the load average and warns when it is busy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _fer_data import LABEL_SETS, read_public
from _fer_peer import add_fer_python_argument, run_peer
from _machine import FER2013_TAR, FERPLUS_CSV, describe_machine

from emorec import EmotionClassifier, EvaluationReport
from emorec.labels import canonical_label
from emorec.models import resolve_model

FAST_MODELS = ("fer2013_mini_xception_int8", "fer2013_mini_xception")
#: The issue's margins over fer: points against each label set, and the crop-rate ratio.
TARGETS = {"fer2013": 3.0, "ferplus": 5.0, "rate": 2.0}


def reports(
    predicted: np.ndarray, label_sets: dict[str, np.ndarray], labels: tuple[str, ...]
) -> dict[str, EvaluationReport]:
    """``{label set: report}`` of predicted class indices (in ``labels``' order)."""
    k = len(labels)
    out = {}
    for key, true in label_sets.items():
        has = np.flatnonzero(true >= 0)
        confusion = np.bincount(true[has] * k + predicted[has], minlength=k * k).reshape(k, k)
        out[key] = EvaluationReport(labels, confusion, split="public_test")
    return out


def to_dataset_order(names: list[str] | tuple[str, ...], labels: tuple[str, ...]) -> np.ndarray:
    """Index into ``labels`` of each of a model's output names (by canonical name)."""
    index = {canonical_label(n): i for i, n in enumerate(labels)}
    missing = [n for n in names if canonical_label(n) not in index]
    if missing:
        sys.exit(f"model labels {missing} are not among the dataset's {list(labels)}")
    return np.array([index[canonical_label(n)] for n in names])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_TAR))
    parser.add_argument("--ferplus", default=None, help="fer2013new.csv (default: beside data)")
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help=f"emorec model to measure (repeat; default: {', '.join(FAST_MODELS)})",
    )
    add_fer_python_argument(parser)
    args = parser.parse_args()
    votes = Path(args.ferplus) if args.ferplus else Path(args.data).with_name(FERPLUS_CSV.name)
    for need in (Path(args.data), votes):
        if not need.exists():
            sys.exit(f"{need}: not found; pass FER2013's fer2013.tar.gz and FER+'s fer2013new.csv")
    print(describe_machine())
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    public = read_public(args.data, votes)["public_test"]
    labels = tuple(public.label_names)
    images = np.asarray(public.images)
    label_sets = {key: np.asarray(v) for key, v in public.label_sets.items()}
    print(
        f"data: {Path(args.data).name} + {votes.name}, PublicTest, raw pixels: {len(images)} "
        f"faces; FER+ majority for {int((label_sets['ferplus'] >= 0).sum())}"
    )

    rows: list[tuple[str, dict[str, EvaluationReport], float, str]] = []
    for name in args.model or FAST_MODELS:
        clf = EmotionClassifier.load(name)
        order = to_dataset_order(clf.labels, labels)
        clf.predict_proba(images[:256])
        start = time.perf_counter()
        probs = clf.predict_proba(images)
        rate = len(images) / (time.perf_counter() - start)
        path = resolve_model(name)
        size = f"{path.stat().st_size / 1e6:.2f} MB"
        rows.append(
            (
                f"emorec {path.name} (tta={clf.tta})",
                reports(order[probs.argmax(1)], label_sets, labels),
                rate,
                size,
            )
        )

    peers: list[tuple[str, dict[str, EvaluationReport], float, str]] = []
    if not args.no_fer:
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "crops.npz", images=images)
            answer = run_peer(
                args.fer_python,
                "classify",
                str(Path(tmp) / "crops.npz"),
                "--out",
                str(Path(tmp) / "p.npz"),
            )
            if answer is not None:
                order = to_dataset_order(answer["labels"], labels)
                arrays = np.load(Path(tmp) / "p.npz")
                for kind in ("tflite", "keras"):
                    predicted = order[arrays[kind].argmax(axis=1)]
                    peers.append(
                        (
                            f"fer {answer['versions']['fer']} {kind}",
                            reports(predicted, label_sets, labels),
                            len(images) / answer["seconds"][kind],
                            "",
                        )
                    )

    head = "".join(f"  {LABEL_SETS[k]:>15}  macro-F1" for k in label_sets)
    print(f"\n{'model':<50}{head}  {'crops/s':>8}  size")
    for name, reps, rate, size in rows + peers:
        cells = "".join(
            f"  {reps[k].accuracy:>15.2%}  {reps[k].macro_f1:>8.2%}" for k in label_sets
        )
        print(f"{name:<50}{cells}  {rate:>8,.0f}  {size}")
    if not peers:
        print("\nfer not measured: no margins (pass --fer-python)")
        return
    fer_rate = max(rate for _, _, rate, _ in peers)
    fer_best = {k: max(reps[k].accuracy for _, reps, _, _ in peers) for k in label_sets}
    print(
        "\nmargins over fer (its more accurate model per label set; its faster path for the "
        f"rate); targets: +{TARGETS['fer2013']:g} points on FER2013 labels, "
        f"+{TARGETS['ferplus']:g} on FER+ majority, {TARGETS['rate']:g}x the crops/s"
    )
    for name, reps, rate, _ in rows:
        margins = {k: 100 * (reps[k].accuracy - fer_best[k]) for k in label_sets}
        fast = rate / fer_rate >= TARGETS["rate"]
        verdicts = {
            k: "met" if margins[k] >= TARGETS[k] and fast else "not met" for k in label_sets
        }
        cells = ", ".join(f"{LABEL_SETS[k]} {margins[k]:+.1f} ({verdicts[k]})" for k in label_sets)
        print(f"  {name:<48} {rate / fer_rate:.2f}x; {cells}")


if __name__ == "__main__":
    main()
