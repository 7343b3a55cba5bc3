"""New splits from a dataset's old ones: a held-out split carved out of another
(:meth:`EmotionDataset.split <emorec.EmotionDataset.split>`), a split without the images
another one holds (:meth:`EmotionDataset.drop_duplicates
<emorec.EmotionDataset.drop_duplicates>`) and merged or renamed classes
(:meth:`EmotionDataset.map_labels <emorec.EmotionDataset.map_labels>`).

:mod:`emorec.data.splits` computes which images to hold out and which new class each old one
goes to, :mod:`emorec.data.duplicates` which images are copies; this module builds the new
splits: their images, labels, soft targets (a new class's probability is the sum of its old
ones) and other label sets. The methods stay on :class:`~emorec.EmotionDataset`, as the public
way in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .splits import DatasetSplit, held_out_indices, relabel_lookup

if TYPE_CHECKING:
    from .dataset import EmotionDataset

__all__ = ["carve_split", "drop_seen", "relabel_splits"]


def carve_split(
    dataset: EmotionDataset,
    name: str,
    fraction: float,
    stratify: bool = True,
    seed: int = 0,
    source: str = "train",
) -> dict[str, DatasetSplit]:
    """``dataset``'s splits with a new one, ``name``, carved out of ``source``: ``fraction``
    of its images (:func:`~emorec.data.splits.held_out_indices`), left out of ``source``.

    Raises
    ------
    ValueError
        If split ``name`` exists, ``fraction`` is not between 0 and 1, or ``source`` is too
        small for ``fraction`` to hold out at least one image and keep one.
    KeyError
        If there is no split ``source``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.dataset_edits import carve_split
    >>> ds = EmotionDataset.from_arrays(np.zeros((10, 2, 2), np.uint8), [0] * 5 + [3] * 5)
    >>> splits = carve_split(ds, "val", 0.2)
    >>> len(splits["train"]), splits["val"].labels.tolist()
    (8, [0, 3])
    """
    if name in dataset:
        raise ValueError(f"split {name!r} exists already; choose another name")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction={fraction}; expected a number between 0 and 1")
    part = dataset[source]
    held = held_out_indices(part.labels, len(dataset.label_names), fraction, stratify, seed)
    if len(held) == 0 or len(held) == len(part):
        raise ValueError(
            f"split {source!r} has {len(part)} images: too few to carve {fraction:.0%} out of it"
        )
    keep = np.setdiff1d(np.arange(len(part)), held)
    splits = {key: dataset[key] for key in dataset.split_names}
    splits[source] = part.take(keep, source)
    splits[name] = part.take(held, name)
    return splits


def drop_seen(dataset: EmotionDataset, split: str, of: str = "train") -> dict[str, DatasetSplit]:
    """``dataset``'s splits, ``split`` without the images whose pixels also occur in split
    ``of`` (:func:`emorec.data.duplicates.seen_in`).

    Raises
    ------
    ValueError
        If ``split`` and ``of`` are the same split.
    KeyError
        If either split is missing.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.dataset_edits import drop_seen
    >>> train = EmotionDataset.from_arrays(np.zeros((1, 2, 2), np.uint8), [0])["train"]
    >>> test = EmotionDataset.from_arrays(np.zeros((2, 2, 2), np.uint8), [0, 3], split="test")
    >>> ds = EmotionDataset({"train": train, "test": test["test"]}, train.label_names)
    >>> len(drop_seen(ds, "test")["test"])
    0
    """
    from .duplicates import seen_in

    if split == of:
        raise ValueError(f"split={split!r} and of={of!r}: name two different splits")
    keep = np.flatnonzero(~seen_in(dataset, split, of))
    splits = {key: dataset[key] for key in dataset.split_names}
    splits[split] = dataset[split].take(keep)
    return splits


def relabel_splits(
    dataset: EmotionDataset,
    mapping: Mapping[str, str | Sequence[str]],
    *,
    drop_unmapped: bool = False,
) -> tuple[dict[str, DatasetSplit], tuple[str, ...]]:
    """``dataset``'s splits relabelled by ``mapping`` (new label -> the old label(s) it takes
    in), and the new label names (``mapping``'s keys, in order).

    Images of an old label no new one takes in are dropped (only with ``drop_unmapped``), and
    so are images whose soft targets have no probability left in the new classes; the targets
    left are renormalised. Other label sets are remapped, -1 where an image has no new label.

    Raises
    ------
    ValueError
        As :func:`emorec.data.splits.relabel_lookup`: an unknown old label, one mapped twice,
        or unmapped labels without ``drop_unmapped``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.dataset_edits import relabel_splits
    >>> ds = EmotionDataset.from_arrays(np.zeros((3, 2, 2), np.uint8), [0, 1, 2], ["a", "b", "c"])
    >>> splits, names = relabel_splits(ds, {"x": ["a", "c"]}, drop_unmapped=True)
    >>> names, splits["train"].labels.tolist()
    (('x',), [0, 0])
    """
    lookup = relabel_lookup(dataset.label_names, mapping, drop_unmapped=drop_unmapped)
    names = tuple(mapping)
    relabelled_splits = {}
    for name in dataset.split_names:
        part = dataset[name]
        new = lookup[part.labels]
        targets = None
        if part.targets is not None:
            # a new class's probability is the sum of its old ones; what no new class
            # takes in is dropped and the rest renormalised
            merged = np.zeros((len(part), len(names)), np.float32)
            for old, new_index in enumerate(lookup.tolist()):
                if new_index >= 0:
                    merged[:, new_index] += part.targets[:, old]
            mass = merged.sum(axis=1, keepdims=True)
            new = np.where(mass[:, 0] > 0, new, -1)
            targets = merged / np.maximum(mass, 1e-12)
        keep = np.flatnonzero(new >= 0)
        taken = part.take(keep, name)
        relabelled = {
            key: np.where(values >= 0, lookup[np.maximum(values, 0)], -1)
            for key, values in taken.label_sets.items()
        }
        relabelled_splits[name] = DatasetSplit(
            name,
            taken.images,
            new[keep],
            names,
            taken.sources,
            None if targets is None else targets[keep],
            relabelled,
        )
    return relabelled_splits, names
