"""Face detectors: :class:`FaceBox`, :class:`FaceDetector`, the registry, BlazeFace and Haar.

A detector is any object with ``detect(image) -> list[FaceBox]`` that takes an ``(H, W, 3)``
``uint8`` RGB array (grey ``(H, W)`` or ``(H, W, 1)`` is accepted too) and returns boxes in the
pixels of that image, best score first.

Built-in detectors (see :func:`list_detectors`):

- ``"blazeface"`` (the default): MediaPipe's BlazeFace "back camera" model, 256x256 input;
  images over 512 px are also searched in overlapping tiles, which finds faces down to about
  40 px in group photos up to 1664 px (``tiles=None``: one pass, faces from about 8 % of the
  image's longer side).
- ``"blazeface_short"``: BlazeFace short-range model, 128x128 input, for close-up faces
  (a face filling a good part of the picture).
- ``"haar"``: OpenCV's frontal-face Haar cascade (needs ``opencv-python``).

The BlazeFace models ship with emorec (``emorec/faces/data``, Apache License 2.0, see
``NOTICE.md`` there) and run on the TensorFlow Lite interpreter: ``ai_edge_litert`` when it is
installed, else ``tensorflow.lite``. Neither TensorFlow nor OpenCV is imported until the first
``detect``.

More detectors come from :func:`register_detector` or from installed packages through the
entry-point group ``emorec.detectors`` (loaded on the first lookup; a plugin that fails to load
is a warning naming it, not a crash). An entry point may name a factory (a class or function,
registered under the entry point's name) or a module that registers its detectors itself::

    [project.entry-points."emorec.detectors"]
    my_detector = "my_package.faces:MyDetector"
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import logging
import math
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final, Protocol, TypeVar, overload, runtime_checkable

import numpy as np
import numpy.typing as npt

from .._plugins import add_to_registry, load_plugins, where

__all__ = [
    "DEFAULT_DETECTOR",
    "BlazeFaceDetector",
    "FaceBox",
    "FaceDetector",
    "HaarDetector",
    "get_detector",
    "list_detectors",
    "register_detector",
]

logger = logging.getLogger("emorec")

#: The detector that ``get_detector("default")`` builds.
DEFAULT_DETECTOR: Final[str] = "blazeface"
#: Entry-point group of third-party detectors.
ENTRY_POINT_GROUP: Final[str] = "emorec.detectors"
#: Images with a side shorter than this many pixels hold no detectable face: ``detect`` -> [].
MIN_IMAGE_SIZE: Final[int] = 16


# --------------------------------------------------------------------------------------------
# Boxes and the protocol
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceBox:
    """A detected face: a box in the pixels of the image given to ``detect``.

    Parameters
    ----------
    x, y : int
        Top-left corner (column, row), inside the image.
    width, height : int
        Size in pixels (> 0); the box is clipped to the image.
    score : float
        Detector confidence in 0..1.
    keypoints : tuple of (x, y) float pairs
        Landmarks in image pixels, possibly outside the image; empty when the detector gives
        none. BlazeFace gives six, in the model's order: two eyes, nose tip, mouth centre and
        two ear tragions (see :class:`BlazeFaceDetector`). Not part of equality.

    Examples
    --------
    >>> box = FaceBox(10, 20, 30, 40, 0.9)
    >>> box.area, box.as_tuple()
    (1200, (10, 20, 30, 40))
    >>> box.to_dict()
    {'x': 10, 'y': 20, 'width': 30, 'height': 40, 'score': 0.9, 'keypoints': []}
    """

    x: int
    y: int
    width: int
    height: int
    score: float
    keypoints: tuple[tuple[float, float], ...] = field(default=(), compare=False, repr=False)

    @property
    def area(self) -> int:
        """``width * height`` in pixels."""
        return self.width * self.height

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(x, y, width, height)``, the form :func:`~emorec.faces.crop_faces` also accepts."""
        return (self.x, self.y, self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``x, y, width, height, score`` and ``keypoints`` (list of [x, y])."""
        return {
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "score": self.score,
            "keypoints": [[px, py] for px, py in self.keypoints],
        }


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces: ``detect(image) -> list[FaceBox]``.

    ``image`` is an ``(H, W, 3)`` ``uint8`` RGB array; the boxes are in its pixels, best first.

    Examples
    --------
    >>> class Everything:
    ...     def detect(self, image):
    ...         return [FaceBox(0, 0, image.shape[1], image.shape[0], 1.0)]
    >>> isinstance(Everything(), FaceDetector), isinstance(get_detector("haar"), FaceDetector)
    (True, True)
    """

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...


def _as_rgb(image: Any) -> npt.NDArray[np.uint8]:
    """Check a detector input and return it as a C-contiguous ``(H, W, 3)`` uint8 array."""
    if not isinstance(image, np.ndarray):
        raise ValueError(
            f"image is a {type(image).__name__}; expected a NumPy array of shape (H, W, 3) "
            "(RGB) or (H, W) (grey); use emorec.load_image() for files and PIL images"
        )
    if image.dtype != np.uint8:
        raise ValueError(
            f"image has dtype {image.dtype}; expected uint8 pixels in 0..255 "
            "(emorec.load_image() converts other dtypes)"
        )
    if image.ndim == 2:
        image = image[:, :, np.newaxis]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(
            f"image has shape {image.shape}; expected (H, W, 3) RGB, or (H, W) or (H, W, 1) grey "
            "(drop an alpha channel with image[..., :3])"
        )
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


# --------------------------------------------------------------------------------------------
# BlazeFace: anchors, decoding, weighted NMS
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BlazeFaceModel:
    filename: str
    input_size: int
    strides: tuple[int, ...]
    auto_tiles: bool  # whether tiles="auto" tiles large images


_BLAZEFACE_MODELS: Final[dict[str, _BlazeFaceModel]] = {
    "back": _BlazeFaceModel("face_detection_back.tflite", 256, (16, 32, 32, 32), True),
    # Close-up model: tiles find small faces with it too, but with more false ones.
    "short": _BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), False),
}
_MODEL_ALIASES: Final[dict[str, str]] = {"short_range": "short"}
_NUM_KEYPOINTS: Final[int] = 6
_RAW_SCORE_LIMIT: Final[float] = 80.0  # MediaPipe clips at 100, which overflows float32 exp


@functools.lru_cache(maxsize=8)
def _ssd_anchors(
    input_size: int, strides: tuple[int, ...], offset: float = 0.5
) -> npt.NDArray[np.float32]:
    """Anchor centres ``(n, 2)`` as (x, y) in 0..1 for a square SSD input (read-only array).

    Consecutive layers with the same stride form one grid of ``input_size // stride`` cells a
    side with ``2 * layers`` anchors per cell (MediaPipe's fixed-size anchors, aspect ratio 1
    plus the interpolated scale); cells go row by row, each cell's anchors consecutively.
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


def _decode(
    regressors: npt.NDArray[np.floating],
    logits: npt.NDArray[np.floating],
    anchors: npt.NDArray[np.floating],
    input_size: int,
    min_score: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Decode raw BlazeFace outputs, keeping anchors that score at least ``min_score``.

    Returns boxes ``(k, 4)`` as (xmin, ymin, xmax, ymax), keypoints ``(k, 6, 2)`` (both in
    0..1 of the model input) and scores ``(k,)``.
    """
    raw = np.asarray(regressors, dtype=np.float64).reshape(len(anchors), -1)
    logit = np.clip(np.asarray(logits, dtype=np.float64).reshape(len(anchors)), -80.0, 80.0)
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


def _weighted_nms(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    iou_threshold: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """MediaPipe's weighted non-maximum suppression, best score first.

    The best remaining box and every remaining box overlapping it with IoU > ``iou_threshold``
    form a cluster; the cluster becomes one detection whose box and keypoints are the
    score-weighted mean of its members and whose score is the best member's. One iteration per
    output face, each vectorised over the remaining boxes.
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


@dataclass(frozen=True)
class _Letterbox:
    """How an image was fitted into the square model input (all in model-input pixels)."""

    size: int
    pad_x: int
    pad_y: int
    scale_x: float  # resized width / original width
    scale_y: float


def _letterbox(rgb: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.float32], _Letterbox]:
    """Fit ``rgb`` into ``size x size`` keeping its aspect (centred, black padding), in [-1, 1].

    OpenCV resizes (area averaging to shrink, bilinear to enlarge): on a 512 px photo about
    ten times faster than Pillow's bilinear resize, which cost a tenth of a portrait's
    detection.
    """
    import cv2

    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    shrink = new_w < width or new_h < height
    resized = cv2.resize(
        np.ascontiguousarray(rgb),
        (new_w, new_h),
        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
    )
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    tensor = np.full((1, size, size, 3), -1.0, dtype=np.float32)
    window = tensor[0, pad_y : pad_y + new_h, pad_x : pad_x + new_w]
    np.multiply(resized, np.float32(2 / 255), out=window, casting="unsafe")
    window -= 1
    return tensor, _Letterbox(size, pad_x, pad_y, new_w / width, new_h / height)


def _to_pixels(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    box: _Letterbox,
    origin: tuple[int, int] = (0, 0),
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Undo the letterbox: model-input 0..1 coordinates -> pixels of the letterboxed image.

    ``origin`` (x, y) is where that image lies in the whole picture (a tile's corner). Returns
    boxes ``(k, 4)`` as (xmin, ymin, xmax, ymax) and keypoints ``(k, n, 2)``, not clipped.
    """
    offset = np.array([box.pad_x, box.pad_y], dtype=np.float64)
    scale = np.array([box.scale_x, box.scale_y], dtype=np.float64)
    corners = (boxes.reshape(-1, 2, 2) * box.size - offset) / scale
    points = (keypoints * box.size - offset) / scale
    if origin != (0, 0):
        shift = np.array(origin, dtype=np.float64)
        corners, points = corners + shift, points + shift
    return corners.reshape(-1, 4), points


def _pixel_face_boxes(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    image_size: tuple[int, int],
) -> list[FaceBox]:
    """:class:`FaceBox` objects from pixel boxes (xmin, ymin, xmax, ymax): clipped, rounded."""
    height, width = image_size
    corners = np.clip(boxes.reshape(-1, 2, 2), 0, [width, height])
    corners = np.rint(corners).astype(np.int64)
    faces = []
    for (x0, y0), (x1, y1), pts, score in zip(corners[:, 0], corners[:, 1], keypoints, scores):
        if x1 > x0 and y1 > y0:
            faces.append(
                FaceBox(
                    int(x0),
                    int(y0),
                    int(x1 - x0),
                    int(y1 - y0),
                    float(score),
                    tuple((float(px), float(py)) for px, py in pts),
                )
            )
    return faces


def _to_face_boxes(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    box: _Letterbox,
    image_size: tuple[int, int],
) -> list[FaceBox]:
    """Undo the letterbox: model-input 0..1 coordinates -> original pixels, clipped."""
    corners, points = _to_pixels(boxes, keypoints, box)
    return _pixel_face_boxes(corners, points, scores, image_size)


#: Neighbouring tiles overlap by at least this fraction of the tile side.
_TILE_OVERLAP: Final[float] = 0.25
#: ``tiles="auto"``: tile side = this many model inputs; images longer than that get tiles.
_AUTO_TILE_INPUTS: Final[int] = 2
#: ``tiles="auto"``: at most this many tiles along the longer side (larger tiles beyond).
_AUTO_MAX_TILES: Final[int] = 4
#: A tile detection reaching this close (fraction of the tile side) to an edge the tile shares
#: with a neighbour is dropped: the face may be cut there, and the overlap shows it whole in
#: another tile (or the whole-image pass finds it).
_TILE_EDGE_MARGIN: Final[float] = 1 / 64
#: Tile detections larger than this fraction of the tile side are dropped: a face that large
#: may not lie whole in any tile, and it is large enough for the whole-image pass, which sees
#: it in context (zoomed-in tiles otherwise add large false faces, e.g. a cat's).
_TILE_MAX_FACE: Final[float] = _TILE_OVERLAP
#: With tiles, whole-image detections narrower than this fraction of the tile side are dropped:
#: the tiles see such faces at least twice as large, and the whole image, shrunk, gives them
#: boxes too small or off (one inside a tile's box of the same face would be a second face).
_WHOLE_MIN_FACE: Final[float] = _TILE_MAX_FACE / 2

_Tile = tuple[int, int, int, int]


def _tile_starts(length: int, side: int, overlap: float) -> list[int]:
    """Offsets of tiles of ``side`` px covering ``length`` px, evenly spread, overlap >= given."""
    if length <= side:
        return [0]
    count = math.ceil((length - side) / (side * (1.0 - overlap)) - 1e-9) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def _tile_grid(
    image_size: tuple[int, int], tiles: str | int | None, input_size: int
) -> list[_Tile]:
    """The square tiles ``(x0, y0, x1, y1)`` of an image of ``(height, width)``; [] for none.

    ``tiles="auto"``: none up to ``2 * input_size`` px on the longer side; beyond, tiles of
    ``2 * input_size`` px (a 40 px face is 20 px at the model input), or larger ones where more
    than 4 would be needed along the longer side. An int ``k`` (>= 2): ``k`` tiles along the
    longer side, as many of the same size as needed along the shorter one. Neighbours overlap
    by at least ``_TILE_OVERLAP`` of the side; a tile is clipped to the image where it is
    longer than the image's shorter side.
    """
    height, width = image_size
    longer = max(height, width)
    if tiles is None:
        return []
    if tiles == "auto":
        if longer <= _AUTO_TILE_INPUTS * input_size:
            return []
        per_side = _AUTO_MAX_TILES - (_AUTO_MAX_TILES - 1) * _TILE_OVERLAP
        side = max(_AUTO_TILE_INPUTS * input_size, math.ceil(longer / per_side))
    else:
        count = int(tiles)
        if count < 2:
            return []
        side = math.ceil(longer / (count - (count - 1) * _TILE_OVERLAP))
    side = max(side, MIN_IMAGE_SIZE)
    if side >= longer:
        return []  # one tile, the whole image
    xs = _tile_starts(width, side, _TILE_OVERLAP)
    ys = _tile_starts(height, side, _TILE_OVERLAP)
    return [(x, y, min(x + side, width), min(y + side, height)) for y in ys for x in xs]


def _box_side(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The longer side of each (xmin, ymin, xmax, ymax) box."""
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def _tile_keep(
    boxes: npt.NDArray[np.float64], tile: _Tile, image_size: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Which pixel boxes found in ``tile`` to keep: not too large, clear of its inner edges.

    Inner edges are those the tile shares with a neighbour (not the image's border).
    """
    height, width = image_size
    x0, y0, x1, y1 = tile
    side = max(x1 - x0, y1 - y0)
    margin = _TILE_EDGE_MARGIN * side
    keep = _box_side(boxes) <= _TILE_MAX_FACE * side
    if x0 > 0:
        keep &= boxes[:, 0] >= x0 + margin
    if y0 > 0:
        keep &= boxes[:, 1] >= y0 + margin
    if x1 < width:
        keep &= boxes[:, 2] <= x1 - margin
    if y1 < height:
        keep &= boxes[:, 3] <= y1 - margin
    return keep


def _load_tflite_interpreter(model_content: bytes, num_threads: int | None) -> Any:
    """A TensorFlow Lite interpreter: LiteRT (``ai_edge_litert``) if installed, else TF's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tensorflow import lite
        except ImportError as error:
            raise ImportError(
                "BlazeFace needs a TensorFlow Lite interpreter: pip install ai-edge-litert "
                f"(or tensorflow) ({error})"
            ) from error
        with warnings.catch_warnings():
            # TF >= 2.18 announces that tf.lite.Interpreter moves to ai_edge_litert.
            warnings.filterwarnings(
                "ignore",
                message=r"\s*Warning: tf\.lite\.Interpreter is deprecated",
                category=UserWarning,
            )
            interpreter = lite.Interpreter(model_content=model_content, num_threads=num_threads)
        logger.debug("BlazeFace runs on tensorflow.lite.Interpreter (ai_edge_litert not found)")
    else:
        interpreter = Interpreter(model_content=model_content, num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter


def _default_threads() -> int:
    """The CPU cores this process may use, at most 4 (the interpreter's default thread count)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class BlazeFaceDetector:
    """MediaPipe BlazeFace face detector (TensorFlow Lite, CPU, a few milliseconds an image).

    The image is letterboxed (aspect kept, centred, black padding) to the model's square input,
    scaled to [-1, 1] and run through the network; the 896 anchor predictions scoring at least
    ``min_score`` are merged by weighted non-maximum suppression (MediaPipe's) and mapped back
    to the image's pixels. The interpreter is created on the first :meth:`detect` and reused;
    ``detect`` is thread-safe (one inference at a time per detector).

    A large photo shrunk to 256 px leaves its small faces a few pixels wide, so large images
    are also cut into overlapping square tiles, each run through the model at a larger scale
    (see ``tiles``); the predictions of the whole image and of all tiles are merged by the same
    weighted NMS, in the image's pixels. Before that, a tile's predictions are dropped where they
    reach an edge the tile shares with a neighbour (the face may be cut there) or are larger
    than a quarter of the tile side: neighbouring tiles overlap by that much, so a face up to
    that size lies whole in some tile, and larger faces are left to the whole-image pass, which
    sees them whole and in context. The whole-image pass, in turn, gives up faces smaller than
    an eighth of the tile side, which the tiles see at least twice as large (shrunk that much,
    such a face can get a box too small, which would not merge with the tiles' box).

    Parameters
    ----------
    model : {"back", "short"}
        ``"back"`` (default): 256x256 input, faces from about 20 px, good for group photos.
        ``"short"`` (alias ``"short_range"``): 128x128 input, close-up faces only.
    min_score : float
        Minimum confidence (0..1) of a detection.
    iou_threshold : float
        Overlap (IoU) above which predictions are merged into one face.
    max_faces : int, optional
        Keep at most this many faces (the best ones); default all.
    num_threads : int, optional
        Threads of the interpreter; default the CPU cores this process may use, at most 4
        (the interpreter's own default is one thread).
    tiles : "auto", int or None
        Small faces in large images. ``"auto"`` (default): with the ``"back"`` model, images
        longer than twice the model input (512 px) are also searched in square tiles of 512 px,
        where a 40 px face is 20 px at the model input (above 1664 px, larger tiles: at most 4
        along the longer side); e.g. 6 tiles for a 1024x683 or 1280x800 photo, each costing
        about as much as the whole-image pass. No tiles with ``"short"``, the close-up model
        (tiles find small faces with it too, but also more false ones). An int ``k`` forces
        tiles at any size and with either model: ``k`` along the longer side (``k`` x ``k`` on a
        square image) and as many of the same size as the shorter side needs; ``1`` means
        none. Tiles smaller than the model input enlarge the image, which brings false faces.
        ``None``: the whole-image pass only, the fastest; faces narrower than about 8 % of the
        image's longer side (20 px at the model input) may be missed.

    Notes
    -----
    Each :class:`FaceBox` carries six keypoints in image pixels, in the model's order: the eye
    on the image's left (the subject's right eye), the other eye, nose tip, mouth centre, and
    the ear tragions in the same left/right order as the eyes.

    Examples
    --------
    >>> import numpy as np
    >>> BlazeFaceDetector().detect(np.zeros((64, 64, 3), np.uint8))
    []
    >>> BlazeFaceDetector("short", min_score=0.6)
    BlazeFaceDetector(model='short', min_score=0.6, iou_threshold=0.3, max_faces=None, tiles='auto')
    """

    def __init__(
        self,
        model: str = "back",
        *,
        min_score: float = 0.5,
        iou_threshold: float = 0.3,
        max_faces: int | None = None,
        num_threads: int | None = None,
        tiles: str | int | None = "auto",
    ) -> None:
        key = _MODEL_ALIASES.get(model, model) if isinstance(model, str) else None
        if key not in _BLAZEFACE_MODELS:
            raise ValueError(
                f"unknown BlazeFace model {model!r}; expected 'back' (group photos, 256 px) or "
                "'short' (close-up faces, 128 px)"
            )
        if not 0.0 <= float(min_score) <= 1.0:
            raise ValueError(f"min_score={min_score}; expected a value in 0..1")
        if not 0.0 <= float(iou_threshold) <= 1.0:
            raise ValueError(f"iou_threshold={iou_threshold}; expected a value in 0..1")
        if max_faces is not None and int(max_faces) < 1:
            raise ValueError(f"max_faces={max_faces}; expected None (all) or at least 1")
        if num_threads is not None and int(num_threads) < 1:
            raise ValueError(f"num_threads={num_threads}; expected None or at least 1")
        if not (
            tiles is None
            or tiles == "auto"
            or (isinstance(tiles, (int, np.integer)) and not isinstance(tiles, bool) and tiles >= 1)
        ):
            raise ValueError(
                f"tiles={tiles!r}; expected 'auto', None (no tiles) or a number of tiles per "
                "side >= 1"
            )
        self.model = key
        self.min_score = float(min_score)
        self.iou_threshold = float(iou_threshold)
        self.max_faces = None if max_faces is None else int(max_faces)
        self.num_threads = None if num_threads is None else int(num_threads)
        self.tiles: str | int | None = tiles if tiles is None or tiles == "auto" else int(tiles)
        self._spec = _BLAZEFACE_MODELS[key]
        self._anchors = _ssd_anchors(self._spec.input_size, self._spec.strides)
        self._lock = threading.Lock()
        self._interpreter: Any = None
        self._indices: tuple[int, int, int] = (0, 0, 0)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, min_score={self.min_score}, "
            f"iou_threshold={self.iou_threshold}, max_faces={self.max_faces}, "
            f"tiles={self.tiles!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # Pickle the settings only; the copy makes its own interpreter and lock when used.
        state = self.__dict__.copy()
        state["_interpreter"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def input_size(self) -> int:
        """Side of the model's square input in pixels (256 or 128)."""
        return self._spec.input_size

    def _ensure_interpreter(self) -> Any:
        """Create the interpreter once (call with the lock held)."""
        if self._interpreter is None:
            data = resources.files("emorec.faces").joinpath("data").joinpath(self._spec.filename)
            interpreter = _load_tflite_interpreter(
                data.read_bytes(), self.num_threads or _default_threads()
            )
            (image_input,) = interpreter.get_input_details()
            outputs = {d["name"]: d for d in interpreter.get_output_details()}
            by_width = {int(d["shape"][-1]): d for d in outputs.values()}
            regressors = outputs.get("regressors", by_width.get(16))
            classificators = outputs.get("classificators", by_width.get(1))
            if regressors is None or classificators is None:
                raise RuntimeError(
                    f"{self._spec.filename}: unexpected outputs {sorted(outputs)}; expected "
                    "'regressors' (1, 896, 16) and 'classificators' (1, 896, 1)"
                )
            self._indices = (
                image_input["index"],
                regressors["index"],
                classificators["index"],
            )
            self._interpreter = interpreter
            logger.debug("loaded BlazeFace model %s", self._spec.filename)
        return self._interpreter

    def _infer(
        self, tensor: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        with self._lock:
            interpreter = self._ensure_interpreter()
            input_index, regressors_index, scores_index = self._indices
            interpreter.set_tensor(input_index, tensor)
            interpreter.invoke()
            return interpreter.get_tensor(regressors_index), interpreter.get_tensor(scores_index)

    def _infer_each(
        self, tensors: list[npt.NDArray[np.float32]]
    ) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
        """Run the model on each ``(1, size, size, 3)`` tensor, in one hold of the lock.

        One invocation per tensor: the models reshape their outputs for a batch of one, so a
        resized batch input comes back with the images' anchors interleaved by head, and on
        CPU it is no faster (measured on 2 to 12 images).
        """
        with self._lock:
            interpreter = self._ensure_interpreter()
            input_index, regressors_index, scores_index = self._indices
            outputs = []
            for tensor in tensors:
                interpreter.set_tensor(input_index, tensor)
                interpreter.invoke()
                outputs.append(
                    (interpreter.get_tensor(regressors_index), interpreter.get_tensor(scores_index))
                )
            return outputs

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image``.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.

        Returns
        -------
        list of FaceBox
            In the pixels of ``image``, best score first; ``[]`` when there is no face or the
            image is smaller than 16 pixels a side. With tiles (see the class), the model runs
            on the whole image and on each tile, and their detections are merged.

        Raises
        ------
        ValueError
            If ``image`` is not a uint8 array of one of those shapes.
        """
        rgb = _as_rgb(image)
        if min(rgb.shape[:2]) < MIN_IMAGE_SIZE:
            return []
        image_size = (rgb.shape[0], rgb.shape[1])
        size = self._spec.input_size
        tensor, box = _letterbox(rgb, size)
        tiles = None if self.tiles == "auto" and not self._spec.auto_tiles else self.tiles
        grid = _tile_grid(image_size, tiles, size)
        if grid:
            faces = self._detect_tiled(rgb, tensor, box, grid)
        else:
            regressors, logits = self._infer(tensor)
            boxes, keypoints, scores = _decode(
                regressors, logits, self._anchors, size, self.min_score
            )
            if len(scores) == 0:
                return []
            boxes, keypoints, scores = _weighted_nms(boxes, keypoints, scores, self.iou_threshold)
            faces = _to_face_boxes(boxes, keypoints, scores, box, image_size)
        return faces if self.max_faces is None else faces[: self.max_faces]

    def _detect_tiled(
        self,
        rgb: npt.NDArray[np.uint8],
        tensor: npt.NDArray[np.float32],
        box: _Letterbox,
        grid: list[_Tile],
    ) -> list[FaceBox]:
        """Whole image (already letterboxed: ``tensor``, ``box``) plus tiles, merged in pixels."""
        image_size = (rgb.shape[0], rgb.shape[1])
        size = self._spec.input_size
        tile_side = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in grid)
        tensors, boxes_of = [tensor], [box]
        for x0, y0, x1, y1 in grid:
            tile_tensor, tile_box = _letterbox(rgb[y0:y1, x0:x1], size)
            tensors.append(tile_tensor)
            boxes_of.append(tile_box)
        found_boxes, found_points, found_scores = [], [], []
        for index, (regressors, logits) in enumerate(self._infer_each(tensors)):
            boxes, keypoints, scores = _decode(
                regressors, logits, self._anchors, size, self.min_score
            )
            if len(scores) == 0:
                continue
            if index == 0:
                boxes, keypoints = _to_pixels(boxes, keypoints, boxes_of[0])
                keep = _box_side(boxes) >= _WHOLE_MIN_FACE * tile_side
            else:
                tile = grid[index - 1]
                boxes, keypoints = _to_pixels(boxes, keypoints, boxes_of[index], tile[:2])
                keep = _tile_keep(boxes, tile, image_size)
            if not keep.any():
                continue
            boxes, keypoints, scores = boxes[keep], keypoints[keep], scores[keep]
            found_boxes.append(boxes)
            found_points.append(keypoints)
            found_scores.append(scores)
        if not found_scores:
            return []
        boxes, keypoints, scores = _weighted_nms(
            np.concatenate(found_boxes),
            np.concatenate(found_points),
            np.concatenate(found_scores),
            self.iou_threshold,
        )
        return _pixel_face_boxes(boxes, keypoints, scores, image_size)


# --------------------------------------------------------------------------------------------
# OpenCV Haar cascade
# --------------------------------------------------------------------------------------------


class HaarDetector:
    """OpenCV's Viola-Jones Haar cascade face detector (frontal faces).

    Needs OpenCV (``pip install opencv-python-headless``), imported on the first
    :meth:`detect`. The image is converted to grey and scanned with
    ``CascadeClassifier.detectMultiScale3(..., outputRejectLevels=True)``.

    Parameters
    ----------
    scale_factor : float
        Scale step between pyramid levels (> 1).
    min_neighbors : int
        Overlapping raw detections a face needs to be kept.
    min_size : (width, height)
        Smallest face searched for, in pixels.
    cascade : str
        A cascade file: a path, or a file name in ``cv2.data.haarcascades``.

    Notes
    -----
    The score is OpenCV's level weight ``w`` (the detection's sum over the cascade's last
    stage, roughly -3..10, larger is surer) squashed with the logistic function
    ``1 / (1 + exp(-w))``; it is 1.0 when OpenCV gives no weight.

    Examples
    --------
    >>> import numpy as np
    >>> HaarDetector().detect(np.zeros((64, 64), np.uint8))
    []
    """

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: tuple[int, int] = (24, 24),
        cascade: str = "haarcascade_frontalface_default.xml",
    ) -> None:
        if not float(scale_factor) > 1.0:
            raise ValueError(f"scale_factor={scale_factor}; expected a value > 1")
        if int(min_neighbors) < 0:
            raise ValueError(f"min_neighbors={min_neighbors}; expected >= 0")
        if len(min_size) != 2 or min(int(s) for s in min_size) < 1:
            raise ValueError(f"min_size={min_size}; expected (width, height) >= 1")
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = (int(min_size[0]), int(min_size[1]))
        self.cascade = str(cascade)
        self._lock = threading.Lock()
        self._classifier: Any = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scale_factor={self.scale_factor}, "
            f"min_neighbors={self.min_neighbors}, min_size={self.min_size})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_classifier"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _ensure_classifier(self) -> Any:
        if self._classifier is None:
            import os

            import cv2

            path = self.cascade
            if not os.path.exists(path):
                path = os.path.join(getattr(cv2, "data").haarcascades, self.cascade)  # noqa: B009
            classifier = cv2.CascadeClassifier(path)
            if classifier.empty():
                raise FileNotFoundError(
                    f"could not load Haar cascade {self.cascade!r} (looked for {path}); give a "
                    "cascade XML path or a file name from cv2.data.haarcascades"
                )
            self._classifier = classifier
        return self._classifier

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image`` (same contract as :meth:`BlazeFaceDetector.detect`).

        Returns
        -------
        list of FaceBox
            In the pixels of ``image``, best score first; no keypoints.
        """
        rgb = _as_rgb(image)
        height, width = rgb.shape[:2]
        if min(height, width) < MIN_IMAGE_SIZE:
            return []
        import cv2

        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        with self._lock:
            classifier = self._ensure_classifier()
            rects, _levels, weights = classifier.detectMultiScale3(
                grey,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=self.min_size,
                outputRejectLevels=True,
            )
        rects = np.asarray(rects, dtype=np.int64).reshape(-1, 4)
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if len(weights) == len(rects):
            scores = 1.0 / (1.0 + np.exp(-np.clip(weights, -80.0, 80.0)))
        else:
            scores = np.ones(len(rects))
        faces = []
        for (x, y, w, h), score in zip(rects, scores):
            x0, y0 = max(0, int(x)), max(0, int(y))
            x1, y1 = min(width, int(x + w)), min(height, int(y + h))
            if x1 > x0 and y1 > y0:
                faces.append(FaceBox(x0, y0, x1 - x0, y1 - y0, float(score)))
        faces.sort(key=lambda face: -face.score)
        return faces


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

Factory = Callable[..., FaceDetector]
F = TypeVar("F", bound=Callable[..., Any])

_registry: dict[str, Callable[..., Any]] = {}
_entry_points_loaded = False


@overload
def register_detector(
    name: str, factory: None = None, *, override: bool = False
) -> Callable[[F], F]: ...
@overload
def register_detector(name: str, factory: F, *, override: bool = False) -> F: ...


def register_detector(
    name: str, factory: Callable[..., Any] | None = None, *, override: bool = False
) -> Any:
    """Register a detector factory under ``name``; also usable as ``@register_detector(name)``.

    A factory is a class or function whose call (with the keyword arguments given to
    :func:`get_detector`) returns an object with ``detect(image) -> list[FaceBox]``.

    Parameters
    ----------
    name : str
        The name :func:`get_detector` will know it by.
    factory : callable, optional
        The factory; omit it to use the function as a decorator.
    override : bool
        Replace a factory already registered under that name instead of raising.

    Returns
    -------
    The factory (or, without one, a decorator that registers and returns it).

    Raises
    ------
    ValueError
        If the name is taken and ``override`` is False, or is not a non-empty string.

    Examples
    --------
    >>> import numpy as np
    >>> @register_detector("whole_image_doc", override=True)
    ... class WholeImage:
    ...     def detect(self, image):
    ...         return [FaceBox(0, 0, image.shape[1], image.shape[0], 1.0)]
    >>> get_detector("whole_image_doc").detect(np.zeros((4, 6, 3), np.uint8))
    [FaceBox(x=0, y=0, width=6, height=4, score=1.0)]
    """
    if factory is not None:
        _add(name, factory, override=override)
        return factory

    def decorator(fn: F) -> F:
        _add(name, fn, override=override)
        return fn

    if not isinstance(name, str) or not name:
        raise ValueError(f"detector name must be a non-empty string, not {name!r}")
    return decorator


def _add(name: str, factory: Callable[..., Any], *, override: bool) -> None:
    if name == "default":
        raise ValueError(f"'default' is reserved (it means {DEFAULT_DETECTOR!r}); choose a name")
    if not callable(factory):
        raise ValueError(f"detector {name!r}: factory {factory!r} is not callable")
    add_to_registry(_registry, name, factory, "detector", override=override)


def load_entry_points() -> None:
    """Import the ``emorec.detectors`` entry points of installed packages (once).

    A plugin that fails to load produces a warning naming it; the others still load.
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for name, obj in load_plugins(ENTRY_POINT_GROUP, "detector"):
        if callable(obj) and name not in _registry:
            _add(name, obj, override=False)


def list_detectors(pattern: str = "*") -> list[str]:
    """Names of the registered detectors matching a shell-style pattern, sorted.

    Examples
    --------
    >>> list_detectors("blaze*")
    ['blazeface', 'blazeface_short']
    """
    load_entry_points()
    return sorted(n for n in _registry if fnmatch.fnmatchcase(n, pattern))


def get_detector(detector: str | FaceDetector = "default", **kwargs: Any) -> FaceDetector:
    """A face detector by name (built with ``kwargs``), or ``detector`` itself if it is one.

    Parameters
    ----------
    detector : str or FaceDetector
        A name from :func:`list_detectors`, ``"default"`` (``"blazeface"``), or an object
        with a ``detect`` method, returned as is.
    **kwargs
        Options of the detector, e.g. ``min_score=0.7``.

    Raises
    ------
    KeyError
        For an unknown name; the message lists the registered names.
    TypeError
        If ``detector`` is neither a string nor a detector, if ``kwargs`` come with a detector
        object, or if the factory returns something without ``detect``.

    Examples
    --------
    >>> get_detector()
    BlazeFaceDetector(model='back', min_score=0.5, iou_threshold=0.3, max_faces=None, tiles='auto')
    >>> get_detector("blazeface_short", max_faces=1, tiles=None)
    BlazeFaceDetector(model='short', min_score=0.5, iou_threshold=0.3, max_faces=1, tiles=None)
    """
    if not isinstance(detector, str):
        if callable(getattr(detector, "detect", None)):
            if kwargs:
                raise TypeError(
                    f"options {sorted(kwargs)} were given with a ready detector object "
                    f"{detector!r}; pass a registered name to build one with options"
                )
            return detector
        raise TypeError(
            f"detector={detector!r}; expected a registered name ({', '.join(list_detectors())}) "
            "or an object with a detect(image) method"
        )
    name = DEFAULT_DETECTOR if detector == "default" else detector
    load_entry_points()
    factory = _registry.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, list(_registry), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise KeyError(
            f"unknown detector {detector!r}; {hint}registered detectors: "
            f"{', '.join(sorted(_registry))} (or 'default')"
        )
    built = factory(**kwargs)
    if not callable(getattr(built, "detect", None)):
        raise TypeError(
            f"detector {name!r} ({where(factory)}) returned {built!r}, which has no "
            "detect(image) method"
        )
    return built


def _blazeface(**kwargs: Any) -> BlazeFaceDetector:
    return BlazeFaceDetector("back", **kwargs)


def _blazeface_short(**kwargs: Any) -> BlazeFaceDetector:
    return BlazeFaceDetector("short", **kwargs)


register_detector("blazeface", _blazeface)
register_detector("blazeface_short", _blazeface_short)
register_detector("haar", HaarDetector)
