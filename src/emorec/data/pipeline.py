"""Feeding images to training: a ``tf.data`` pipeline and its backend-neutral Keras twin.

:func:`to_tf` (what :meth:`EmotionDataset.to_tf` returns, used by the Trainer on TensorFlow)
and :class:`ArrayBatches` (a ``keras.utils.PyDataset``, what :meth:`EmotionDataset.to_keras`
returns, used on JAX or PyTorch) give the same batches of ``(float32 images in 0..255,
labels)``:

1. The stored uint8 images are converted to the requested ``image_size`` and ``color_mode``
   once, up front, by :func:`convert_images`, i.e. by :func:`emorec.pixels.to_model_input`,
   the pixel contract that serving uses too. Images already at that size and mode are not
   copied.
2. Per batch they are cast to float32 (still 0..255) and, if asked, augmented by Keras
   preprocessing layers (:func:`emorec.data.augment.make_augmenter`), clipped to 0..255.
3. Labels are int32, one-hot float32 with ``label_mode="categorical"``, or the split's soft
   targets (float32 rows that sum to 1, such as FER+'s vote distributions) with
   ``label_mode="probability"``.

Keras' random layers keep their state in a variable, so a seeded, augmenting ``tf.data``
pipeline maps its batches sequentially (still prefetched): parallel calls would draw in a racy
order and the seed would not give the same augmentations twice.

Examples
--------
>>> import numpy as np
>>> from emorec.data.pipeline import ArrayBatches
>>> batches = ArrayBatches(np.zeros((5, 96, 96, 3), np.uint8), np.arange(5), batch_size=4,
...                        num_classes=7, image_size=(48, 48), color_mode="grayscale")
>>> x, y = batches[0]
>>> len(batches), x.shape, x.dtype.name, y.tolist()
(2, (4, 48, 48, 1), 'float32', [0, 1, 2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import keras
import numpy as np
import numpy.typing as npt

from ..pixels import InputSpec, to_model_input
from .augment import make_augmenter

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "ArrayBatches",
    "Augment",
    "LabelMode",
    "batch_preparer",
    "check_feed",
    "convert_images",
    "to_tf",
]

#: How to augment: ``True`` (the default augmentation), a dict of its options, a callable
#: (such as a ``keras.Sequential`` of preprocessing layers), or ``False``/``None`` for none.
Augment = bool | dict[str, Any] | Callable[..., Any] | None

#: Integer labels, one-hot float32 vectors, or soft targets (a split's ``targets``).
LabelMode = Literal["int", "categorical", "probability"]


def convert_images(
    images: npt.NDArray[np.uint8], image_size: tuple[int, int] | None, color_mode: str
) -> npt.NDArray[np.uint8]:
    """Stored uint8 images ``(n, h, w, 1 | 3)`` at ``image_size`` (default: theirs) and mode.

    This is :func:`emorec.pixels.to_model_input`; both feeds call it once per split.

    Raises
    ------
    ValueError
        For a ``color_mode`` other than ``"grayscale"`` or ``"rgb"``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.pipeline import convert_images
    >>> convert_images(np.zeros((2, 100, 100, 3), np.uint8), (48, 48), "grayscale").shape
    (2, 48, 48, 1)
    """
    size = images.shape[1:3] if image_size is None else image_size
    return to_model_input(images, InputSpec.from_mode(size, color_mode))


def check_feed(batch_size: int, label_mode: str, targets: Any, n: int) -> None:
    """Check a feed's batch size, label mode and soft targets (for ``n`` images), raising a
    ``ValueError`` that says what to pass.

    Examples
    --------
    >>> from emorec.data.pipeline import check_feed
    >>> check_feed(32, "categorical", None, 10)
    >>> check_feed(32, "probability", None, 10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: label_mode='probability' needs soft targets, and this split has none; ...
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive integer")
    if label_mode not in ("int", "categorical", "probability"):
        raise ValueError(
            f"label_mode={label_mode!r}; expected 'int', 'categorical' or 'probability'"
        )
    if label_mode == "probability" and targets is None:
        raise ValueError(
            "label_mode='probability' needs soft targets, and this split has none; read FER+ "
            "votes with EmotionDataset.from_csv(..., ferplus=..., ferplus_mode='probability'), "
            "or use label_mode='categorical'"
        )
    if targets is not None and np.shape(targets)[0] != n:
        raise ValueError(f"{n} images but {np.shape(targets)[0]} rows of targets")


def _augment(augmenter: Callable[..., Any], x: Any) -> Any:
    """Call an augmenter in training mode (Keras layers need ``training=True`` to act)."""
    if isinstance(augmenter, keras.layers.Layer):
        return augmenter(x, training=True)
    return augmenter(x)


def batch_preparer(
    augmenter: Callable[..., Any] | None, label_mode: str, num_classes: int
) -> Callable[[Any, Any], tuple[Any, Any]]:
    """The ``tf.data`` map of a batch of uint8 images and labels: float32 images, augmented
    (clipped to 0..255) when there is an augmenter, labels as ``label_mode`` asks (one-hot,
    int32, or the soft targets as they are). Shared by :func:`to_tf` and the sharded splits'
    stream (:class:`emorec.data.sharded_split.ShardedSplit`).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.pipeline import batch_preparer
    >>> prepare = batch_preparer(None, "categorical", num_classes=3)
    >>> x, y = prepare(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 2]))
    >>> x.dtype.name, y.numpy().tolist()
    ('float32', [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    """
    import tensorflow as tf

    def prepare(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.cast(x, tf.float32)
        if augmenter is not None:
            x = tf.clip_by_value(_augment(augmenter, x), 0.0, 255.0)
        if label_mode == "categorical":
            y = tf.one_hot(y, num_classes)
        elif label_mode == "int":
            y = tf.cast(y, tf.int32)
        return x, y

    return prepare


def to_tf(
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.integer],
    *,
    num_classes: int,
    batch_size: int = 32,
    image_size: tuple[int, int] | None = None,
    color_mode: str = "grayscale",
    augment: Augment = False,
    shuffle: bool = False,
    seed: int | None = None,
    label_mode: LabelMode = "int",
    drop_remainder: bool = False,
    targets: npt.NDArray[np.floating] | None = None,
) -> tf.data.Dataset:
    """A batched, prefetched ``tf.data.Dataset`` of ``(float32 images in 0..255, labels)``.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 ``(n, h, w, 1 | 3)``.
    labels : numpy.ndarray
        Integer class indices ``(n,)``.
    num_classes : int
        Length of the one-hot vectors with ``label_mode="categorical"``.
    batch_size, image_size, color_mode, augment, shuffle, seed, label_mode, drop_remainder
        As in :meth:`emorec.EmotionDataset.to_tf`; ``shuffle`` reshuffles every epoch.
    targets : numpy.ndarray, optional
        Soft targets ``(n, num_classes)``, the labels of ``label_mode="probability"``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.pipeline import to_tf
    >>> data = to_tf(np.zeros((5, 48, 48, 1), np.uint8), np.arange(5), num_classes=7,
    ...              batch_size=4, color_mode="rgb", label_mode="categorical")
    >>> x, y = next(iter(data))
    >>> tuple(x.shape), x.dtype.name, tuple(y.shape)
    ((4, 48, 48, 3), 'float32', (4, 7))
    """
    import tensorflow as tf

    check_feed(batch_size, label_mode, targets, len(images))
    x_all = convert_images(images, image_size, color_mode)
    augmenter = make_augmenter(augment, seed)

    prepare = batch_preparer(augmenter, label_mode, num_classes)
    y_all = np.asarray(targets, np.float32) if label_mode == "probability" else np.asarray(labels)
    data = tf.data.Dataset.from_tensor_slices((x_all, y_all))
    if shuffle:
        data = data.shuffle(len(x_all), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size, drop_remainder=drop_remainder)
    if seed is not None and augmenter is not None:
        data = data.map(prepare)  # sequential: see the module's docstring
    else:
        data = data.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return data.prefetch(tf.data.AUTOTUNE)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of ``(float32 images in 0..255, labels)`` from uint8 arrays, for any backend.

    The same batches as :func:`to_tf` (the order of shuffled batches aside), as a
    ``keras.utils.PyDataset`` that ``model.fit`` takes on JAX, PyTorch or TensorFlow.
    Augmentation runs the same Keras preprocessing layers, on the backend's device.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 ``(n, h, w, 1 | 3)``; converted once, up front, by :func:`convert_images`.
    labels : numpy.ndarray
        Integer class indices ``(n,)``.
    batch_size : int
        Images per batch; the last batch may be smaller.
    num_classes : int
        Length of the one-hot vectors with ``label_mode="categorical"``.
    image_size, color_mode, augment, seed, label_mode, targets
        As in :func:`to_tf`.
    shuffle : bool
        Draw a new order each epoch (at ``on_epoch_end``) from a generator seeded by ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.pipeline import ArrayBatches
    >>> feed = ArrayBatches(np.zeros((6, 8, 8, 1), np.uint8), np.arange(6) % 2, batch_size=4,
    ...                     num_classes=2, shuffle=True, seed=0, label_mode="categorical")
    >>> [feed[i][1].shape for i in range(len(feed))]
    [(4, 2), (2, 2)]
    """

    def __init__(
        self,
        images: npt.NDArray[np.uint8],
        labels: npt.NDArray[np.integer],
        *,
        batch_size: int,
        num_classes: int,
        image_size: tuple[int, int] | None = None,
        color_mode: str = "grayscale",
        augment: Augment = False,
        shuffle: bool = False,
        seed: int | None = None,
        label_mode: LabelMode = "int",
        targets: npt.NDArray[np.floating] | None = None,
    ) -> None:
        super().__init__()
        check_feed(batch_size, label_mode, targets, len(images))
        self.targets = None if targets is None else np.asarray(targets, np.float32)
        self.images = convert_images(images, image_size, color_mode)
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        self.batch_size, self.num_classes = int(batch_size), num_classes
        self.augmenter = make_augmenter(augment, seed)
        self.shuffle, self.label_mode = shuffle, label_mode
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self) -> npt.NDArray[np.intp]:
        n = len(self.labels)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.labels) / self.batch_size)

    def on_epoch_end(self) -> None:
        """Draw the next epoch's order (when shuffling)."""
        if self.shuffle:
            self._order = self._new_order()

    def __getitem__(self, index: int) -> tuple[Any, npt.NDArray[Any]]:
        """Batch ``index``: float32 images in 0..255 (a backend tensor when augmented), labels."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x: Any = self.images[idx].astype(np.float32)
        if self.augmenter is not None:
            x = keras.ops.clip(_augment(self.augmenter, x), 0.0, 255.0)
        y = self.labels[idx]
        if self.label_mode == "probability":
            assert self.targets is not None
            return x, self.targets[idx]
        if self.label_mode == "categorical":
            return x, np.eye(self.num_classes, dtype=np.float32)[y]
        return x, y.astype(np.int32)
