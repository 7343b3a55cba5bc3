"""Evaluation: accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix.

:func:`evaluate` runs a model over one split of an :class:`~emorec.EmotionDataset` through
:func:`emorec.inference.predict_proba` (the classifier's own forward pass, test-time
augmentation included) and returns an :class:`EvaluationReport`. This module holds metrics
and reports only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .inference import TTA, default_tta, predict_proba, resolve_labels
from .labels import canonical_label

if TYPE_CHECKING:
    import keras

    from .data import EmotionDataset

__all__ = ["EvaluationReport", "evaluate"]


@dataclass
class EvaluationReport:
    """The result of :func:`evaluate`.

    Attributes
    ----------
    labels : tuple of str
        Class names, in the order of the confusion matrix's rows and columns.
    confusion : numpy.ndarray
        ``confusion[i, j]``: images of true class ``i`` predicted as class ``j``.
    split : str
        The dataset split evaluated.
    model : str
        Which model (a path or a name).
    tta : str
        Test-time augmentation used (``"none"``, ``"flip"`` or ``"shift"``).
    label_sets : dict of str to EvaluationReport
        The same predictions measured against the split's other labellings
        (:attr:`emorec.DatasetSplit.label_sets`): ``"fer2013"`` (FER2013's original labels)
        and ``"ferplus"`` (FER+'s majority) when the data was read with FER+ votes, each over
        the images that have a label in it.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EvaluationReport
    >>> report = EvaluationReport(("happy", "sad"), np.array([[8, 2], [1, 9]]), split="test")
    >>> round(report.accuracy, 2), report.recall.tolist()
    (0.85, [0.8, 0.9])
    >>> report.to_dict()["per_class"]["sad"]["support"]
    10
    """

    labels: tuple[str, ...]
    confusion: np.ndarray
    split: str = ""
    model: str = ""
    tta: str = "none"
    extra: dict[str, Any] = field(default_factory=dict)
    label_sets: dict[str, EvaluationReport] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of images evaluated."""
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        """Fraction of images whose most probable class is the true one."""
        return float(np.trace(self.confusion) / max(self.n, 1))

    @property
    def support(self) -> np.ndarray:
        """Images of each true class."""
        return self.confusion.sum(axis=1)

    @property
    def recall(self) -> np.ndarray:
        """Per-class recall (NaN for a class absent from the split)."""
        return _safe_div(np.diag(self.confusion), self.confusion.sum(axis=1))

    @property
    def precision(self) -> np.ndarray:
        """Per-class precision (NaN for a class never predicted)."""
        return _safe_div(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def f1(self) -> np.ndarray:
        """Per-class F1 (0 where precision and recall are both 0 or undefined)."""
        p, r = np.nan_to_num(self.precision), np.nan_to_num(self.recall)
        return _safe_div(2 * p * r, p + r, fill=0.0)

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the classes present in the split."""
        present = self.support > 0
        return float(self.f1[present].mean()) if present.any() else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON): overall figures, per-class figures, the confusion matrix."""
        per_class = {
            label: {
                "precision": _num(self.precision[i]),
                "recall": _num(self.recall[i]),
                "f1": _num(self.f1[i]),
                "support": int(self.support[i]),
            }
            for i, label in enumerate(self.labels)
        }
        return {
            "model": self.model,
            "split": self.split,
            "tta": self.tta,
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": per_class,
            "labels": list(self.labels),
            "confusion_matrix": self.confusion.tolist(),
            **(
                {
                    "label_sets": {
                        key: {
                            "n": r.n,
                            "accuracy": r.accuracy,
                            "macro_f1": r.macro_f1,
                            "confusion_matrix": r.confusion.tolist(),
                        }
                        for key, r in self.label_sets.items()
                    }
                }
                if self.label_sets
                else {}
            ),
            **self.extra,
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), **{"indent": 2, **kwargs})

    def __str__(self) -> str:
        width = max(8, *map(len, self.labels))
        lines = [
            f"{self.model or 'model'} on split {self.split!r} ({self.n} images, tta={self.tta}):",
            f"accuracy {self.accuracy:.2%}   macro-F1 {self.macro_f1:.2%}",
            "",
            f"{'class'.ljust(width)}  precision  recall     f1  support",
        ]
        for i, label in enumerate(self.labels):
            lines.append(
                f"{label.ljust(width)}  {_pct(self.precision[i]):>9}  {_pct(self.recall[i]):>6}  "
                f"{_pct(self.f1[i]):>5}  {int(self.support[i]):>7}"
            )
        if self.label_sets:
            lines.append("")
            lines.append("against each label set of the data:")
            for key, r in self.label_sets.items():
                lines.append(
                    f"  {key.ljust(8)}  accuracy {r.accuracy:.2%}   macro-F1 {r.macro_f1:.2%}   "
                    f"({r.n} images)"
                )
        return "\n".join(lines)

    def plot_confusion_matrix(self, path: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Write the row-normalised confusion matrix as an image (see
        :func:`emorec.plots.plot_confusion_matrix`)."""
        from .plots import plot_confusion_matrix

        title = kwargs.pop(
            "title",
            f"{Path(self.model).name or 'model'}: {self.split}, accuracy {self.accuracy:.1%}",
        )
        return plot_confusion_matrix(self.confusion, self.labels, path, title=title, **kwargs)


def _safe_div(a: np.ndarray, b: np.ndarray, fill: float = np.nan) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.divide(a, b, out=np.full_like(a, fill), where=b > 0)


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _pct(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.1%}"


def evaluate(
    model_or_path: keras.Model | str | os.PathLike[str],
    dataset: EmotionDataset,
    split: str = "test",
    *,
    tta: TTA | None = None,
    batch_size: int = 256,
) -> EvaluationReport:
    """Evaluate a model on one split of a dataset.

    Parameters
    ----------
    model_or_path : keras.Model, str or path-like
        A model, or a ``.keras`` file (or bundled model name) to load.
    dataset : EmotionDataset
        The data.
    split : str
        Which split (``"test"`` is FER2013's PublicTest in the Kaggle layout).
    tta : {"none", "flip", "shift"}, optional
        Test-time augmentation (:mod:`emorec.inference`): ``"flip"`` averages each image with
        its mirror; ``"shift"`` averages ten views (mirror pairs at the centre and shifted
        3 px). Default: what :class:`~emorec.EmotionClassifier` applies to the model, its
        card's ``tta``, else :data:`~emorec.inference.DEFAULT_TTA`; pass ``"none"`` for the
        bare model.
    batch_size : int
        Images per model call.

    Returns
    -------
    EvaluationReport
        Against the split's labels, and in :attr:`EvaluationReport.label_sets` against each of
        its other labellings (FER2013's and FER+'s when FER+ votes were read).

    Raises
    ------
    ValueError
        If the dataset has a class the model does not output.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset, build_model, evaluate
    >>> ds = EmotionDataset.from_arrays(np.zeros((4, 48, 48), np.uint8), [0, 3, 3, 6])
    >>> report = evaluate(build_model("mini_xception"), ds, "train")
    >>> report.n, len(report.labels)
    (4, 7)
    """
    if isinstance(model_or_path, (str, os.PathLike)):
        from .models.bundle import load_bundle

        name = str(model_or_path)
        bundle = load_bundle(model_or_path, fallback_labels=dataset.label_names)
        model, labels = bundle.model, bundle.labels
        mode = default_tta(tta, bundle.tta)
    else:
        name = getattr(model_or_path, "name", "")
        model = model_or_path
        mode = default_tta(tta)
        labels = resolve_labels(model, fallback=dataset.label_names)
    part = dataset[split]
    if len(part) == 0:
        raise ValueError(f"split {split!r} is empty")
    index = {canonical_label(n) or n: i for i, n in enumerate(labels)}
    mapping = []
    for data_label in dataset.label_names:
        key = canonical_label(data_label) or data_label
        if key not in index:
            raise ValueError(
                f"the dataset's class {data_label!r} is not one of the model's labels "
                f"({', '.join(labels)})"
            )
        mapping.append(index[key])
    lookup = np.asarray(mapping)
    probs = predict_proba(model, part.images, batch_size=batch_size, tta=mode)
    pred = probs.argmax(axis=1)
    k = len(labels)

    def report(true: np.ndarray, which: np.ndarray | slice) -> EvaluationReport:
        mapped = lookup[true] * k + pred[which]
        confusion = np.bincount(mapped, minlength=k * k).reshape(k, k)
        return EvaluationReport(labels, confusion, split=split, model=name, tta=mode)

    main = report(part.labels, slice(None))
    for key, values in part.label_sets.items():
        has = np.flatnonzero(values >= 0)
        main.label_sets[key] = report(values[has], has)
    return main
