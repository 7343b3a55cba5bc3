"""Does fine-tuning the bundled model pay? Against the same network trained from scratch.

    python benchmarks/fine_tune.py [PATH_TO_fer2013.zip] [--images 2000] [--epochs 10]

FER2013 remapped to three classes (negative: angry, disgust, fear, sad; positive: happy;
other: surprise, neutral); 2,000 training images drawn from Training (stratified, seed 0).
``EmotionClassifier.fine_tune`` trains the bundled model on them (a new 3-way head; once with
the backbone frozen, once the whole network); then the same architecture (``vgg_m``) is
trained from scratch on the same images for the same wall time as the whole-network
fine-tuning. All three are scored on PublicTest (``test/``) remapped the same way, with the
classifier's default test-time augmentation.
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
from _machine import FER2013_ZIP, describe_machine

from emorec import DEFAULT_TTA, EmotionClassifier, EmotionDataset, Trainer, evaluate

THREE = {
    "negative": ["angry", "disgust", "fear", "sad"],
    "positive": ["happy"],
    "other": ["surprise", "neutral"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(FER2013_ZIP))
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")
    print(describe_machine())
    import keras

    full = EmotionDataset.from_directory(args.data).map_labels(THREE)
    fraction = args.images / len(full["train"])
    small = full.split("subset", fraction=fraction, seed=0)
    data = EmotionDataset({"train": small["subset"], "test": full["test"]}, full.label_names)
    print(
        f"3-class FER2013: train {len(data['train'])} images "
        f"{data.class_counts('train')}; PublicTest {len(data['test'])} images; "
        f"tta={DEFAULT_TTA}"
    )
    clf = EmotionClassifier.load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for frozen in (True, False):
            start = time.perf_counter()
            tuned = clf.fine_tune(
                data,
                output_dir=f"{tmp}/ft_{frozen}",
                epochs=args.epochs,
                freeze_backbone=frozen,
                seed=0,
                verbose=0,
            )
            took = time.perf_counter() - start
            report = evaluate(tuned.model, data, "test", tta=DEFAULT_TTA)
            name = "fine-tune, frozen backbone" if frozen else "fine-tune, whole network"
            rows.append((name, took, report))
        budget = rows[-1][1]

        class TimeLimit(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):  # type: ignore[no-untyped-def]
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
                if time.perf_counter() - self.start >= budget:
                    self.model.stop_training = True

        start = time.perf_counter()
        scratch = Trainer(
            "vgg_m",
            data,
            epochs=1000,
            schedule="plateau",
            seed=0,
            output_dir=f"{tmp}/scratch",
            verbose=0,
            early_stopping_patience=None,
        )
        scratch.callbacks.append(TimeLimit())
        history = scratch.fit()
        took = time.perf_counter() - start
        best = keras.saving.load_model(f"{tmp}/scratch/best.keras")
        rows.append(
            (
                f"from scratch ({len(history.history['loss'])} epochs)",
                took,
                evaluate(best, data, "test", tta=DEFAULT_TTA),
            )
        )
    print(f"\n{'PublicTest, 3 classes':<34}{'time':>8}{'accuracy':>10}{'macro-F1':>10}")
    for name, took, report in rows:
        print(f"{name:<34}{took:>7.0f}s{report.accuracy:>10.1%}{report.macro_f1:>10.1%}")
    majority = np.bincount(data["test"].labels).max() / len(data["test"])
    print(f"{'(largest class alone)':<34}{'':>8}{majority:>10.1%}")


if __name__ == "__main__":
    main()
