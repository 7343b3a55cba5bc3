"""``ArrayBatches``: in-memory batches as a ``keras.utils.PyDataset`` (any Keras backend).

The TensorFlow path is :meth:`EmotionDataset.to_tf`; this is its backend-neutral twin, used by
the Trainer when Keras runs on JAX or PyTorch. Same batches, same preprocessing layers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..images import convert_batch


def _base() -> Any:
    import keras

    return keras.utils.PyDataset


class ArrayBatches(_base()):  # type: ignore[misc]
    """Batches ``(float32 images in 0..255, labels)`` drawn from uint8 arrays."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int,
        num_classes: int,
        image_size: tuple[int, int] | None = None,
        color_mode: str = "grayscale",
        augmenter: Any = None,
        shuffle: bool = False,
        seed: int | None = None,
        label_mode: str = "int",
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; expected a positive integer")
        self.images, self.labels = images, labels
        self.batch_size, self.num_classes = batch_size, num_classes
        self.image_size: tuple[int, int] | None = (
            None if image_size is None else (int(image_size[0]), int(image_size[1]))
        )
        self.color_mode, self.augmenter = color_mode, augmenter
        self.shuffle, self.label_mode = shuffle, label_mode
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(labels)) if shuffle else np.arange(len(labels))

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.labels))

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray]:
        import keras

        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        channels = 3 if self.color_mode == "rgb" else 1
        x: Any = convert_batch(self.images[idx], channels, self.image_size)
        if self.augmenter is not None:
            x = keras.ops.clip(self.augmenter(x, training=True), 0.0, 255.0)
        y = self.labels[idx]
        if self.label_mode == "categorical":
            y = np.eye(self.num_classes, dtype=np.float32)[y]
        else:
            y = y.astype(np.int32)
        return x, y
