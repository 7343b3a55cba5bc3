"""Splits that reference TFRecord shards instead of holding their images
(:meth:`EmotionDataset.from_shards <emorec.EmotionDataset.from_shards>`).

A :class:`ShardedSplit` is a :class:`~emorec.DatasetSplit` whose labels, soft targets and label
sets are in memory (read from the split's index) and whose :attr:`~ShardedSplit.images` is a
:class:`ShardedImages`: it knows its shape and dtype without reading anything, and reads the
images only when asked for them as an array. :meth:`ShardedSplit.to_tf` streams them instead:

1. the split's shard files (only those that hold its images), in a new order each epoch when
   shuffling, read by ``tf.data.TFRecordDataset`` and interleaved (8 at a time);
2. the records parsed (256 at a time), those of other splits carved from the same files left
   out, and, when shuffling, drawn from a buffer of still encoded records;
3. batched; each batch's PNGs decoded and its labels (or soft targets) looked up by the
   images' positions in the split;
4. converted to ``image_size`` and ``color_mode`` by :func:`emorec.data.pipeline.convert_images`
   (only when they differ from the stored ones), then cast, augmented and labelled as
   :func:`emorec.data.pipeline.to_tf` does.

Shuffling is thus by shard order, interleaving and a buffer, not over the whole split at once:
with the default buffer, a split of up to 10,000 small images is shuffled fully.

Examples
--------
>>> import tempfile, numpy as np
>>> from emorec import EmotionDataset
>>> ds = EmotionDataset.from_arrays(np.zeros((6, 8, 8), np.uint8), [0, 1, 2, 0, 1, 2])
>>> part = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp(), shards=3))["train"]
>>> part.images
ShardedImages(split 'train', 6 images of 8x8x1 in 3 shard files)
>>> x, y = next(iter(part.to_tf(num_classes=7, batch_size=4)))
>>> tuple(x.shape), y.numpy().tolist()
((4, 8, 8, 1), [0, 1, 2, 0])
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .splits import DatasetSplit

if TYPE_CHECKING:
    import tensorflow as tf

    from .pipeline import Augment, LabelMode

__all__ = ["InMemoryWarning", "ShardedImages", "ShardedSplit"]

#: Shards read at once when shuffling.
CYCLE_LENGTH = 8
#: The default shuffle buffer: at most this many records, and about this many bytes of them.
SHUFFLE_RECORDS, SHUFFLE_BYTES = 10_000, 64 << 20


class InMemoryWarning(UserWarning):
    """A sharded split's images are being read into memory as one array.

    Examples
    --------
    >>> import warnings
    >>> from emorec.data.sharded_split import InMemoryWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", InMemoryWarning)  # make reading a split whole an error
    """


@dataclass(frozen=True)
class ShardRecords:
    """The shard files of one split as written: their paths, in order, and records in each.

    Record ``i`` of the split (its ``index`` feature) is in the file whose cumulative count
    first exceeds ``i``.
    """

    split: str
    paths: tuple[str, ...]
    counts: tuple[int, ...]
    image_shape: tuple[int, ...]
    shard_bytes: int = 0
    shuffle_buffer: int | None = None

    @property
    def total(self) -> int:
        """Records in all the files."""
        return int(sum(self.counts))

    def buffer_size(self, n: int) -> int:
        """Records a shuffle of ``n`` of them draws from (``shuffle_buffer``, or the default)."""
        if self.shuffle_buffer is not None:
            return max(1, min(n, int(self.shuffle_buffer)))
        mean = self.shard_bytes / max(1, self.total)
        return max(1, min(n, SHUFFLE_RECORDS, max(256, int(SHUFFLE_BYTES // max(mean, 1.0)))))

    def paths_of(self, rows: npt.NDArray[np.int64]) -> list[str]:
        """The files that hold records ``rows``, in file order."""
        if len(rows) == self.total:
            return [p for p, n in zip(self.paths, self.counts) if n]
        ends = np.cumsum(self.counts)
        used = np.unique(np.searchsorted(ends, rows, side="right"))
        return [self.paths[i] for i in used.tolist()]


def _positions(records: ShardRecords, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
    """``positions[record index]``: where each record is in the split (-1: not in it); None
    when the split is all the records in their order."""
    if len(rows) == records.total and np.array_equal(rows, np.arange(records.total)):
        return None
    positions = np.full(records.total, -1, np.int64)
    positions[rows] = np.arange(len(rows))
    return positions


def _stream(
    records: ShardRecords,
    rows: npt.NDArray[np.int64],
    keys: Sequence[str],
    *,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Parsed records of the split as dicts: ``position`` (in the split) and ``keys``' bytes."""
    import tensorflow as tf

    paths = records.paths_of(rows)
    spec = {"index": tf.io.FixedLenFeature([], tf.int64)}
    spec.update({key: tf.io.FixedLenFeature([], tf.string) for key in keys})
    files = tf.data.Dataset.from_tensor_slices(paths)
    if shuffle and len(paths) > 1:
        files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        data = files.interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(len(paths), CYCLE_LENGTH),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    else:
        data = files.flat_map(tf.data.TFRecordDataset)
    positions = _positions(records, rows)
    table = None if positions is None else tf.constant(positions)

    def parse(batch: tf.Tensor) -> dict[str, tf.Tensor]:  # a batch at a time: 256 records
        ex = tf.io.parse_example(batch, spec)
        ex["position"] = ex["index"] if table is None else tf.gather(table, ex["index"])
        return ex

    data = data.batch(256).map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    data = data.unbatch()
    return data if table is None else data.filter(lambda ex: ex["position"] >= 0)


def _decode(images: tf.Tensor, shape: Sequence[int]) -> tf.Tensor:
    """A batch of PNG strings as uint8 ``(n, *shape)`` (one op for the batch)."""
    import tensorflow as tf

    def one(png: tf.Tensor) -> tf.Tensor:
        return tf.io.decode_png(png, shape[-1])

    out = tf.map_fn(
        one, images, fn_output_signature=tf.TensorSpec((None, None, shape[-1]), tf.uint8)
    )
    return tf.ensure_shape(out, (None, *shape))


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable), if known."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


class ShardedImages:
    """The images of a :class:`ShardedSplit`: an array-like that reads them only when asked.

    ``shape``, ``dtype``, ``ndim``, ``nbytes`` and ``len()`` come from the manifest.
    Indexing (``images[:100]``, ``images[[3, 7]]``, ``images[5]``) reads just those images
    into an array. ``numpy.asarray(images)`` reads the whole split into memory, with an
    :class:`InMemoryWarning` naming its size, and raises ``MemoryError`` when that is more than
    the memory available: stream a large split with :meth:`ShardedSplit.to_tf` (what the
    Trainer does) instead. Evaluation and the Trainer's calibration take a split's images as
    one array, so they read them (the validation split, usually small).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> ds = EmotionDataset.from_arrays(np.arange(3)[:, None, None] * np.ones((3, 4, 4)), [0, 1, 2])
    >>> images = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp()))["train"].images
    >>> images.shape, images.dtype.name, int(images[2].max()), images[[0, 2]].shape
    ((3, 4, 4, 1), 'uint8', 2, (2, 4, 4, 1))
    """

    def __init__(self, records: ShardRecords, rows: npt.ArrayLike) -> None:
        self.records = records
        #: The split's records (their ``index`` feature), in the split's order.
        self.rows = np.asarray(rows, np.int64)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n, height, width, channels)``."""
        return (len(self.rows), *self.records.image_shape)

    dtype = np.dtype(np.uint8)
    ndim = 4

    @property
    def nbytes(self) -> int:
        """Bytes the images take as one uint8 array."""
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.rows)

    def batches(self, size: int = 1024) -> Iterator[tuple[npt.NDArray[np.int64], np.ndarray]]:
        """Stream ``(positions, uint8 images)`` in chunks of ``size``, in the files' order
        (``positions`` are the images' places in the split).

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from emorec import EmotionDataset
        >>> ds = EmotionDataset.from_arrays(np.zeros((3, 4, 4), np.uint8), [0, 1, 2])
        >>> images = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp()))["train"].images
        >>> [(p.tolist(), x.shape) for p, x in images.batches(2)]
        [([0, 1], (2, 4, 4, 1)), ([2], (1, 4, 4, 1))]
        """
        import tensorflow as tf

        shape = self.records.image_shape

        def decode(ex: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
            return ex["position"], _decode(ex["image"], shape)

        data = _stream(self.records, self.rows, ["image"]).batch(size)
        data = data.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        yield from data.prefetch(2).as_numpy_iterator()

    def __iter__(self) -> Iterator[np.ndarray]:
        """The images one by one, in the split's order: streamed when that is the files'
        order (as written, or carved), else read into memory first."""
        if np.all(np.diff(self.rows) > 0):
            for _, images in self.batches():
                yield from images
        else:
            yield from np.asarray(self)

    def _read(self) -> npt.NDArray[np.uint8]:
        out = np.empty(self.shape, np.uint8)
        for positions, images in self.batches():
            out[positions] = images
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        need, have = self.nbytes, _available_memory()
        where = f"split {self.records.split!r}: its {len(self):,} images"
        if have is not None and need > have:
            raise MemoryError(
                f"{where} take {_mib(need)} as one array, more than the {_mib(have)} of memory "
                "available; stream them with EmotionDataset.to_tf instead of asking for .images"
            )
        warnings.warn(
            f"{where} are read from the shards into memory ({_mib(need)}); "
            "EmotionDataset.to_tf streams them instead",
            InMemoryWarning,
            stacklevel=2,
        )
        images = self._read()
        return images if dtype is None else images.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        wanted = np.arange(len(self))[key]
        single = np.ndim(wanted) == 0
        unique, inverse = np.unique(np.atleast_1d(wanted), return_inverse=True)
        images = ShardedImages(self.records, self.rows[unique])._read()[inverse.reshape(-1)]
        return images[0] if single else images

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.records.image_shape))
        files = len(self.records.paths_of(self.rows))
        return (
            f"ShardedImages(split {self.records.split!r}, {len(self):,} images of {shape} in "
            f"{files} shard files)"
        )


class ShardedSplit(DatasetSplit):
    """A :class:`~emorec.DatasetSplit` whose images stay in TFRecord shards.

    Made by :meth:`EmotionDataset.from_shards <emorec.EmotionDataset.from_shards>`.
    ``labels``, ``targets`` and ``label_sets`` are arrays in memory; ``images`` is a
    :class:`ShardedImages`; ``sources`` are read from the records when first asked for.
    :meth:`take` (what carving a validation split and dropping duplicates use) gives another
    sharded split over the same files.

    Parameters
    ----------
    name : str
        The split's name.
    records : ShardRecords
        The files it reads.
    rows : array_like
        The records it holds (their ``index`` feature), in its order, each once.
    labels, label_names, targets, label_sets
        As in :class:`~emorec.DatasetSplit`, one row per entry of ``rows``.
    sources : tuple of str, optional
        Where each image came from, if already known.

    Raises
    ------
    ValueError
        For a record given twice, or arrays of other lengths than ``rows``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> ds = EmotionDataset.from_arrays(np.zeros((4, 4, 4), np.uint8), [0, 1, 2, 3])
    >>> part = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp()))["train"]
    >>> few = part.take([3, 1], "few")
    >>> few, few.labels.tolist(), few.sources
    (DatasetSplit('few', 2 images of 4x4x1), [3, 1], ('<array>[3]', '<array>[1]'))
    """

    def __init__(
        self,
        name: str,
        records: ShardRecords,
        rows: npt.ArrayLike,
        labels: npt.ArrayLike,
        label_names: Sequence[str],
        targets: npt.ArrayLike | None = None,
        label_sets: Mapping[str, npt.ArrayLike] | None = None,
        *,
        sources: Sequence[str] | None = None,
    ) -> None:
        images = ShardedImages(records, rows)
        if len(np.unique(images.rows)) != len(images.rows):
            raise ValueError(
                f"split {name!r}: a sharded split streams each record once, and these rows "
                "repeat some; read the images into memory (EmotionDataset.from_arrays) to "
                "repeat images"
            )
        labels = np.asarray(labels, np.int64)
        if labels.shape != (len(images),):
            raise ValueError(f"split {name!r}: {len(images)} images but {labels.shape} labels")
        fields = {
            "name": name,
            "images": images,
            "labels": labels,
            "label_names": tuple(label_names),
            "targets": None if targets is None else np.asarray(targets, np.float32),
            "label_sets": {k: np.asarray(v, np.int64) for k, v in (label_sets or {}).items()},
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_sources", None if sources is None else tuple(sources))
        self.__post_init__()

    @property
    def records(self) -> ShardRecords:
        """The files the split reads."""
        images: ShardedImages = self.images  # type: ignore[assignment]
        return images.records

    @property
    def rows(self) -> npt.NDArray[np.int64]:
        """The records the split holds, in its order."""
        images: ShardedImages = self.images  # type: ignore[assignment]
        return images.rows

    @property
    def sources(self) -> tuple[str, ...]:
        """Where each image came from, read from the records the first time."""
        known: tuple[str, ...] | None = self.__dict__.get("_sources")
        if known is None:
            found = [""] * len(self)
            for ex in _stream(self.records, self.rows, ["source"]).batch(4096):
                for position, source in zip(ex["position"].numpy(), ex["source"].numpy()):
                    found[int(position)] = source.decode()
            known = tuple(found)
            object.__setattr__(self, "_sources", known)
        return known

    def take(self, idx: npt.ArrayLike, name: str | None = None) -> ShardedSplit:
        """The images at ``idx`` as a sharded split called ``name`` (default: this one's).

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from emorec import EmotionDataset
        >>> ds = EmotionDataset.from_arrays(np.zeros((3, 4, 4), np.uint8), [0, 1, 2])
        >>> part = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp()))["train"]
        >>> part.take([2, 0]).labels.tolist()
        [2, 0]
        """
        idx = np.asarray(idx, np.int64)
        known: tuple[str, ...] | None = self.__dict__.get("_sources")
        return ShardedSplit(
            self.name if name is None else name,
            self.records,
            self.rows[idx],
            self.labels[idx],
            self.label_names,
            None if self.targets is None else self.targets[idx],
            {k: v[idx] for k, v in self.label_sets.items()},
            sources=None if known is None else [known[i] for i in idx.tolist()],
        )

    def to_tf(
        self,
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
        """Stream the split as :func:`emorec.data.pipeline.to_tf` feeds arrays: batches of
        ``(float32 images in 0..255, labels)``, the steps of this module's documentation.

        The parameters are :func:`emorec.data.pipeline.to_tf`'s; ``targets`` defaults to the
        split's own. Unshuffled, images come in the files' order (the split's order, unless
        :meth:`take` reordered it).
        """
        import tensorflow as tf

        from ..pixels import InputSpec
        from .augment import make_augmenter
        from .pipeline import batch_preparer, check_feed, convert_images

        soft = self.targets if targets is None else targets
        check_feed(batch_size, label_mode, soft, len(self))
        h, w, c = self.records.image_shape
        spec = InputSpec.from_mode((h, w) if image_size is None else image_size, color_mode)
        augmenter = make_augmenter(augment, seed)
        y_all = np.asarray(soft, np.float32) if label_mode == "probability" else self.labels
        table = tf.constant(y_all)

        def decode(ex: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
            return _decode(ex["image"], (h, w, c)), tf.gather(table, ex["position"])

        def convert(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            to = (spec.size, spec.color_mode)
            x = tf.numpy_function(lambda b: convert_images(b, *to), [x], tf.uint8, stateful=False)
            return tf.ensure_shape(x, (None, *spec.shape)), y

        prepare = batch_preparer(augmenter, label_mode, num_classes)

        data = _stream(self.records, self.rows, ["image"], shuffle=shuffle, seed=seed)
        if shuffle:
            size = self.records.buffer_size(len(self))
            data = data.shuffle(size, seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size, drop_remainder=drop_remainder)
        data = data.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        # the number of batches, which a stream of records does not know (Keras's progress)
        n = len(self) // batch_size if drop_remainder else -(-len(self) // batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(n))
        if spec.shape != (h, w, c):
            data = data.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if seed is not None and augmenter is not None:
            data = data.map(prepare)  # sequential, as emorec.data.pipeline explains
        else:
            data = data.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return data.prefetch(tf.data.AUTOTUNE)


def keep_lazy(splits: Mapping[str, DatasetSplit]) -> dict[str, DatasetSplit]:
    """``splits``, with each plain split built on a sharded one's images (as
    :meth:`EmotionDataset.map_labels <emorec.EmotionDataset.map_labels>` builds them) made a
    :class:`ShardedSplit` again, so that its images stay in the files.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import DatasetSplit, EmotionDataset
    >>> ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1], ["a", "b"])
    >>> part = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp()))["train"]
    >>> plain = DatasetSplit("train", part.images, np.array([1, 0]), ("x", "y"))
    >>> type(keep_lazy({"train": plain})["train"]).__name__
    'ShardedSplit'
    """
    out: dict[str, DatasetSplit] = {}
    for key, part in splits.items():
        images = part.images
        if isinstance(images, ShardedImages) and not isinstance(part, ShardedSplit):
            part = ShardedSplit(
                part.name,
                images.records,
                images.rows,
                part.labels,
                part.label_names,
                part.targets,
                part.label_sets,
                sources=part.sources or None,
            )
        out[key] = part
    return out
