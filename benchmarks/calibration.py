"""Are the scores calibrated? ECE and NLL on FER2013 PublicTest before and after temperature.

    python benchmarks/calibration.py [PATH_TO_fer2013.zip] [--model NAME_OR_FILE] [--tta MODE]
        [--figure docs/_static/reliability.png] [--write-card]

Takes the model's probabilities with the classifier's default test-time augmentation on the
validation split it was selected on (10 % of Training, stratified, seed 0: the Trainer's) and
on PublicTest (``test/``). Fits the temperature on the validation split only
(:func:`emorec.calibration.calibrate`), then reports the expected calibration error (15 bins)
and the negative log-likelihood on both splits at temperature 1 (the raw network) and at the
fitted one, and draws the PublicTest reliability diagrams before and after. ``--write-card``
stores the validation fit in the model file's card under ``calibration``, which is where
:class:`emorec.EmotionClassifier` takes it from.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import FER2013_ZIP, describe_machine

from emorec import DEFAULT_TTA, EmotionDataset, ModelCard
from emorec.calibration import (
    apply_temperature,
    calibrate,
    expected_calibration_error,
    negative_log_likelihood,
    reliability,
)
from emorec.inference import predict_proba
from emorec.models import load_model, resolve_model
from emorec.models.card import DEFAULT_PRETRAINED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--model", default=DEFAULT_PRETRAINED)
    parser.add_argument("--tta", default=DEFAULT_TTA, choices=["none", "flip", "shift"])
    parser.add_argument("--figure", default=None, help="write the reliability diagrams here")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    print(describe_machine(timed=False))
    path = resolve_model(args.model)
    card = ModelCard.read(path)
    model = load_model(path)
    ds = EmotionDataset.from_directory(args.data).split("val", fraction=0.1, seed=0)
    print(f"model: {path.name} ({card.architecture_name}); tta={args.tta}; ECE with 15 bins")
    fit = calibrate(model, ds, "val", tta=args.tta)
    t = fit["temperature"]
    print(f"temperature fitted on val ({fit['n']} images): {t:.3f}")
    curves = {}
    for split, label in (("val", "val (10 % of Training)"), ("test", "PublicTest (test/)")):
        probs = predict_proba(model, ds[split].images, tta=args.tta)
        y = np.asarray(ds[split].labels)
        for name, p in (("T = 1 (raw)", probs), (f"T = {t:.2f}", apply_temperature(probs, t))):
            ece = expected_calibration_error(p, y)
            top = float(np.mean(p.max(axis=1)))
            acc = float(np.mean(p.argmax(axis=1) == y))
            print(
                f"  {label:<24} {name:<12} ECE {ece:6.2%}  NLL {negative_log_likelihood(p, y):.3f}"
                f"  mean top score {top:.1%}  accuracy {acc:.2%}"
            )
            if split == "test":
                curves[f"PublicTest, {name}"] = {**reliability(p, y), "ece": ece}
    if args.figure:
        from emorec.plots import plot_reliability

        plot_reliability(curves, args.figure, title=f"{path.stem}, tta={args.tta}")
        print(f"wrote {args.figure}")
    if args.write_card:
        card.calibration = fit
        card.write(path)
        print(f"wrote the calibration into {path}'s card")


if __name__ == "__main__":
    main()
