"""Building an :class:`~emorec.EmotionDataset`'s splits: the checks its constructor makes, a
split from arrays (:meth:`~emorec.EmotionDataset.from_arrays`) and the splits of a reader's
result (:meth:`~emorec.EmotionDataset.from_directory`, :meth:`~emorec.EmotionDataset.from_csv`).

The classmethods stay on :class:`~emorec.EmotionDataset`, as the public way in; the work they
share is here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .readers import ReadResult
from .splits import DatasetSplit

__all__ = ["check_label_names", "split_from_arrays", "splits_from_read", "warn_about_skips"]


def check_label_names(
    splits: Mapping[str, DatasetSplit], label_names: Sequence[str]
) -> tuple[str, ...]:
    """``label_names`` as a tuple, checked: not empty, no name twice, and every split's own.

    Raises
    ------
    ValueError
        For no label names, a name given twice, or a split with another label set.

    Examples
    --------
    >>> from emorec.data.dataset_build import check_label_names
    >>> check_label_names({}, ["happy", "sad"])
    ('happy', 'sad')
    >>> check_label_names({}, ["happy", "happy"])
    Traceback (most recent call last):
    ValueError: label names repeat: ('happy', 'happy')
    """
    names = tuple(label_names)
    if not names:
        raise ValueError("a dataset needs at least one label name")
    if len(set(names)) != len(names):
        raise ValueError(f"label names repeat: {names}")
    for name, part in splits.items():
        if part.label_names != names:
            raise ValueError(f"split {name!r} has labels {part.label_names}, expected {names}")
    return names


def split_from_arrays(
    images: Any, labels: Sequence[int] | np.ndarray, label_names: tuple[str, ...], split: str
) -> DatasetSplit:
    """A split from an image array and integer labels, checked and converted as
    :meth:`EmotionDataset.from_arrays <emorec.EmotionDataset.from_arrays>` documents.

    Raises
    ------
    ValueError
        For images of another shape, a non-numeric dtype or values outside 0..255, labels
        that are not integers, not one per image, or outside ``label_names``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.dataset_build import split_from_arrays
    >>> part = split_from_arrays(np.full((2, 4, 4), 0.4), [1, 0], ("cat", "dog"), "train")
    >>> part.images.shape, part.images.dtype.name, part.sources
    ((2, 4, 4, 1), 'uint8', ('<array>[0]', '<array>[1]'))
    """
    names = label_names
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"images have shape {arr.shape}; expected (N, H, W) or (N, H, W, C) with C 1 or 3"
        )
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"images have dtype {arr.dtype}; expected uint8 or numbers")
        if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 255 or np.isnan(arr).any()):
            raise ValueError("image values must lie in 0..255")
        arr = np.rint(arr).astype(np.uint8)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.shape[0] != arr.shape[0]:
        raise ValueError(f"got {arr.shape[0]} images but labels of shape {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels have dtype {lab.dtype}; expected integers")
    lab = lab.astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= len(names)):
        bad = lab[(lab < 0) | (lab >= len(names))][0]
        raise ValueError(f"label {bad} is out of range for {len(names)} label names {names}")
    return DatasetSplit(
        split,
        np.ascontiguousarray(arr),
        lab,
        names,
        tuple(f"<array>[{i}]" for i in range(len(lab))),
    )


def splits_from_read(read: ReadResult) -> dict[str, DatasetSplit]:
    """A reader's splits (:class:`~emorec.data.readers.SplitArrays`) as dataset splits.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.dataset_build import splits_from_read
    >>> from emorec.data.readers import ReadResult, SplitArrays
    >>> part = SplitArrays(np.zeros((1, 2, 2, 1), np.uint8), np.array([0]), ("x.png",))
    >>> splits_from_read(ReadResult({"train": part}, ("happy",)))["train"]
    DatasetSplit('train', 1 images of 2x2x1)
    """
    names = read.label_names
    return {
        name: DatasetSplit(
            name,
            arrays.images,
            arrays.labels,
            names,
            arrays.sources,
            arrays.targets,
            dict(arrays.label_sets),
        )
        for name, arrays in read.splits.items()
    }


def warn_about_skips(
    path: str | os.PathLike[str], read: ReadResult, *, stacklevel: int = 2
) -> None:
    """Warn about the files a folder reader skipped: those that are not images (by suffix),
    and the unreadable images (with the first as an example).

    ``stacklevel`` is that of :func:`warnings.warn` as seen from the caller of this function:
    the default 2 names the caller's caller.

    Examples
    --------
    >>> import warnings
    >>> from emorec.data.dataset_build import warn_about_skips
    >>> from emorec.data.readers import ReadResult
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_about_skips("faces", ReadResult({}, ("happy",), not_images=2))
    >>> print(caught[0].message)
    faces: skipped 2 file(s) that are not images (by suffix)
    """
    if read.not_images:
        warnings.warn(
            f"{path}: skipped {read.not_images} file(s) that are not images (by suffix)",
            stacklevel=stacklevel + 1,
        )
    if read.skipped:
        (source, reason), n = read.skipped[0], len(read.skipped)
        warnings.warn(
            f"{path}: skipped {n} unreadable image(s), e.g. {source} ({reason}); see "
            "dataset.skipped for the list",
            stacklevel=stacklevel + 1,
        )
