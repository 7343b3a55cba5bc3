"""Make a bundled Keras model's serving twin: the same network as a float32 TFLite file.

    python benchmarks/bundle_tflite.py NAME [NAME ...] [--overwrite]
    python benchmarks/bundle_tflite.py --all --overwrite

A bundled name with both files is one model in two formats: predictions run the ``.tflite``
on LiteRT (no TensorFlow imported, a start of a fraction of a second), training, fine-tuning
and export start from the ``.keras`` (:func:`emorec.models.pretrained_path`). So the twin
must give the Keras model's answers: it is converted at temperature 1 (the card's calibration
is applied by the classifier, as for the Keras file), checked on 256 crops (uniform random
pixels, seed 0, and their mirror images) to a maximum absolute difference of probabilities
of 1e-4, and gets the Keras file's model card inside it (the flatbuffer's metadata) with a
``serving`` record: format, precision, the Keras file's SHA-256, the measured difference and
this command. ``tests/test_bundled_model.py`` checks that the SHA-256 still matches, so a
Keras file changed (new weights, ``accuracy.py --write-card``) without its twin made again
fails the tests.

Needs TensorFlow (``pip install "emorec[train]"``). Refuses to replace existing files unless
``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from emorec._files import write_atomic
from emorec.export import to_tflite
from emorec.lite import LiteModel
from emorec.models import ModelCard, file_provenance, load_model
from emorec.models.card import WEIGHTS_DIR, keras_pretrained, resolve_model

#: Largest absolute difference of probabilities allowed between the twin and the Keras model.
TOLERANCE = 1e-4


def make_twin(name: str, *, overwrite: bool) -> str:
    """Write ``NAME.tflite`` with its card inside; return a line saying what was done."""
    source = resolve_model(name, keras=True)
    target = WEIGHTS_DIR / f"{name}.tflite"
    if target.exists() and not overwrite:
        sys.exit(f"{target} exists; pass --overwrite to replace it (git keeps the old one)")
    model = load_model(source)
    card = ModelCard.read(source)
    flat = to_tflite(model)
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (128, *model.input_shape[1:]), dtype=np.uint8)
    crops = np.concatenate([crops, crops[:, :, ::-1]]).astype(np.float32)
    expected = np.asarray(model.predict_on_batch(crops))
    write_atomic(target, flat)
    got = LiteModel(target).predict_on_batch(crops)
    diff = float(np.abs(got - expected).max())
    if diff > TOLERANCE:
        target.unlink()
        sys.exit(f"{name}: the TFLite twin differs from Keras by {diff:.2e} (> {TOLERANCE})")
    card.extra["serving"] = {
        "format": "tflite",
        "precision": "float32",
        "source": source.name,
        "source_sha256": file_provenance(source)["sha256"],
        "max_abs_difference": diff,
        "checked_on": "256 crops: 128 of uniform random pixels (seed 0) and their mirrors",
        "command": " ".join(["python", "benchmarks/bundle_tflite.py", name]),
    }
    card.write(target)
    return f"wrote {target.name} ({len(flat) / 1e6:.2f} MB), max |difference| {diff:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="bundled Keras models")
    parser.add_argument("--all", action="store_true", help="every bundled Keras model")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args()
    names = keras_pretrained() if args.all else args.names
    if not names:
        parser.error(f"name a bundled Keras model ({', '.join(keras_pretrained())}) or --all")
    for name in names:
        print(make_twin(name, overwrite=args.overwrite), flush=True)


if __name__ == "__main__":
    main()
