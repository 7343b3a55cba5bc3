"""Datasets larger than memory: an :class:`~emorec.EmotionDataset` written as TFRecord shards
with a manifest (:meth:`EmotionDataset.to_shards <emorec.EmotionDataset.to_shards>`), and read
back as splits that reference the files (:meth:`EmotionDataset.from_shards
<emorec.EmotionDataset.from_shards>`, :class:`~emorec.data.sharded_split.ShardedSplit`).

A shard folder holds:

- ``<split>-<k>.tfrecord``: TFRecord files of ``tf.train.Example`` records, one per image, with
  the features ``image`` (the face as PNG bytes, grey or RGB, lossless), ``label`` (int64 index
  into the label names), ``index`` (its position in the split as written), ``source`` and
  ``split`` (bytes), ``targets`` (float list, the soft targets such as FER+'s vote
  distribution, when the split has them) and ``label_set/<name>`` (int64, the other labellings
  such as ``fer2013`` and ``ferplus``, -1 for none). Any TFRecord reader can read them.
- ``<split>-index.npz``: the split's labels, soft targets and label sets as arrays, so that
  ``len()``, class counts, class weights and carving a validation split need no image.
- ``manifest.json``: format name and version, label names, and per split the image count,
  class counts, image shape and the files with their sizes and SHA-256 digests. It is written
  last: a folder without it is not a dataset (an interrupted write leaves none).

Files are written under temporary names and renamed when all are complete; a folder that is
not empty is refused unless ``overwrite=True``, which replaces the files the old manifest
lists (and leftovers of interrupted writes) and leaves any other file alone.

Paths with a scheme (``gs://bucket/faces``, ``s3://...``) go through TensorFlow's filesystem,
``tf.io.gfile``, which reads and writes them where the installed TensorFlow supports that
scheme; local paths go through the operating system.

Examples
--------
>>> import tempfile, numpy as np
>>> from emorec.data.shards import read_manifest, write_shards
>>> from emorec import EmotionDataset
>>> ds = EmotionDataset.from_arrays(np.zeros((5, 8, 8), np.uint8), [0, 1, 2, 3, 3])
>>> folder = write_shards(ds, tempfile.mkdtemp(), shards=2)
>>> train = read_manifest(folder)["splits"]["train"]
>>> train["count"], [shard["records"] for shard in train["shards"]]
(5, [3, 2])
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._version import __version__
from .shard_files import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    exists,
    join,
    load_json,
    open_file,
    sha256,
    size,
)
from .shard_writer import ShardWriter
from .sharded_split import ShardedImages, ShardedSplit, ShardRecords

if TYPE_CHECKING:
    from .dataset import EmotionDataset

# FORMAT, FORMAT_VERSION and MANIFEST (the format's names) are importable from here too;
# to_shards and from_shards are EmotionDataset's methods.
__all__ = ["ShardWriter", "read_manifest", "read_shards", "write_shards"]


# ------------------------------------------------------------------------------- writing
def _image_batches(images: Any, size: int = 1024) -> Iterator[tuple[npt.NDArray[Any], Any]]:
    """``(positions, images)`` chunks of a split's images, streamed when they are sharded."""
    if isinstance(images, ShardedImages):
        yield from images.batches(size)
        return
    for start in range(0, len(images), size):
        yield np.arange(start, min(start + size, len(images))), images[start : start + size]


def write_shards(
    dataset: EmotionDataset,
    directory: str | os.PathLike[str],
    shards: int = 1,
    *,
    splits: Sequence[str] | None = None,
    overwrite: bool = False,
) -> str:
    """Write ``dataset`` (all splits, or ``splits``) into ``directory`` as ``shards`` TFRecord
    files a split plus a manifest: what :meth:`EmotionDataset.to_shards
    <emorec.EmotionDataset.to_shards>` does (the format: this module's documentation).

    Raises
    ------
    ValueError
        For ``shards`` below 1.
    KeyError
        For a split the dataset does not have.
    FileExistsError
        If ``directory`` is not empty and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.shards import write_shards
    >>> ds = EmotionDataset.from_arrays(np.zeros((3, 4, 4), np.uint8), [0, 1, 2])
    >>> folder = write_shards(ds, tempfile.mkdtemp(), shards=3)
    >>> sorted(os.listdir(folder))[:2]
    ['manifest.json', 'train-00000.tfrecord']
    """
    if not isinstance(shards, (int, np.integer)) or shards < 1:
        raise ValueError(f"shards={shards!r}; expected an integer >= 1 (files per split)")
    names = list(dataset.split_names if splits is None else splits)
    parts = [dataset[name] for name in names]  # KeyError naming a missing split
    writer = ShardWriter(
        directory, dataset.label_names, overwrite=overwrite, skipped=dataset.skipped
    )
    with writer:
        for name, part in zip(names, parts):
            state = writer._state(name)
            state.records_per_shard = max(1, math.ceil(len(part) / shards))
            state.image_shape = tuple(part.images.shape[1:])
            sources = part.sources
            for positions, images in _image_batches(part.images):
                for position, image in zip(positions.tolist(), images):
                    writer.add(
                        name,
                        image,
                        int(part.labels[position]),
                        source=sources[position] if sources else "",
                        targets=None if part.targets is None else part.targets[position],
                        label_sets={k: int(v[position]) for k, v in part.label_sets.items()},
                    )
    return writer.directory


def to_shards(
    self: EmotionDataset,
    directory: str | os.PathLike[str],
    shards: int = 1,
    *,
    splits: Sequence[str] | None = None,
    overwrite: bool = False,
) -> str:
    """Write the dataset as TFRecord shards with a manifest, for :meth:`from_shards`.

    Each split becomes ``shards`` files of ``tf.train.Example`` records (the face as PNG, its
    label, index, source, soft targets and label sets), an index of its labels, and one
    ``manifest.json`` (label names, counts, image shapes, each file's size and SHA-256),
    written last: files are written under temporary names and renamed when complete. The
    format: :mod:`emorec.data.shards`. For data that does not fit in memory to begin with,
    :class:`emorec.data.shards.ShardWriter` writes faces one at a time.

    Parameters
    ----------
    directory : str or path-like
        An empty or new folder, or a bucket URL (``gs://...``) that ``tf.io.gfile`` supports.
    shards : int
        Files per split (a split with fewer images than ``shards`` gets one file an image).
    splits : sequence of str, optional
        The splits to write; default all.
    overwrite : bool
        Write into a folder that is not empty, replacing the shards of its old manifest.

    Returns
    -------
    str
        ``directory``.

    Raises
    ------
    FileExistsError
        If ``directory`` is not empty and ``overwrite`` is False.
    ValueError
        For ``shards`` below 1 or a split name that cannot name a file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> ds = EmotionDataset.from_arrays(np.zeros((4, 8, 8), np.uint8), [0, 1, 2, 3])
    >>> back = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp(), shards=2))
    >>> len(back["train"]), back["train"].labels.tolist(), back["train"].images.shape
    (4, [0, 1, 2, 3], (4, 8, 8, 1))
    """
    return write_shards(self, directory, shards, splits=splits, overwrite=overwrite)


# ------------------------------------------------------------------------------- reading
def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a shard folder, checked: its format, a version this emorec reads, and
    the keys it needs.

    Raises
    ------
    FileNotFoundError
        If the folder or its manifest is missing (a write that did not finish leaves none).
    ValueError
        For a manifest that is not JSON, of another format, or of a newer version.

    Examples
    --------
    >>> import tempfile
    >>> from emorec.data.shards import read_manifest
    >>> read_manifest(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: ...: no manifest.json; not a folder written by EmotionDataset.to_shards, ...
    """
    folder = os.fspath(directory)
    if not exists(folder):
        raise FileNotFoundError(f"{folder}: no such folder")
    path = join(folder, MANIFEST)
    if not exists(path):
        raise FileNotFoundError(
            f"{folder}: no {MANIFEST}; not a folder written by EmotionDataset.to_shards, or its "
            "writing did not finish (the manifest is written last): write the shards again"
        )
    manifest = load_json(path)
    if manifest.get("format") != FORMAT:
        raise ValueError(
            f"{path}: format {manifest.get('format')!r}; expected {FORMAT!r} (a manifest "
            "written by EmotionDataset.to_shards)"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{path}: format_version {version!r}; expected a positive integer")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path}: format version {version}, written by a newer emorec "
            f"({manifest.get('emorec_version', 'unknown')}); this emorec ({__version__}) reads "
            f"up to version {FORMAT_VERSION}: upgrade emorec (pip install -U emorec)"
        )
    for key in ("label_names", "splits"):
        if key not in manifest:
            raise ValueError(f"{path}: no {key!r}; write the shards again")
    return manifest


def _check_file(folder: str, entry: Mapping[str, Any], verify: bool) -> str:
    path = join(folder, str(entry["file"]))
    if not exists(path):
        raise FileNotFoundError(
            f"{path}: missing, though {MANIFEST} lists it; copy the whole folder again"
        )
    found = size(path)
    if found != entry["bytes"]:
        raise ValueError(
            f"{path}: {found:,} bytes; {MANIFEST} says {entry['bytes']:,} (truncated or "
            "changed): copy it again, or write the shards again"
        )
    if verify and sha256(path) != entry["sha256"]:
        raise ValueError(
            f"{path}: its SHA-256 differs from the one in {MANIFEST} (damaged or changed): "
            "copy it again, or write the shards again"
        )
    return path


def read_shards(
    directory: str | os.PathLike[str],
    *,
    verify: bool = True,
    shuffle_buffer: int | None = None,
) -> tuple[dict[str, ShardedSplit], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The splits, label names and skipped images of a shard folder (:func:`from_shards`).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.shards import read_shards
    >>> ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1], ["a", "b"])
    >>> splits, names, skipped = read_shards(ds.to_shards(tempfile.mkdtemp()))
    >>> splits["train"], names
    (DatasetSplit('train', 2 images of 4x4x1), ('a', 'b'))
    """
    folder = os.fspath(directory)
    manifest = read_manifest(folder)
    names = tuple(manifest["label_names"])
    splits = {}
    for name, entry in manifest["splits"].items():
        index_path = _check_file(folder, entry["index"], verify)
        paths = [_check_file(folder, shard, verify) for shard in entry["shards"]]
        with open_file(index_path, "rb") as fh, np.load(io.BytesIO(fh.read())) as arrays:
            labels = arrays["labels"].astype(np.int64)
            targets = arrays["targets"] if "targets" in arrays.files else None
            sets = {
                k.split("/", 1)[1]: arrays[k] for k in arrays.files if k.startswith("label_set/")
            }
        if len(labels) != entry["count"] or sum(s["records"] for s in entry["shards"]) != len(
            labels
        ):
            raise ValueError(
                f"{index_path}: {len(labels)} labels, but {MANIFEST} counts {entry['count']} "
                "images; write the shards again"
            )
        records = ShardRecords(
            split=name,
            paths=tuple(paths),
            counts=tuple(int(s["records"]) for s in entry["shards"]),
            image_shape=tuple(int(v) for v in entry["image_shape"]),
            shard_bytes=sum(int(s["bytes"]) for s in entry["shards"]),
            shuffle_buffer=shuffle_buffer,
        )
        splits[name] = ShardedSplit(
            name, records, np.arange(len(labels)), labels, names, targets, sets
        )
    skipped = tuple((str(s), str(r)) for s, r in manifest.get("skipped", []))
    return splits, names, skipped


def from_shards(
    cls: type[EmotionDataset],
    directory: str | os.PathLike[str],
    *,
    verify: bool = True,
    shuffle_buffer: int | None = None,
) -> EmotionDataset:
    """Read a folder written by :meth:`to_shards`: a dataset whose splits reference the files.

    Labels, soft targets and label sets are read at once (from each split's index), so
    ``len()``, :meth:`class_counts`, :meth:`class_weights` and :meth:`split` need no image;
    the images stay in the files. :meth:`to_tf` streams them (``tf.data.TFRecordDataset``,
    shards interleaved), decoded, converted and augmented as in-memory images are, with the
    labels of the same splits. Code that asks for a split's ``images`` as one array (such as
    :func:`emorec.evaluate`, or the calibration at the end of a Trainer run on the validation
    split) reads them into memory, with a warning naming the size
    (:class:`~emorec.data.sharded_split.ShardedImages`).

    Parameters
    ----------
    directory : str or path-like
        The folder, or a bucket URL (``gs://...``, ``s3://...``) read through ``tf.io.gfile``
        where the installed TensorFlow supports that scheme.
    verify : bool
        Check every file's SHA-256 against the manifest (reads each file once; turn it off for
        a large bucket you trust). Sizes are always checked.
    shuffle_buffer : int, optional
        Records a shuffled :meth:`to_tf` draws from (besides shuffling the shards' order and
        interleaving them); default 10,000 or fewer, so that the buffer's encoded images stay
        under about 64 MiB.

    Raises
    ------
    FileNotFoundError
        If the folder, its manifest or a file it lists is missing.
    ValueError
        For a manifest of another format or a newer version, or a file whose size or SHA-256
        is not the manifest's; the message names the file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset
    >>> ds = EmotionDataset.from_arrays(np.zeros((6, 8, 8), np.uint8), [0, 0, 1, 1, 2, 2])
    >>> back = EmotionDataset.from_shards(ds.to_shards(tempfile.mkdtemp(), shards=2))
    >>> back.class_counts()["disgust"], len(back.split("val", fraction=0.4)["val"])
    (2, 3)
    """
    splits, names, skipped = read_shards(directory, verify=verify, shuffle_buffer=shuffle_buffer)
    return cls(splits, names, skipped=skipped)
