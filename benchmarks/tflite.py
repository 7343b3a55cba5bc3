"""The bundled models and TFLite exports against ``fer``'s models: accuracy and crops/s.

    python benchmarks/tflite.py [PATH_TO_fer2013.zip] [--model NAME_OR_FILE] [--fast NAME]
        [--representative 500] [--fer-python PATH | --no-fer]

Measures, in one run on the 3,589 FER2013 PublicTest crops: the default model (``--model``)
and the bundled fast model (``--fast``, ``fer2013_vgg_m_int8``) as users call them,
``EmotionClassifier.predict_proba`` at the test-time augmentation each applies by default
(the card's ``tta``). Then exports ``--model`` with :meth:`emorec.EmotionClassifier.export`
as float32 TFLite and as int8 TFLite (``quantize="int8"``), calibrated on
``--representative`` crops drawn from FER2013 Training (seed 0, never PublicTest), and runs
each with ``tf.lite.Interpreter`` (2 threads, batches of 256, no test-time augmentation),
beside the Keras model (``predict_model_input``, no TTA) and, in the same run, ``fer``'s
bundled ``emotion_model_quantized.tflite`` (its default since 25.10) and Keras model on the
same crops (``_fer_peer.py classify``). Reports accuracy, file size and crops/s (the whole
split, after one warm-up batch).
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

from emorec import EmotionClassifier, EmotionDataset
from emorec.inference import predict_model_input
from emorec.labels import LABELS, canonical_label
from emorec.models import resolve_model
from emorec.models.card import DEFAULT_PRETRAINED


def run_tflite(path: Path, x: np.ndarray, batch: int = 256) -> tuple[np.ndarray, float]:
    """Probabilities for ``x`` (float32 model input) and crops/s through a TFLite file."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=2)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def call(chunk: np.ndarray) -> np.ndarray:
        interpreter.resize_tensor_input(inp["index"], chunk.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], chunk)
        interpreter.invoke()
        return interpreter.get_tensor(out["index"]).copy()

    call(x[:batch])
    start = time.perf_counter()
    probs = np.concatenate([call(x[i : i + batch]) for i in range(0, len(x), batch)])
    return probs, len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--model", default=DEFAULT_PRETRAINED)
    parser.add_argument("--fast", default="fer2013_vgg_m_int8", help="the fast bundled model")
    parser.add_argument("--representative", type=int, default=500)
    add_fer_python_argument(parser)
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    print(describe_machine())
    ds = EmotionDataset.from_directory(args.data, progress_bar=None)
    order = np.array([LABELS.index(canonical_label(n)) for n in ds.label_names])
    test_images = np.asarray(ds["test"].images)
    labels = order[np.asarray(ds["test"].labels)]
    train = np.asarray(ds["train"].images)
    chosen = np.random.default_rng(0).choice(len(train), args.representative, replace=False)
    clf = EmotionClassifier.load(args.model)
    x = test_images if test_images.ndim == 4 else test_images[..., None]
    rows = []

    start = time.perf_counter()
    keras_probs = predict_model_input(clf.model, x[:256])
    start = time.perf_counter()
    keras_probs = predict_model_input(clf.model, x, temperature=clf.temperature)
    keras_rate = len(x) / (time.perf_counter() - start)
    rows.append(("emorec Keras (float32)", keras_probs, keras_rate, None))
    bundled = []
    for name in (args.model, args.fast):
        model = EmotionClassifier.load(name)
        model.predict_proba(test_images[:256])
        start = time.perf_counter()
        probs = model.predict_proba(test_images)
        rate = len(x) / (time.perf_counter() - start)
        size = resolve_model(name).stat().st_size
        bundled.append((f"{Path(name).stem} (tta={model.tta})", probs, rate, size))
    with tempfile.TemporaryDirectory() as tmp:
        float_path = clf.export(Path(tmp) / "float.tflite", "tflite")
        int8_path = clf.export(
            Path(tmp) / "int8.tflite", "tflite", quantize="int8", representative=train[chosen]
        )
        for name, path in (
            ("emorec TFLite float32", float_path),
            ("emorec TFLite int8", int8_path),
        ):
            probs, rate = run_tflite(path, x.astype(np.float32))
            rows.append((name, probs, rate, path.stat().st_size))
        peer = None if args.no_fer else args.fer_python
        fer_rows = []
        if peer:
            np.savez(Path(tmp) / "crops.npz", images=test_images)
            answer = run_peer(
                peer, "classify", str(Path(tmp) / "crops.npz"), "--out", str(Path(tmp) / "p.npz")
            )
            if answer is not None:
                fer_order = np.array([LABELS.index(canonical_label(n)) for n in answer["labels"]])
                arrays = np.load(Path(tmp) / "p.npz")
                for kind in ("tflite", "keras"):
                    fer_rows.append(
                        (
                            f"fer {answer['versions']['fer']} {kind}",
                            fer_order[arrays[kind].argmax(axis=1)],
                            len(x) / answer["seconds"][kind],
                        )
                    )
    print(
        f"FER2013 PublicTest ({len(labels)} crops); the bundled models as users call them "
        "(EmotionClassifier.predict_proba, batches of 256, their default TTA):"
    )
    for name, probs, rate, size in bundled:
        acc = float(np.mean(probs.argmax(axis=1) == labels))
        print(f"  {name:<36} accuracy {acc:6.2%}  {size / 1e6:5.2f} MB  {rate:7,.0f} crops/s")
    print(
        f"{clf.model.name} ({clf.model.count_params():,} parameters) exported, no TTA; int8 "
        f"calibrated on {args.representative} Training crops:"
    )
    base = None
    for name, probs, rate, size in rows:
        acc = float(np.mean(probs.argmax(axis=1) == labels))
        base = base if base is not None else acc
        agree = float(np.mean(probs.argmax(axis=1) == rows[0][1].argmax(axis=1)))
        size_text = f"{size / 1e6:5.2f} MB" if size else "        "
        print(
            f"  {name:<28} accuracy {acc:6.2%} ({100 * (acc - base):+.2f})  {size_text}  "
            f"{rate:7,.0f} crops/s  (same answer as Keras: {agree:.1%})"
        )
    for name, predicted, rate in fer_rows:
        acc = float(np.mean(predicted == labels))
        print(f"  {name:<28} accuracy {acc:6.2%}            {'':8}  {rate:7,.0f} crops/s")
    if fer_rows:
        fast_acc = float(np.mean(bundled[1][1].argmax(axis=1) == labels))
        fer_acc = float(np.mean(fer_rows[0][1] == labels))
        print(
            f"fast model against fer's TFLite: {100 * (fast_acc - fer_acc):+.1f} points, "
            f"{bundled[1][2] / fer_rows[0][2]:.2f}x the crops/s"
        )


if __name__ == "__main__":
    main()
