"""Scores that mean what they say: temperature scaling, calibration error, reliability.

A network's top probability need not be how often it is right: over-confident networks answer
0.9 where they are right 7 times in 10, and faces unlike the training set make a network less
accurate without making it less sure. Temperature scaling (Guo et al. 2017, "On calibration
of modern neural networks") divides the log-probabilities by one number ``T`` fitted on
held-out images (the validation split, never the test split) so that the average negative
log-likelihood is lowest; the ranking of the classes, and so the accuracy, is unchanged. A
model card stores ``T`` under ``calibration``, and :class:`emorec.EmotionClassifier` applies it
to every prediction.

Examples
--------
>>> import numpy as np
>>> from emorec.calibration import apply_temperature, expected_calibration_error, fit_temperature
>>> rng = np.random.default_rng(0)
>>> labels = rng.integers(0, 3, 2000)
>>> right = rng.random(2000) < 0.6                      # 60 % correct ...
>>> guess = np.where(right, labels, (labels + 1) % 3)
>>> probs = np.full((2000, 3), 0.025); probs[np.arange(2000), guess] = 0.95  # ... at 95 %
>>> round(expected_calibration_error(probs, labels), 2)
0.33
>>> t = fit_temperature(probs, labels)
>>> bool(t > 1), round(expected_calibration_error(apply_temperature(probs, t), labels), 2)
(True, 0.0)
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "apply_temperature",
    "calibrate",
    "expected_calibration_error",
    "fit_temperature",
    "negative_log_likelihood",
    "reliability",
]

logger = logging.getLogger("emorec")

_FLOOR = 1e-12
#: The range searched for the temperature.
TEMPERATURE_RANGE = (0.05, 20.0)
#: :func:`calibrate` keeps ``T = 1`` (and says why) with fewer held-out images than this.
MIN_CALIBRATION_IMAGES = 100


def _check(probabilities: Any, labels: Any | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities of shape {p.shape}; expected (n, classes >= 2)")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and non-negative")
    if labels is None:
        return p, None
    y = np.asarray(labels)
    if y.shape != (len(p),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels of shape {y.shape}; expected {len(p)} class indices")
    if len(y) and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels outside 0..{p.shape[1] - 1}")
    return p, y


def apply_temperature(probabilities: npt.ArrayLike, temperature: float) -> npt.NDArray[np.float32]:
    """``softmax(log(p) / T)`` for each row: the probabilities at temperature ``T``.

    ``T > 1`` softens over-confident scores, ``T < 1`` sharpens them, ``T = 1`` returns the
    rows as they are (renormalised). The order of the classes in a row never changes.
    """
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not math.isfinite(float(temperature))
        or temperature <= 0
    ):
        raise ValueError(f"temperature={temperature!r}; expected a positive number")
    p, _ = _check(probabilities)
    logits = np.log(np.maximum(p, _FLOOR)) / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean ``-log p(true class)`` (the cross-entropy; lower is better)."""
    p, y = _check(probabilities, labels)
    assert y is not None
    total = p.sum(axis=1)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(p)), y] / total, _FLOOR))))


def fit_temperature(probabilities: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    Fit it on held-out images (a validation split), not on the images you report. The NLL is
    convex in ``1 / T``; a golden-section search finds it within :data:`TEMPERATURE_RANGE`.
    """
    p, y = _check(probabilities, labels)
    assert y is not None
    if len(y) == 0:
        raise ValueError("no images to fit a temperature on")
    logp = np.log(np.maximum(p / p.sum(axis=1, keepdims=True), _FLOOR))
    true = logp[np.arange(len(y)), y]

    def nll(beta: float) -> float:  # beta = 1 / T
        z = beta * logp
        top = z.max(axis=1)
        return float(np.mean(top + np.log(np.exp(z - top[:, None]).sum(axis=1)) - beta * true))

    lo, hi = 1 / TEMPERATURE_RANGE[1], 1 / TEMPERATURE_RANGE[0]
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(1.0 / ((lo + hi) / 2))


def reliability(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, bins: int = 15
) -> dict[str, npt.NDArray[np.float64]]:
    """Confidence against accuracy in ``bins`` equal-width bins of the top score.

    Returns
    -------
    dict
        ``edges`` (``bins + 1``), and per bin ``confidence`` (mean top score), ``accuracy``
        (fraction right) and ``count``; empty bins have NaN confidence and accuracy.
    """
    p, y = _check(probabilities, labels)
    assert y is not None
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins={bins!r}; expected a positive integer")
    p = p / np.maximum(p.sum(axis=1, keepdims=True), _FLOOR)
    top = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, top, minlength=bins) / count
        accuracy = np.bincount(which, right, minlength=bins) / count
    return {"edges": edges, "confidence": confidence, "accuracy": accuracy, "count": count}


def expected_calibration_error(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, bins: int = 15
) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over :func:`reliability`'s
    bins (0 is perfectly calibrated)."""
    r = reliability(probabilities, labels, bins)
    used = r["count"] > 0
    if not used.any():
        raise ValueError("no images to measure the calibration error on")
    gap = np.abs(r["confidence"][used] - r["accuracy"][used])
    return float(np.sum(gap * r["count"][used]) / np.sum(r["count"][used]))


def calibrate(
    probs: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    split: str = "val",
    tta: str = "flip",
) -> dict[str, Any]:
    """Fit a temperature to a model's probabilities on held-out images: the card's
    ``calibration`` record. Works on probabilities alone (the Trainer takes them with
    :func:`emorec.inference.predict_proba` at the classifier's default TTA, so the temperature
    fits what users get).

    Parameters
    ----------
    probs : array_like
        ``(n, classes)`` probabilities of a validation split, never the split you report.
    labels : array_like
        ``(n,)`` true class indices.
    split : str
        The split's name, for the record.
    tta : str
        The test-time augmentation the probabilities were taken with, for the record.

    Returns
    -------
    dict
        ``temperature``, the ``split``, ``tta`` and ``n`` it was fitted on, and the split's
        expected calibration error and negative log-likelihood before and after. With fewer
        than :data:`MIN_CALIBRATION_IMAGES` images, or a fit at an end of
        :data:`TEMPERATURE_RANGE` (a split the model gets all right, or all wrong), the
        temperature stays 1.0 and ``note`` says why (a warning is logged too).

    Raises
    ------
    ValueError
        For no probabilities, or labels that do not match them.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.calibration import calibrate
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(3), 20)
    >>> record = calibrate(probs, rng.integers(0, 3, 20))
    >>> record["temperature"], record["note"]  # 20 images: too few to fit on
    (1.0, '20 images are too few to fit a temperature (at least 100)')
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"probabilities of shape {probs.shape}; expected (n, classes), n > 0")
    if labels.shape != (len(probs),):
        raise ValueError(f"{labels.shape} labels for {len(probs)} rows of probabilities")
    t = fit_temperature(probs, labels)
    note = None
    low, high = TEMPERATURE_RANGE
    if len(labels) < MIN_CALIBRATION_IMAGES:
        note = (
            f"{len(labels)} images are too few to fit a temperature "
            f"(at least {MIN_CALIBRATION_IMAGES})"
        )
    elif not low * 1.01 < t < high / 1.01:
        note = f"the fit ran to the end of its range (T = {t:.3g}): the split is no guide"
    if note is not None:
        logger.warning("calibration on %r kept temperature 1.0: %s", split, note)
        t = 1.0
    after = apply_temperature(probs, t)
    return {
        **({"note": note} if note else {}),
        "temperature": round(t, 4),
        "split": split,
        "tta": tta,
        "n": len(labels),
        "ece_before": round(expected_calibration_error(probs, labels), 4),
        "ece_after": round(expected_calibration_error(after, labels), 4),
        "nll_before": round(negative_log_likelihood(probs, labels), 4),
        "nll_after": round(negative_log_likelihood(after, labels), 4),
    }
