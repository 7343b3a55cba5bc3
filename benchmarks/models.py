"""Parameter count and CPU speed of every built-in architecture.

    python benchmarks/models.py [--batch 64] [--steps 20] [--size 48]

For each registered built-in family: parameters, model-file size, training throughput
(``train_on_batch`` on random 48x48 grey images, batch 64, after warm-up) and batched
inference throughput (``predict_on_batch``, batch 256), in images per second on this machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import describe_machine, rate

from emorec import build_model

FAMILIES = ["seed_cnn", "vgg_s", "vgg_m", "mini_xception", "resnet_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    print(describe_machine())
    import keras
    import tensorflow as tf

    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; input "
        f"{args.size}x{args.size}x1; train batch {args.batch}, inference batch 256"
    )
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.batch, args.size, args.size, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 7, args.batch), 7)
    xi = rng.integers(0, 256, (256, args.size, args.size, 1)).astype("float32")
    print(f"{'model':<14}{'parameters':>12}{'file MB':>9}{'train img/s':>13}{'infer img/s':>13}")
    for name in FAMILIES:
        model = build_model(name, input_shape=(args.size, args.size, 1))
        with tempfile.TemporaryDirectory() as tmp:
            model.save(f"{tmp}/m.keras")
            size_mb = os.path.getsize(f"{tmp}/m.keras") / 1e6
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "categorical_crossentropy")
        train = rate(lambda m=model: m.train_on_batch(x, y), args.batch, args.seconds)
        infer = rate(lambda m=model: m.predict_on_batch(xi), 256, args.seconds)
        print(f"{name:<14}{model.count_params():>12,}{size_mb:>9.1f}{train:>13,.0f}{infer:>13,.0f}")


if __name__ == "__main__":
    main()
