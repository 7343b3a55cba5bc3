"""Evaluation: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix, TTA.

:func:`evaluate` runs a model over one split of an :class:`~emorec.EmotionDataset` and returns
an :class:`EvaluationReport`. Test-time augmentation (``tta``) averages the probabilities of
several views of each face: ``"flip"`` (the image and its mirror) or ``"shift"`` (the mirror
pair at the centre and shifted by a few pixels in four directions: ten views, the shift
equivalent of ten-crop testing for models trained with random shifts).
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .images import convert_batch
from .labels import LABELS, canonical_label

__all__ = ["DEFAULT_TTA", "EvaluationReport", "evaluate", "predict_proba"]

TTA = Literal["none", "flip", "shift"] | bool | None

#: The test-time augmentation the classifier applies by default, and with which the bundled
#: model's headline accuracy is measured (``benchmarks/accuracy.py``). ``"flip"`` doubles the
#: model's work (two views a face) for about 2 points of FER2013 accuracy.
DEFAULT_TTA: Literal["none", "flip", "shift"] = "flip"


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


def _views(x: np.ndarray, tta: str, shift: int) -> list[np.ndarray]:
    """The test-time views of a batch ``(n, h, w, c)``."""
    views = [x]
    if tta in ("flip", "shift"):
        views.append(x[:, :, ::-1])
    if tta == "shift":
        padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
        h, w = x.shape[1:3]
        for dy, dx in ((0, 0), (0, 2 * shift), (2 * shift, 0), (2 * shift, 2 * shift)):
            crop = padded[:, dy : dy + h, dx : dx + w]
            views += [crop, crop[:, :, ::-1]]
    return views


def _fit_input(images: np.ndarray, input_shape: Sequence[int | None]) -> np.ndarray:
    """Convert uint8 ``(n, h, w, c)`` images to the model's input size and channels (float32)."""
    h, w = input_shape[0], input_shape[1]
    size = (h, w) if h is not None and w is not None else None
    return convert_batch(images, input_shape[-1], size)


_FORWARD: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _forward(model: Any) -> Any:
    """The model's inference function, made once per model: batch in, numpy probabilities out.

    With TensorFlow, a ``tf.function`` whose batch size is left open: it is traced once, and a
    call on the few crops of a photo costs less than ``predict_on_batch`` (whose per-call
    overhead shows on small batches); the same at large batches. Other backends use
    ``predict_on_batch``, as do objects that only have that method.
    """
    import keras

    if not isinstance(model, keras.Model):
        return lambda x: np.asarray(model.predict_on_batch(x))
    fn = _FORWARD.get(model)
    if fn is None:
        # the functions hold the model weakly, so the cache does not keep it alive
        ref: Any = weakref.ref(model)

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)

            def call(x: Any) -> Any:
                return ref()(x, training=False)

            graph = tf.function(call, input_signature=[spec], autograph=False)

            def fn(x: np.ndarray) -> np.ndarray:
                return np.asarray(graph(x))

        else:

            def fn(x: np.ndarray) -> np.ndarray:
                return np.asarray(ref().predict_on_batch(x))

        _FORWARD[model] = fn
    return fn


def predict_proba(
    model: Any, images: np.ndarray, *, batch_size: int = 256, tta: TTA = None, shift: int = 3
) -> np.ndarray:
    """Class probabilities ``(n, classes)`` of a Keras model for uint8 images ``(n, h, w, c)``.

    Images are converted to the model's input size and channels; with ``tta`` the
    probabilities of all views are averaged. One batched model call per batch of views.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import build_model
    >>> from emorec.evaluation import predict_proba
    >>> model = build_model("mini_xception", num_classes=3)
    >>> predict_proba(model, np.zeros((5, 48, 48, 1), np.uint8), tta="flip").shape
    (5, 3)
    """
    mode = _tta_name(tta)
    input_shape = tuple(model.input_shape[1:])
    forward = _forward(model)
    out = []
    for start in range(0, len(images), batch_size):
        x = _fit_input(images[start : start + batch_size], input_shape)
        views = _views(x, mode, shift)
        probs = forward(np.concatenate(views))
        out.append(probs.reshape(len(views), len(x), -1).mean(axis=0))
    if not out:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    return np.concatenate(out)


def _tta_name(tta: TTA) -> Literal["none", "flip", "shift"]:
    if tta in (None, False, "none"):
        return "none"
    if tta is True:
        return "flip"
    if tta == "flip" or tta == "shift":
        return tta
    raise ValueError(f"tta={tta!r}; expected False, True, 'flip' or 'shift'")


def model_labels(
    model: Any, card: dict[str, Any] | None, fallback: Sequence[str]
) -> tuple[str, ...]:
    """The output labels of a model: its card's, else FER2013's for 7 outputs, else ``fallback``."""
    if card and card.get("labels"):
        return tuple(card["labels"])
    labels = getattr(model, "_emorec_labels", None)
    if labels:
        return tuple(labels)
    k = int(model.output_shape[-1])
    if len(fallback) == k:
        return tuple(fallback)
    if k == len(LABELS):
        return LABELS
    raise ValueError(f"the model has {k} outputs but no model card naming them; pass labels")


def evaluate(
    model_or_path: Any,
    dataset: Any,
    split: str = "test",
    *,
    tta: TTA = False,
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
    tta : {False, True, "flip", "shift"}
        Test-time augmentation: ``True``/``"flip"`` averages each image with its mirror;
        ``"shift"`` averages ten views (mirror pairs at the centre and shifted 3 px).
    batch_size : int
        Images per model call.

    Returns
    -------
    EvaluationReport

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
    from .models.card import load_model, read_card

    card = None
    name = getattr(model_or_path, "name", "")
    if isinstance(model_or_path, (str, os.PathLike)):
        name = str(model_or_path)
        card = read_card(model_or_path)
        model = load_model(model_or_path)
    else:
        model = model_or_path
    labels = model_labels(model, card, dataset.label_names)
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
    true = np.asarray(mapping)[part.labels]
    probs = predict_proba(model, part.images, batch_size=batch_size, tta=tta)
    pred = probs.argmax(axis=1)
    k = len(labels)
    confusion = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
    return EvaluationReport(labels, confusion, split=split, model=name, tta=_tta_name(tta))
