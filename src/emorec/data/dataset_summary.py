"""Counting a dataset's images: the class counts of :meth:`EmotionDataset.class_counts
<emorec.EmotionDataset.class_counts>`, the table of :meth:`EmotionDataset.summary
<emorec.EmotionDataset.summary>` and the balanced weights of :meth:`EmotionDataset.class_weights
<emorec.EmotionDataset.class_weights>`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from .splits import DatasetSplit

__all__ = ["balanced_class_weights", "count_classes", "summary_table"]


def count_classes(parts: Iterable[DatasetSplit], label_names: Sequence[str]) -> dict[str, int]:
    """Images per class over ``parts``, in ``label_names``' order (zeros included).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.dataset_summary import count_classes
    >>> ds = EmotionDataset.from_arrays(np.zeros((3, 2, 2), np.uint8), [1, 1, 0], ["a", "b"])
    >>> count_classes([ds["train"], ds["train"]], ds.label_names)
    {'a': 2, 'b': 4}
    """
    total = Counter[str]()
    for part in parts:
        total.update(part.class_counts())
    return {n: total[n] for n in label_names}


def summary_table(
    splits: Sequence[DatasetSplit],
    label_names: Sequence[str],
    *,
    skipped: int = 0,
) -> str:
    """A table of image counts per class (rows) and split (columns), with totals, then the
    image shape of each split and the number of ``skipped`` images if any.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> from emorec.data.dataset_summary import summary_table
    >>> ds = EmotionDataset.from_arrays(np.zeros((3, 2, 2), np.uint8), [0, 1, 1], ["a", "b"])
    >>> print(summary_table([ds["train"]], ds.label_names))
    class  train  total
    -----  -----  -----
    a          1      1
    b          2      2
    total      3      3
    images: train 2x2x1 (height x width x channels), uint8
    """
    head = ["class", *[s.name for s in splits], "total"]
    body = []
    for i, label in enumerate(label_names):
        counts = [int((s.labels == i).sum()) for s in splits]
        body.append([label, *map(str, counts), str(sum(counts))])
    body.append(["total", *[str(len(s)) for s in splits], str(sum(len(s) for s in splits))])
    widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
    fmt = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))
    )
    shapes = ", ".join(f"{s.name} {'x'.join(map(str, s.images.shape[1:]))}" for s in splits)
    lines = [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, body)]
    lines.append(f"images: {shapes or 'none'} (height x width x channels), uint8")
    if skipped:
        lines.append(f"skipped: {skipped} unreadable image(s)")
    return "\n".join(lines)


def balanced_class_weights(labels: npt.NDArray[np.integer], num_classes: int) -> dict[int, float]:
    """Balanced class weights ``n / (k * count)`` for ``num_classes`` classes, ``k`` those
    present; classes absent from ``labels`` get weight 0.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.dataset_summary import balanced_class_weights
    >>> balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    {0: 0.6666666666666666, 1: 2.0, 2: 0.0}
    """
    counts = np.bincount(labels, minlength=num_classes)
    present = counts > 0
    n, k = counts.sum(), present.sum()
    return {i: (float(n / (k * c)) if c else 0.0) for i, c in enumerate(counts.tolist())}
