"""Make the bundled fast model: a bundled Keras model exported as int8 TFLite, with its card.

    python benchmarks/bundle_int8.py [PATH_TO_fer2013.zip] [--source fer2013_vgg_m]
        [--name fer2013_vgg_m_int8] [--representative 500] [--overwrite]

Exports ``--source`` with :meth:`emorec.EmotionClassifier.export` (``format="tflite"``,
``quantize="int8"``, the source's calibrated temperature divided into its logits), calibrated
on ``--representative`` crops drawn (seed 0) from the training part of FER2013 Training, the
part left when the validation split (10 %, stratified, seed 0) is carved out: never from val
or PublicTest. Writes ``src/emorec/weights/NAME.tflite`` with its card inside: the
source's labels, input, architecture and training record, the file and SHA-256 it was
exported from, the licence and data notice, and ``tta="none"`` (the fast model's default: one
view a face). Then measure it and store its metrics in the card with::

    python benchmarks/accuracy.py --model fer2013_vgg_m_int8 --write-card

Refuses to replace existing files unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import FER2013_ZIP

from emorec import EmotionClassifier, EmotionDataset
from emorec.models import ModelCard, file_provenance, resolve_model

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "emorec" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--source", default="fer2013_vgg_m", help="Keras model to quantize")
    parser.add_argument("--name", default="fer2013_vgg_m_int8", help="bundled model name")
    parser.add_argument("--representative", type=int, default=500)
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    target = WEIGHTS / f"{args.name}.tflite"
    if target.exists() and not args.overwrite:
        sys.exit(f"{target} exists; pass --overwrite to replace it (git keeps the old one)")
    source = resolve_model(args.source, keras=True)
    clf = EmotionClassifier.load(source, tta="none")
    ds = EmotionDataset.from_directory(args.data, progress_bar=None)
    train = ds.split("val", fraction=0.1, seed=0)["train"]
    rng = np.random.default_rng(0)
    chosen = np.sort(rng.choice(len(train), args.representative, replace=False))
    crops = np.asarray(train.images)[chosen]
    clf.export(target, "tflite", quantize="int8", representative=crops, overwrite=args.overwrite)
    card = ModelCard.read(target)
    source_card = clf.card
    card.extra["exported"] = {
        **card.extra.get("exported", {}),
        "from": file_provenance(source),
        "representative_from": "FER2013 Training without the val split (seed 0)",
        "command": " ".join(["python", "benchmarks/bundle_int8.py", *sys.argv[1:]]),
    }
    if source_card is not None:
        card.extra.update(
            {k: v for k, v in source_card.extra.items() if k in ("splits", "data_notice")}
        )
        card.extra.setdefault("license", source_card.extra.get("license"))
    card.write(target)
    size = target.stat().st_size / 1e6
    print(f"wrote {target} ({size:.2f} MB, its card inside) from {source.name}")


if __name__ == "__main__":
    main()
