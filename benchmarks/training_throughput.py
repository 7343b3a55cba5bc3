"""Does the input pipeline slow training? ``fit`` img/s with the real pipeline vs in-memory.

    python benchmarks/training_throughput.py [--model vgg_s] [--images 6400] [--epochs 2]

Trains the same model for the same number of steps twice on 48x48 grey images: once fed by
``EmotionDataset.to_tf(augment=True)`` (shuffling, augmentation layers, batching, prefetch),
once on one pre-made batch of tensors repeated (no pipeline at all). Reports both rates and
the overhead; the target is at most 5 % on 2 cores. The first epoch of each (tracing) is not
counted.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import describe_machine

from emorec import EmotionDataset, build_model


class Timer:
    def __init__(self) -> None:
        import keras

        class _T(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.times: list[float] = []
                self._start = 0.0

            def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
                self.times.append(time.perf_counter() - self._start)

        self.callback = _T()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg_s")
    parser.add_argument("--images", type=int, default=6400)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    print(describe_machine())
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 48, 48), np.uint8)
    labels = rng.integers(0, 7, args.images)
    ds = EmotionDataset.from_arrays(images, labels)
    steps = args.images // args.batch

    def run(data, label: str) -> float:
        keras.utils.set_random_seed(0)
        model = build_model(args.model)
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "categorical_crossentropy")
        timer = Timer().callback
        model.fit(data, epochs=args.epochs, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        rate = steps * args.batch / float(np.median(timer.times[1:]))
        print(
            f"  {label:<44} {rate:8,.0f} img/s  (epochs: "
            + ", ".join(f"{t:.1f} s" for t in timer.times)
            + ")"
        )
        return rate

    print(
        f"{args.model}, {steps} steps of {args.batch} a epoch, {args.epochs} epochs "
        "(first not counted):"
    )
    x = tf.constant(images[: args.batch, ..., None].astype("float32"))
    y = tf.constant(keras.utils.to_categorical(labels[: args.batch], 7))
    memory = tf.data.Dataset.from_tensors((x, y)).repeat()
    base = run(memory, "in-memory tensors (no pipeline)")
    piped = ds.to_tf("train", args.batch, augment=True, label_mode="categorical").repeat()
    real = run(piped, "EmotionDataset.to_tf(augment=True)")
    seeded = ds.to_tf("train", args.batch, augment=True, seed=0, label_mode="categorical")
    seeded_rate = run(seeded.repeat(), "EmotionDataset.to_tf(augment=True, seed=0)")
    for label, value in (("unseeded", real), ("seeded", seeded_rate)):
        print(
            f"pipeline overhead ({label}): {100 * (1 - value / base):.1f} % (target: at most 5 %)"
        )


if __name__ == "__main__":
    main()
