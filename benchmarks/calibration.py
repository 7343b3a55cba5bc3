"""Are the scores calibrated? ECE and NLL on FER2013 PublicTest, against both label sets,
before and after the temperature.

    python benchmarks/calibration.py [fer2013.tar.gz] [--ferplus fer2013new.csv]
        [--model NAME_OR_FILE] [--tta MODE] [--figure docs/_static/reliability.png]
        [--write-card]

Reads the challenge's tarball (the raw pixels) with FER+'s votes beside it. Takes the model's
probabilities with the classifier's default test-time augmentation on the validation split it
was selected on (10 % of Training, seed 0, carved again as its training run read the file:
FER2013's labels or FER+'s) and on PublicTest. Fits the temperature on that validation split
only (:func:`emorec.calibration.fit_temperature`, against the labels the model was trained
for), then reports the expected calibration error (15 bins), the negative log-likelihood and
the mean top score at temperature 1 (the network as trained) and at the fitted one, on val and
on PublicTest against FER2013's labels and against FER+'s majority; and, for PublicTest, the
cross-entropy against FER+'s vote distributions (what a face's ten annotators said, the
measure soft-label training aims at). Draws the PublicTest reliability diagrams (the label set
the model was trained for) before and after. ``--write-card`` stores the validation fit in the
model file's card under ``calibration``, which is where :class:`emorec.EmotionClassifier`
takes it from. A model not trained on this file has no validation split here and is only
measured.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _fer_data import LABEL_SETS, read_public, trained_mode, trained_validation
from _machine import FER2013_TAR, FERPLUS_CSV, describe_machine

from emorec import DEFAULT_TTA, EmotionDataset, ModelCard
from emorec.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from emorec.inference import predict_proba
from emorec.models import load_model, resolve_model
from emorec.models.card import DEFAULT_PRETRAINED


def vote_distributions(data: str, votes: Path, sources: tuple[str, ...]) -> np.ndarray:
    """FER+'s vote distributions over the seven emotions for the faces named by ``sources``
    (zeros where FER+ keeps none: not a face, unknown)."""
    soft = EmotionDataset.from_csv(data, ferplus=votes, ferplus_mode="probability")["public_test"]
    where = {source: i for i, source in enumerate(sources)}
    out = np.zeros((len(sources), len(soft.label_names)), np.float64)
    for source, target in zip(soft.sources, np.asarray(soft.targets)):
        if source in where:
            out[where[source]] = target
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_TAR))
    parser.add_argument("--ferplus", default=None, help="fer2013new.csv (default: beside data)")
    parser.add_argument("--model", default=DEFAULT_PRETRAINED)
    parser.add_argument("--tta", default=None, choices=["none", "flip", "shift"])
    parser.add_argument("--figure", default=None, help="write the reliability diagrams here")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    votes = Path(args.ferplus) if args.ferplus else Path(args.data).with_name(FERPLUS_CSV.name)
    for need in (Path(args.data), votes):
        if not need.exists():
            sys.exit(f"{need}: not found; pass FER2013's fer2013.tar.gz and FER+'s fer2013new.csv")
    print(describe_machine(timed=False))
    path = resolve_model(args.model, keras=args.write_card)  # a card is written to .keras
    card = ModelCard.read(path)
    tta = args.tta or card.tta or DEFAULT_TTA
    model = load_model(path)
    ds = read_public(args.data, votes)
    own = "ferplus" if trained_mode(card) in ("probability", "majority") else "fer2013"
    print(f"model: {path.name} ({card.architecture_name}); tta={tta}; ECE with 15 bins")
    print(f"trained for: {LABEL_SETS[own]}; data: {Path(args.data).name} + {votes.name}\n")

    carved = trained_validation(card, args.data, votes, ds)
    t, fit = 1.0, None
    rows = []
    if carved is not None:
        val, mode = carved
        keep = np.asarray(val.labels) >= 0
        pv = predict_proba(model, np.asarray(val.images)[keep], tta=tta)
        yv = np.asarray(val.labels)[keep]
        t = fit_temperature(pv, yv)
        after = apply_temperature(pv, t)
        fit = {
            "temperature": round(float(t), 4),
            "split": "val",
            "tta": tta,
            "n": int(len(yv)),
            "labels": own,
            "ece_before": round(expected_calibration_error(pv, yv), 4),
            "ece_after": round(expected_calibration_error(after, yv), 4),
            "nll_before": round(negative_log_likelihood(pv, yv), 4),
            "nll_after": round(negative_log_likelihood(after, yv), 4),
        }
        print(
            f"temperature fitted on val (10 % of Training as trained: {mode},",
            f"{len(yv)} faces): {t:.3f}",
        )
        rows.append(("val", LABEL_SETS[own], pv, yv))
    else:
        print("val: not carved (the model was not trained on this file); temperature 1 only")

    public = ds["public_test"]
    pt = predict_proba(model, public.images, tta=tta)
    for key, labels in public.label_sets.items():
        keep = labels >= 0
        rows.append((f"PublicTest ({keep.sum()})", LABEL_SETS[key], pt[keep], labels[keep]))
    temps = [("T = 1 (as trained)", 1.0)] + ([(f"T = {t:.2f}", t)] if fit else [])
    print(
        f"\n{'split':<18} {'label set':<15} {'temperature':<19} {'ECE':>6} {'NLL':>6}",
        f"{'top score':>9} {'accuracy':>8}",
    )
    for split, label, p, y in rows:
        for name, temp in temps:
            q = apply_temperature(p, temp)
            print(
                f"{split:<18} {label:<15} {name:<19} {expected_calibration_error(q, y):>6.2%} "
                f"{negative_log_likelihood(q, y):>6.3f} {float(np.mean(q.max(axis=1))):>9.1%} "
                f"{float(np.mean(q.argmax(axis=1) == y)):>8.2%}"
            )
    soft = vote_distributions(args.data, votes, tuple(public.sources))
    has = soft.sum(axis=1) > 0
    for name, temp in temps:
        q = np.clip(apply_temperature(pt[has], temp), 1e-7, 1)
        ce = float(-np.mean(np.sum(soft[has] * np.log(q), axis=1)))
        print(
            f"PublicTest ({has.sum()}) cross-entropy against FER+'s vote distributions,",
            f"{name}: {ce:.3f}",
        )

    if args.figure:
        from emorec.plots import plot_reliability

        labels = public.label_sets[own]
        keep = labels >= 0
        curves = {}
        for name, temp in temps:
            q = apply_temperature(pt[keep], temp)
            y = labels[keep]
            curves[f"PublicTest, {name}"] = {
                **reliability(q, y),
                "ece": expected_calibration_error(q, y),
            }
        plot_reliability(
            curves, args.figure, title=f"{path.stem}, {LABEL_SETS[own]}, raw pixels, tta={tta}"
        )
        print(f"wrote {args.figure}")
    if args.write_card:
        if fit is None:
            sys.exit("--write-card: no validation split to fit on for this model")
        card.calibration = fit
        card.write(path)
        print(f"wrote the calibration into {path}'s card")


if __name__ == "__main__":
    main()
