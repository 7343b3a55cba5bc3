"""Accuracy of the ``fer`` package's emotion model on FER2013 PublicTest, measured here.

    python benchmarks/fer_peer_accuracy.py [PATH_TO_fer2013.zip]
                                           [--fer-python ~/venvs/fer/bin/python]

Reads the ``test/`` split (PublicTest, 3,589 48x48 grey faces) of the Kaggle FER2013 zip with
:meth:`emorec.EmotionDataset.from_directory` and feeds the crops straight to fer's emotion
model, skipping face detection: ``benchmarks/_fer_peer.py classify`` (run in fer's own
virtualenv) resizes each crop to the model's 64x64 input with ``cv2.resize`` and scales it to
[-1, 1], exactly as ``FER.detect_emotions`` does with a detected face, and returns the
probabilities of both models the package ships: the quantized TFLite model (its default since
25.10) and the original Keras ``emotion_model.hdf5``. fer's outputs are mapped to the dataset's
labels by name (both use FER2013's order: angry, disgust, fear, happy, sad, surprise,
neutral). No test-time augmentation: fer has none. For comparison, the same run evaluates
emorec's bundled model on the same split, without and with its default test-time augmentation
(as ``benchmarks/accuracy.py`` does).

The output in ``benchmarks/results/fer_peer_accuracy.txt`` comes from::

    python benchmarks/fer_peer_accuracy.py > benchmarks/results/fer_peer_accuracy.txt
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
from _fer_peer import add_fer_python_argument, run_peer
from _machine import FER2013_ZIP, describe_machine

from emorec import DEFAULT_TTA, EmotionDataset, EvaluationReport, evaluate
from emorec.models import pretrained_path
from emorec.models.card import DEFAULT_PRETRAINED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--split", default="test")
    add_fer_python_argument(parser)
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    if args.no_fer:
        sys.exit("--no-fer: nothing to measure")
    print(describe_machine())
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    start = time.perf_counter()
    ds = EmotionDataset.from_directory(args.data)
    part = ds[args.split]
    print(
        f"data: {args.data}, split '{args.split}' (PublicTest in the Kaggle layout): "
        f"{len(part)} images {part.images.shape[1:]}, read in {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        crops, probs_file = Path(tmp) / "crops.npz", Path(tmp) / "probs.npz"
        np.savez(crops, images=part.images)
        peer = run_peer(args.fer_python, "classify", str(crops), "--out", str(probs_file))
        if peer is None:
            sys.exit("fer: could not run its model (see above); no figures")
        with np.load(probs_file) as loaded:
            probabilities = {name: loaded[name] for name in loaded.files}
    versions = ", ".join(f"{k} {v}" for k, v in peer["versions"].items())
    print(f"fer: {versions}; fer's labels: {', '.join(peer['labels'])}")
    missing = [name for name in peer["labels"] if name not in part.label_names]
    if missing:
        sys.exit(f"fer's labels {missing} are not in the dataset's {part.label_names}")
    to_dataset = np.array([part.label_names.index(name) for name in peer["labels"]])
    k = len(part.label_names)
    reports = {}
    for model, probs in probabilities.items():
        predicted = to_dataset[probs.argmax(axis=1)]
        confusion = np.bincount(part.labels * k + predicted, minlength=k * k).reshape(k, k)
        reports[model] = EvaluationReport(
            part.label_names, confusion, split=args.split, model=f"fer {model}", tta="none"
        )
    names = {
        "tflite": "fer default: emotion_model_quantized.tflite",
        "keras": "fer Keras: emotion_model.hdf5 (use_tflite=False)",
    }
    print()
    for model, report in reports.items():
        print(f"{names[model]:<50} accuracy {report.accuracy:.2%}  macro-F1 {report.macro_f1:.2%}")
    path = pretrained_path(DEFAULT_PRETRAINED)
    for mode in ("none", DEFAULT_TTA):
        report = evaluate(path, ds, args.split, tta=mode)
        default = " (its default)" if mode == DEFAULT_TTA else ""
        label = f"emorec {DEFAULT_PRETRAINED}, tta={mode}{default}"
        print(f"{label:<50} accuracy {report.accuracy:.2%}  macro-F1 {report.macro_f1:.2%}")
    for model, report in reports.items():
        print(f"\n{names[model]}")
        print(report)
        print("\nconfusion matrix (rows: true, columns: predicted):")
        print(" " * 10 + "".join(f"{name[:8]:>9}" for name in report.labels))
        for name, row in zip(report.labels, report.confusion):
            print(f"{name:<10}" + "".join(f"{v:>9}" for v in row))


if __name__ == "__main__":
    main()
