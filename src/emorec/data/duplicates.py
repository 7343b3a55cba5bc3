"""Exact duplicate images in a dataset, within and across its splits.

FER2013 holds the same 48x48 faces more than once, also across its splits: hundreds of
Training faces reappear in PublicTest (and in PrivateTest), so a test figure is a little
optimistic unless they are left out. Images are compared by their pixels (a 128-bit BLAKE2
digest of the stored uint8 array, shape included), so a copy is found whatever its file name
or label; a copy with one pixel changed is not a duplicate here.

:meth:`emorec.EmotionDataset.drop_duplicates` is the way in for most uses.

Examples
--------
>>> import numpy as np
>>> from emorec import EmotionDataset
>>> from emorec.data.duplicates import duplicate_groups, seen_in
>>> images = np.zeros((5, 2, 2), np.uint8); images[1], images[4] = 9, 5
>>> train = EmotionDataset.from_arrays(images[:3], [0, 3, 3])["train"]
>>> test = EmotionDataset.from_arrays(images[3:], [6, 6], split="test")["test"]
>>> ds = EmotionDataset({"train": train, "test": test}, train.label_names)
>>> duplicate_groups(ds)
[[('train', 0), ('train', 2), ('test', 0)]]
>>> seen_in(ds, "test", "train").tolist()
[True, False]
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .dataset import EmotionDataset

__all__ = ["duplicate_groups", "image_digests", "seen_in"]


def image_digests(images: npt.NDArray[np.uint8]) -> list[bytes]:
    """A 16-byte digest of each image's pixels (and shape): equal digests, equal images.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.duplicates import image_digests
    >>> d = image_digests(np.array([[[1, 2]], [[1, 2]], [[2, 1]]], np.uint8))
    >>> d[0] == d[1], d[0] == d[2]
    (True, False)
    """
    arr = np.ascontiguousarray(images)
    shape = repr(arr.shape[1:]).encode()
    return [hashlib.blake2b(shape + img.tobytes(), digest_size=16).digest() for img in arr]


def duplicate_groups(
    dataset: EmotionDataset, splits: Sequence[str] | None = None
) -> list[list[tuple[str, int]]]:
    """Groups of identical images: ``[(split, index), ...]`` for each image that occurs
    more than once, within a split or across ``splits`` (default: all).

    Groups are in the order of their first image; images within a group in split order.
    """
    names = list(dataset.split_names if splits is None else splits)
    where: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for name in names:
        for i, digest in enumerate(image_digests(dataset[name].images)):
            where[digest].append((name, i))
    return [group for group in where.values() if len(group) > 1]


def seen_in(dataset: EmotionDataset, split: str, reference: str = "train") -> npt.NDArray[np.bool_]:
    """For each image of ``split``, whether the same pixels occur in ``reference``.

    Raises
    ------
    KeyError
        If either split is missing.
    """
    known = set(image_digests(dataset[reference].images))
    return np.array([d in known for d in image_digests(dataset[split].images)], dtype=bool)
