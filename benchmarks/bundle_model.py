"""Turn a training run's ``best.keras`` into the bundled model file, with its card.

    python benchmarks/bundle_model.py RUN/best.keras [--name fer2013_vgg_m] [--command CMD]
                                      [--note TEXT] [--tta {none,flip,shift}] [--overwrite]

Writes ``src/emorec/weights/NAME.keras``: the model without its optimizer state, and a card
that adds to the Trainer's (labels, input, architecture, parameters, training config, command,
time, machine, validation metrics) the licence, the FER2013 data notice and the meaning of
each split, and ``--tta``, the test-time augmentation the model applies by default and is
measured with (``flip`` for the default model; ``none`` for the fast one). Then measure it
and store its metrics in the card with::

    python benchmarks/accuracy.py --model src/emorec/weights/NAME.keras --write-card \\
        --figure docs/_static/confusion_matrix.png

and, once the card is final, make the TFLite twin that predictions run (the tests check that
it was made from this very file)::

    python benchmarks/bundle_tflite.py NAME --overwrite

Refuses to replace an existing file unless ``--overwrite`` is given (the previous model stays
in git history). ``--refresh-card`` rewrites only the provenance of an already bundled file
(licence, data notice, splits, the machine's paths taken out of the commands), keeping its
weights and measured metrics. Lives beside the benchmarks because it is how their subject is made.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _fer_data import trained_mode

from emorec.inference import DEFAULT_TTA, TTA_MODES
from emorec.models import ModelCard, load_model

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "emorec" / "weights"

LICENSE = "MIT (the emorec licence)"
DATA_NOTICE = (
    "Trained on FER2013 (Goodfellow et al., ICML 2013 workshop 'Challenges in Representation "
    "Learning'; data prepared by Pierre-Luc Carrier and Aaron Courville), released for "
    "research through that challenge. Check that this origin fits your use."
)
FERPLUS_NOTICE = (
    " Labels: FER+ (Barsoum et al., ICMI 2016; Microsoft, MIT licence), ten annotators' votes "
    "for each FER2013 face (fer2013new.csv)."
)
SPLITS = {
    "val": "10 % of FER2013 Training, stratified, seed 0 (model selection)",
    "public_test": "FER2013 PublicTest: its rows in fer2013.csv (the test/ folder of the "
    "Kaggle image-folder download)",
}
#: A run's folder under a home directory's cache, as the Trainer records ``--output``.
_MACHINE_RUNS = re.compile(r"(?:~|/root|/home/[^/\s]+)/\.cache/emorec/runs/")


def portable(command: str) -> str:
    """A recorded command without this machine's home directory (``runs/NAME`` instead)."""
    return _MACHINE_RUNS.sub("runs/", command)


def provenance(card: ModelCard) -> None:
    """Licence, data notice and splits of a bundled card; commands made portable, in place."""
    training = dict(card.training or {})
    for key in ("command", "command_as_run"):
        if isinstance(training.get(key), str):
            training[key] = portable(training[key])
    card.training = training
    ferplus = trained_mode(card) in ("probability", "majority")
    notice = DATA_NOTICE + (FERPLUS_NOTICE if ferplus else "")
    card.extra.update(license=LICENSE, data_notice=notice, splits=SPLITS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a Trainer's best.keras (or final.keras)")
    parser.add_argument("--name", default="fer2013_vgg_m", help="bundled model name")
    parser.add_argument("--command", help="the command to record, if not the one run")
    parser.add_argument("--note", help="a note on how the run was made, stored in the card")
    parser.add_argument(
        "--tta",
        choices=TTA_MODES,
        default=DEFAULT_TTA,
        help="the test-time augmentation the model applies by default (stored in its card)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--refresh-card",
        action="store_true",
        help="SOURCE is a bundled name: rewrite its card's provenance, keep weights and metrics",
    )
    args = parser.parse_args()
    if args.refresh_card:
        path = WEIGHTS / f"{args.source}.keras"
        card = ModelCard.read(path)
        provenance(card)
        card.write(path)
        print(f"refreshed the card of {path}")
        return
    source = Path(args.source)
    target = WEIGHTS / f"{args.name}.keras"
    if target.exists() and not args.overwrite:
        sys.exit(f"{target} exists; pass --overwrite to replace it (git keeps the old one)")
    card = ModelCard.read_optional(source)
    if card is None:
        sys.exit(f"{source}: no emorec card; bundle a file written by the Trainer")
    model = load_model(source)  # compile=False: no optimizer state in the bundled file
    training = dict(card.training or {})
    if args.command:
        training["command_as_run"] = training.get("command")
        training["command"] = args.command
    if args.note:
        training["note"] = args.note
    card.training = training
    card.metrics = {k: v for k, v in card.metrics.items() if k in SPLITS}
    card.tta = args.tta
    provenance(card)
    staged = WEIGHTS / f".{args.name}.partial.keras"  # Keras saves only to *.keras names
    try:
        model.save(staged)
        card.write(staged)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB) from {source}")


if __name__ == "__main__":
    main()
