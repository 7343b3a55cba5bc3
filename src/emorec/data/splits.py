"""The parts of a dataset: :class:`DatasetSplit`, and the index arithmetic of carving a split
and merging labels (what :meth:`EmotionDataset.split` and :meth:`EmotionDataset.map_labels`
compute before they build a new dataset)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["DatasetSplit", "held_out_indices", "relabel_lookup"]


@dataclass(frozen=True)
class DatasetSplit:
    """One split of an :class:`EmotionDataset`: images, labels and where each image came from.

    Attributes
    ----------
    name : str
        The split's name (``"train"``, ``"test"``...).
    images : numpy.ndarray
        uint8 array of shape ``(N, H, W, C)``.
    labels : numpy.ndarray
        int64 array of shape ``(N,)``; values index ``label_names``.
    label_names : tuple of str
        The dataset's label set, in output order.
    sources : tuple of str
        For each image, the file (or ``file:line``) it was read from.
    targets : numpy.ndarray or None
        float32 ``(N, len(label_names))`` soft targets, each row summing to 1 (FER+'s vote
        distributions with ``ferplus_mode="probability"``), or None for one-hot labels. When
        present, training fits these and ``labels`` is each row's most likely class.
    label_sets : dict of str to numpy.ndarray
        Other labellings of the same images, each int64 ``(N,)`` indexing ``label_names``, -1
        where an image has no label in it: ``"fer2013"`` (FER2013's original labels) and
        ``"ferplus"`` (FER+'s majority) when FER+ votes were read. Evaluation reports accuracy
        against each.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> part = EmotionDataset.from_arrays(np.zeros((3, 48, 48), np.uint8), [3, 3, 4])["train"]
    >>> len(part), part.images.shape, part.class_counts()["happy"]
    (3, (3, 48, 48, 1), 2)
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    sources: tuple[str, ...] = field(default=())
    targets: np.ndarray | None = None
    label_sets: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.targets is not None and self.targets.shape != (n, len(self.label_names)):
            raise ValueError(
                f"split {self.name!r}: targets of shape {self.targets.shape}; expected "
                f"({n}, {len(self.label_names)}), a row of probabilities per image"
            )
        for key, values in self.label_sets.items():
            if np.shape(values) != (n,):
                raise ValueError(
                    f"split {self.name!r}: label set {key!r} has shape {np.shape(values)}; "
                    f"expected ({n},)"
                )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> dict[str, int]:
        """Number of images of each class, in label order (zeros included)."""
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return {name: int(c) for name, c in zip(self.label_names, counts)}

    def take(self, idx: npt.ArrayLike, name: str | None = None) -> DatasetSplit:
        """The images at ``idx`` (in that order) as a split called ``name`` (default: this one's).

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionDataset
        >>> part = EmotionDataset.from_arrays(np.zeros((3, 4, 4), np.uint8), [0, 1, 2])["train"]
        >>> part.take([2, 0], "few").labels.tolist()
        [2, 0]
        """
        idx = np.asarray(idx, np.int64)
        return DatasetSplit(
            self.name if name is None else name,
            self.images[idx],
            self.labels[idx],
            self.label_names,
            tuple(self.sources[i] for i in idx) if self.sources else (),
            None if self.targets is None else self.targets[idx],
            {k: v[idx] for k, v in self.label_sets.items()},
        )

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape[1:])
        return f"DatasetSplit({self.name!r}, {len(self)} images of {shape})"


def held_out_indices(
    labels: npt.NDArray[np.integer],
    num_classes: int,
    fraction: float,
    stratify: bool = True,
    seed: int = 0,
) -> npt.NDArray[np.int64]:
    """Sorted indices of the images to hold out: ``fraction`` of them, the same for the same
    ``seed``; with ``stratify`` the same fraction of each class (at least one image of a
    class with two or more, never all of a class).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.splits import held_out_indices
    >>> len(held_out_indices(np.array([0] * 10 + [1] * 10), 2, 0.2))
    4
    """
    rng = np.random.default_rng(seed)
    if not stratify:
        k = int(round(fraction * len(labels)))
        return np.sort(rng.permutation(len(labels))[:k]).astype(np.int64)
    picked = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        if len(idx) == 0:
            continue
        k = int(round(fraction * len(idx)))
        k = min(max(k, 1 if len(idx) >= 2 else 0), len(idx) - 1)
        picked.append(rng.permutation(idx)[:k])
    return np.sort(np.concatenate(picked)).astype(np.int64) if picked else np.array([], np.int64)


def relabel_lookup(
    label_names: Sequence[str],
    mapping: Mapping[str, str | Sequence[str]],
    *,
    drop_unmapped: bool = False,
) -> npt.NDArray[np.int64]:
    """``lookup[old_index] = new_index`` for a mapping new label -> old label(s); -1 marks an
    old label no new one takes in (allowed only with ``drop_unmapped``).

    Raises
    ------
    ValueError
        For an unknown old label, one mapped twice, or unmapped labels without
        ``drop_unmapped``.

    Examples
    --------
    >>> from emorec.data.splits import relabel_lookup
    >>> relabel_lookup(["a", "b", "c"], {"x": ["a", "c"], "y": "b"}).tolist()
    [0, 1, 0]
    """
    names = list(label_names)
    old_to_new: dict[int, int] = {}
    for new_index, olds in enumerate(mapping.values()):
        for old in [olds] if isinstance(olds, str) else olds:
            if old not in names:
                raise ValueError(f"{old!r} is not a label of this dataset ({', '.join(names)})")
            if names.index(old) in old_to_new:
                raise ValueError(f"{old!r} is mapped twice")
            old_to_new[names.index(old)] = new_index
    unmapped = [n for i, n in enumerate(names) if i not in old_to_new]
    if unmapped and not drop_unmapped:
        raise ValueError(
            f"no new label takes in {', '.join(unmapped)}; map them or pass drop_unmapped=True"
        )
    lookup = np.full(len(names), -1, np.int64)
    for old_index, new_index in old_to_new.items():
        lookup[old_index] = new_index
    return lookup
