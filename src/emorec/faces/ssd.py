"""The arithmetic of BlazeFace's single-shot detector (SSD) head, in NumPy alone (no
interpreter): :func:`ssd_anchors` (MediaPipe's anchor centres), :func:`decode` (the raw
outputs -> boxes, keypoints, scores) and :func:`weighted_nms` (MediaPipe's merge of
overlapping predictions). :class:`~emorec.faces.BlazeFaceDetector` runs the model and puts
these together; they are importable from :mod:`emorec.faces.blazeface` too.

Examples
--------
>>> import numpy as np
>>> from emorec.faces.ssd import decode, ssd_anchors, weighted_nms
>>> anchors = ssd_anchors(128, (8, 16, 16, 16))
>>> raw, logits = np.zeros((1, 896, 16)), np.full((1, 896, 1), -9.0)
>>> raw[0, :2, 2:4], logits[0, :2] = 32, 3.0  # anchors 0 and 1 (one cell) see a 32 px face
>>> boxes, keypoints, scores = decode(raw, logits, anchors, 128, min_score=0.5)
>>> len(scores), len(weighted_nms(boxes, keypoints, scores, iou_threshold=0.3)[2])
(2, 1)
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["Detections", "decode", "ssd_anchors", "weighted_nms"]

_RAW_SCORE_LIMIT: Final[float] = 80.0  # MediaPipe clips at 100, which overflows float32 exp


@functools.lru_cache(maxsize=8)
def ssd_anchors(
    input_size: int, strides: tuple[int, ...], offset: float = 0.5
) -> npt.NDArray[np.float32]:
    """Anchor centres ``(n, 2)`` as (x, y) in 0..1 for a square SSD input (read-only array).

    Consecutive layers with the same stride form one grid of ``input_size // stride`` cells a
    side with ``2 * layers`` anchors per cell (MediaPipe's fixed-size anchors, aspect ratio 1
    plus the interpolated scale); cells go row by row, each cell's anchors consecutively.

    Examples
    --------
    >>> from emorec.faces.ssd import ssd_anchors
    >>> anchors = ssd_anchors(128, (8, 16, 16, 16))
    >>> anchors.shape, anchors[0].tolist()
    ((896, 2), [0.03125, 0.03125])
    """
    groups = []
    start = 0
    while start < len(strides):
        stop = start
        while stop < len(strides) and strides[stop] == strides[start]:
            stop += 1
        grid = input_size // strides[start]
        centres = (np.arange(grid, dtype=np.float64) + offset) / grid
        ys, xs = np.meshgrid(centres, centres, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        groups.append(np.repeat(cells, 2 * (stop - start), axis=0))
        start = stop
    anchors = np.concatenate(groups).astype(np.float32)
    anchors.flags.writeable = False
    return anchors


#: Boxes ``(k, 4)``, keypoints ``(k, n, 2)`` and scores ``(k,)`` of ``k`` detections.
Detections = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def decode(
    regressors: npt.ArrayLike,
    logits: npt.ArrayLike,
    anchors: npt.NDArray[np.floating],
    input_size: int,
    min_score: float,
) -> Detections:
    """Decode raw BlazeFace outputs, keeping anchors that score at least ``min_score``.

    Parameters
    ----------
    regressors : array_like
        ``(1, n, 16)``: per anchor, box centre offset (x, y) and size (w, h), then six
        keypoint offsets (x, y), all in model-input pixels relative to the anchor's centre.
    logits : array_like
        ``(1, n, 1)`` raw scores (clipped to +-80, then the logistic function).
    anchors : numpy.ndarray
        ``(n, 2)`` from :func:`ssd_anchors`.
    input_size : int
        Side of the model input in pixels.
    min_score : float
        Keep detections scoring at least this.

    Returns
    -------
    boxes, keypoints, scores : numpy.ndarray
        ``(k, 4)`` as (xmin, ymin, xmax, ymax) and ``(k, 6, 2)`` as (x, y), both in 0..1 of
        the model input, and ``(k,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.ssd import decode, ssd_anchors
    >>> anchors = ssd_anchors(128, (8, 16, 16, 16))
    >>> regressors, logits = np.zeros((1, 896, 16)), np.full((1, 896, 1), -9.0)
    >>> regressors[0, 0, 2:4], logits[0, 0] = (64, 32), 3.0
    >>> boxes, keypoints, scores = decode(regressors, logits, anchors, 128, 0.5)
    >>> boxes.round(4).tolist(), keypoints.shape, scores.round(3).tolist()
    ([[-0.2188, -0.0938, 0.2812, 0.1562]], (1, 6, 2), [0.953])
    """
    raw = np.asarray(regressors, dtype=np.float64).reshape(len(anchors), -1)
    logit = np.clip(
        np.asarray(logits, dtype=np.float64).reshape(len(anchors)),
        -_RAW_SCORE_LIMIT,
        _RAW_SCORE_LIMIT,
    )
    scores = 1.0 / (1.0 + np.exp(-logit))
    keep = np.flatnonzero(scores >= min_score)
    raw = raw[keep] / input_size
    centres = np.asarray(anchors, dtype=np.float64)[keep]
    centre = raw[:, 0:2] + centres
    half = raw[:, 2:4] / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    n_points = (raw.shape[1] - 4) // 2
    keypoints = raw[:, 4 : 4 + 2 * n_points].reshape(-1, n_points, 2) + centres[:, np.newaxis, :]
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[valid], keypoints[valid], scores[keep][valid]


def _iou(box: npt.NDArray[np.float64], boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Intersection over union of one (xmin, ymin, xmax, ymax) box with each of ``boxes``."""
    inter_w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def weighted_nms(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    iou_threshold: float,
) -> Detections:
    """MediaPipe's weighted non-maximum suppression, best score first.

    The best remaining box and every remaining box overlapping it with IoU > ``iou_threshold``
    form a cluster; the cluster becomes one detection whose box and keypoints are the
    score-weighted mean of its members and whose score is the best member's. One iteration per
    output face, each vectorised over the remaining boxes. Any coordinates (model input or
    pixels) as long as all are in the same ones.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.ssd import weighted_nms
    >>> boxes = np.array([[0.0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]])
    >>> points = np.zeros((3, 6, 2))
    >>> merged, _, scores = weighted_nms(boxes, points, np.array([0.9, 0.3, 0.8]), 0.3)
    >>> merged.round(2).tolist(), scores.tolist()
    ([[0.25, 0.0, 10.25, 10.0], [50.0, 50.0, 60.0, 60.0]], [0.9, 0.8])
    """
    order = np.argsort(-scores, kind="stable")
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    n_points = keypoints.shape[1]
    data = np.concatenate([boxes, keypoints.reshape(len(boxes), -1)], axis=1)
    merged: list[npt.NDArray[np.float64]] = []
    best: list[float] = []
    remaining = np.arange(len(boxes))
    while remaining.size:
        top = remaining[0]
        in_cluster = _iou(boxes[top], boxes[remaining]) > iou_threshold
        in_cluster[0] = True
        members = remaining[in_cluster]
        weights = scores[members]
        merged.append(weights @ data[members] / weights.sum())
        best.append(float(scores[top]))
        remaining = remaining[~in_cluster]
    out = np.array(merged, dtype=np.float64).reshape(-1, data.shape[1])
    return out[:, :4], out[:, 4:].reshape(-1, n_points, 2), np.array(best, dtype=np.float64)
