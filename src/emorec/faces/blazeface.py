"""The bundled default face detector: MediaPipe's BlazeFace on the TensorFlow Lite interpreter.

Registered as ``"blazeface"`` (the "back camera" model, 256x256 input, the default) and
``"blazeface_short"`` (the short-range model, 128x128 input, for close-up faces). The pieces
are public and tested one by one: :func:`letterbox` and :func:`to_image_pixels` (model input
<-> image pixels) and :func:`face_boxes` here; :mod:`emorec.faces.ssd` for the model's output
arithmetic, :func:`~emorec.faces.ssd.ssd_anchors`, :func:`~emorec.faces.ssd.decode` (raw
outputs -> boxes, keypoints, scores) and :func:`~emorec.faces.ssd.weighted_nms` (MediaPipe's
merge), also importable from here; and :mod:`emorec.faces.tiling` for the tiles of large photos.

The models ship with emorec (``emorec/faces/data``, Apache License 2.0, see ``NOTICE.md``
there) and run on ``ai_edge_litert`` when it is installed, else ``tensorflow.lite``; neither
that nor OpenCV (which letterboxes) is imported until the first ``detect``.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..lite import default_threads, load_tflite_interpreter
from ..pixels import to_channels
from .boxes import MIN_IMAGE_SIZE, FaceBox, check_image
from .detectors import register_detector
from .ssd import Detections, decode, ssd_anchors, weighted_nms
from .tiling import Tile, is_close_up, keep_in_tile, keep_in_whole, tile_grid

__all__ = [
    "BLAZEFACE_MODELS",
    "KEYPOINT_NAMES",
    "BlazeFaceDetector",
    "BlazeFaceModel",
    "Letterbox",
    "decode",
    "face_boxes",
    "letterbox",
    "load_tflite_interpreter",
    "ssd_anchors",
    "to_image_pixels",
    "weighted_nms",
]

logger = logging.getLogger("emorec")

#: BlazeFace's six keypoints, in the model's (MediaPipe's) order. "Right" is the subject's:
#: in an unmirrored photo of a face looking at the camera, the right eye is on the image's left.
KEYPOINT_NAMES: Final[tuple[str, ...]] = (
    "right_eye",
    "left_eye",
    "nose_tip",
    "mouth_centre",
    "right_ear_tragion",
    "left_ear_tragion",
)


@dataclass(frozen=True)
class BlazeFaceModel:
    """One bundled BlazeFace model: its file, square input side and SSD anchor strides."""

    filename: str
    input_size: int
    strides: tuple[int, ...]
    auto_tiles: bool  # whether tiles="auto" tiles large images


#: The bundled models by name.
BLAZEFACE_MODELS: Final[dict[str, BlazeFaceModel]] = {
    "back": BlazeFaceModel("face_detection_back.tflite", 256, (16, 32, 32, 32), True),
    # Close-up model: tiles find small faces with it too, but with more false ones.
    "short": BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), False),
}
_ALIASES: Final[dict[str, str]] = {"short_range": "short"}


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the square model input (all in model-input pixels)."""

    size: int
    pad_x: int
    pad_y: int
    scale_x: float  # resized width / original width
    scale_y: float


def letterbox(rgb: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """Fit ``rgb`` into ``size x size`` keeping its aspect (centred, black padding), in [-1, 1].

    This is the detector's own input, not the classifier's (that is :mod:`emorec.pixels`).
    Where OpenCV is installed (``emorec[video]``) it resizes (area averaging to shrink,
    bilinear to enlarge): a large shrink is done as halvings (2x2 averages, OpenCV's fast
    case) and one area resize of less than 2x, the same averaging, faster than one area resize
    by an uneven factor (e.g. 900 px to 256 px). Without it, Pillow does the same steps (its
    2x2 ``reduce``, then a box filter), slower on very large photos.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.blazeface import letterbox
    >>> tensor, box = letterbox(np.zeros((100, 200, 3), np.uint8), 128)
    >>> tensor.shape, box
    ((1, 128, 128, 3), Letterbox(size=128, pad_x=0, pad_y=32, scale_x=0.64, scale_y=0.64))
    """
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    shrink = new_w < width or new_h < height
    resized, (kept_h, kept_w) = _resize(rgb, new_w, new_h, shrink)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    tensor = np.full((1, size, size, 3), -1.0, dtype=np.float32)
    window = tensor[0, pad_y : pad_y + new_h, pad_x : pad_x + new_w]
    np.multiply(resized, np.float32(2 / 255), out=window, casting="unsafe")
    window -= 1
    return tensor, Letterbox(size, pad_x, pad_y, new_w / kept_w, new_h / kept_h)


@functools.cache
def _opencv() -> Any:
    """OpenCV's module where it is installed (``emorec[video]``), else None."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def _resize(
    rgb: np.ndarray, new_w: int, new_h: int, shrink: bool
) -> tuple[np.ndarray, tuple[int, int]]:
    """The resized image, and the part of the original it covers (an odd side loses its last
    row or column at each halving): OpenCV where installed, else Pillow, by the same steps
    (halvings by 2x2 averages, then one area resize of less than 2x; bilinear to enlarge)."""
    cv2 = _opencv()
    resized: np.ndarray = np.ascontiguousarray(rgb)
    if cv2 is None:
        from PIL import Image

        image = Image.fromarray(resized)
        halved = 1
        while shrink and image.width >= 2 * new_w and image.height >= 2 * new_h:
            half_w, half_h = image.width // 2, image.height // 2
            image = image.crop((0, 0, 2 * half_w, 2 * half_h)).reduce(2)
            halved *= 2
        kept = (image.height * halved, image.width * halved)
        method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
        return np.asarray(image.resize((new_w, new_h), method)), kept
    halved = 1
    while shrink and resized.shape[1] >= 2 * new_w and resized.shape[0] >= 2 * new_h:
        half_h, half_w = resized.shape[0] // 2, resized.shape[1] // 2
        resized = cv2.resize(
            resized[: 2 * half_h, : 2 * half_w], (half_w, half_h), interpolation=cv2.INTER_AREA
        )
        halved *= 2
    kept = (resized.shape[0] * halved, resized.shape[1] * halved)
    resized = cv2.resize(
        resized, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    return resized, kept


def to_image_pixels(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    box: Letterbox,
    origin: tuple[int, int] = (0, 0),
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Undo the letterbox: model-input 0..1 coordinates -> pixels of the letterboxed image.

    ``origin`` (x, y) is where that image lies in the whole picture (a tile's corner). Returns
    boxes ``(k, 4)`` as (xmin, ymin, xmax, ymax) and keypoints ``(k, n, 2)``, not clipped.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.blazeface import Letterbox, to_image_pixels
    >>> box = Letterbox(size=128, pad_x=0, pad_y=32, scale_x=0.64, scale_y=0.64)
    >>> corners = np.array([[0.0, 0.25, 0.5, 0.75]])
    >>> boxes, points = to_image_pixels(corners, np.zeros((1, 6, 2)), box)
    >>> boxes.tolist()
    [[0.0, 0.0, 100.0, 100.0]]
    """
    offset = np.array([box.pad_x, box.pad_y], dtype=np.float64)
    scale = np.array([box.scale_x, box.scale_y], dtype=np.float64)
    shift = np.array(origin, dtype=np.float64)
    corners = (boxes.reshape(-1, 2, 2) * box.size - offset) / scale + shift
    points = (keypoints * box.size - offset) / scale + shift
    return corners.reshape(-1, 4), points


def face_boxes(
    boxes: npt.NDArray[np.float64],
    keypoints: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    image_size: tuple[int, int],
) -> list[FaceBox]:
    """:class:`FaceBox` objects from pixel boxes (xmin, ymin, xmax, ymax): clipped to the
    ``(height, width)`` image and rounded; keypoints kept as they are (not clipped).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.blazeface import face_boxes
    >>> corners, scores = np.array([[-5.2, 3.0, 20.4, 30.0]]), np.array([0.8])
    >>> face_boxes(corners, np.zeros((1, 6, 2)), scores, (25, 40))
    [FaceBox(x=0, y=3, width=20, height=22, score=0.8)]
    """
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


class BlazeFaceDetector:
    """MediaPipe BlazeFace face detector (TensorFlow Lite, CPU, a few milliseconds an image).

    The image is letterboxed (aspect kept, centred, black padding) to the model's square input,
    scaled to [-1, 1] and run through the network; the 896 anchor predictions scoring at least
    ``min_score`` are mapped back to the image's pixels and merged by weighted non-maximum
    suppression (MediaPipe's), boxes and keypoints alike. The interpreter is created on the
    first :meth:`detect` and reused; ``detect`` is thread-safe (one inference at a time per
    detector).

    A large photo shrunk to 256 px leaves its small faces a few pixels wide, so large images
    are also cut into overlapping square tiles (:func:`emorec.faces.tiling.tile_grid`), each
    run through the model at a larger scale (see ``tiles``); the predictions of the whole image
    and of all tiles are merged by the same weighted NMS, in the image's pixels. Before that, a
    tile's predictions are dropped where they reach an edge the tile shares with a neighbour
    (the face may be cut there) or are larger than a quarter of the tile side: neighbouring
    tiles overlap by that much, so a face up to that size lies whole in some tile, and larger
    faces are left to the whole-image pass, which sees them whole and in context. The
    whole-image pass, in turn, gives up faces smaller than an eighth of the tile side, which
    the tiles see at least twice as large (shrunk that much, such a face can get a box too
    small, which would not merge with the tiles' box).

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
        about as much as the whole-image pass. The whole image is searched first, and a
        close-up (every face it finds at least 20 % of the shorter side wide:
        :func:`emorec.faces.tiling.is_close_up`) gets no tiles: a portrait costs one pass
        whatever its size, at the price of faces far behind the large ones (pass an int to
        search those too). No tiles with ``"short"``, the close-up model
        (tiles find small faces with it too, but also more false ones). An int ``k`` forces
        tiles at any size and with either model: ``k`` along the longer side (``k`` x ``k`` on a
        square image) and as many of the same size as the shorter side needs; ``1`` means
        none. Tiles smaller than the model input enlarge the image, which brings false faces.
        ``None``: the whole-image pass only, the fastest; faces narrower than about 8 % of the
        image's longer side (20 px at the model input) may be missed.

    Notes
    -----
    Each :class:`FaceBox` carries the six keypoints of :data:`KEYPOINT_NAMES` in image pixels
    (not clipped to the image): the subject's right eye (on the image's left), the left eye,
    nose tip, mouth centre, and the ear tragions in the same order as the eyes.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces import BlazeFaceDetector
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
        key = _ALIASES.get(model, model) if isinstance(model, str) else None
        if key not in BLAZEFACE_MODELS:
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
        self._spec = BLAZEFACE_MODELS[key]
        self._anchors = ssd_anchors(self._spec.input_size, self._spec.strides)
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

    def tile_grid(self, image_size: tuple[int, int]) -> list[Tile]:
        """The tiles :meth:`detect` searches in an image of ``(height, width)`` ([]: none).

        Examples
        --------
        >>> from emorec.faces import BlazeFaceDetector
        >>> back, short = BlazeFaceDetector(), BlazeFaceDetector("short")
        >>> len(back.tile_grid((683, 1024))), short.tile_grid((683, 1024))
        (6, [])
        """
        tiles = None if self.tiles == "auto" and not self._spec.auto_tiles else self.tiles
        return tile_grid(image_size, tiles, self._spec.input_size)

    def _ensure_interpreter(self) -> Any:
        """Create the interpreter once (call with the lock held)."""
        if self._interpreter is None:
            data = resources.files("emorec.faces").joinpath("data").joinpath(self._spec.filename)
            interpreter = load_tflite_interpreter(
                data.read_bytes(), self.num_threads or default_threads()
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
            self._indices = (image_input["index"], regressors["index"], classificators["index"])
            self._interpreter = interpreter
            logger.debug("loaded BlazeFace model %s", self._spec.filename)
        return self._interpreter

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

    def _pass(self, rgb: npt.NDArray[np.uint8], window: Tile) -> Detections:
        """The detections of one pass over ``window`` of the image, in the image's pixels."""
        return self._passes(rgb, [window])[0]

    def _passes(self, rgb: npt.NDArray[np.uint8], windows: list[Tile]) -> list[Detections]:
        """The detections of a pass over each window, in the image's pixels."""
        size = self._spec.input_size
        prepared = [letterbox(rgb[y0:y1, x0:x1], size) for x0, y0, x1, y1 in windows]
        outputs = self._infer_each([tensor for tensor, _ in prepared])
        found = []
        for window, (regressors, logits), (_, box) in zip(windows, outputs, prepared):
            boxes, keypoints, scores = decode(
                regressors, logits, self._anchors, size, self.min_score
            )
            boxes, keypoints = to_image_pixels(boxes, keypoints, box, window[:2])
            found.append((boxes, keypoints, scores))
        return found

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image``.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.

        Returns
        -------
        list of FaceBox
            In the pixels of ``image``, best score first, with six keypoints each; ``[]`` when
            there is no face or the image is smaller than 16 pixels a side. With tiles (see the
            class), the model runs on the whole image and on each tile, and their detections
            are merged.

        Raises
        ------
        ValueError
            If ``image`` is not a uint8 array of one of those shapes.
        """
        rgb = np.ascontiguousarray(to_channels(check_image(image), 3))
        if min(rgb.shape[:2]) < MIN_IMAGE_SIZE:
            return []
        image_size = (rgb.shape[0], rgb.shape[1])
        grid = self.tile_grid(image_size)
        # (x0, y0, x1, y1) of each pass: the whole image first, then the tiles (if needed).
        whole: Tile = (0, 0, image_size[1], image_size[0])
        passes = [self._pass(rgb, whole)]
        if grid and self.tiles == "auto" and is_close_up(passes[0][0], image_size):
            grid = []  # every face found is large: no small ones to look for
        if grid:
            passes += self._passes(rgb, grid)
        return self._merge(passes, [whole, *grid], image_size)

    def _merge(
        self, passes: list[Detections], windows: list[Tile], image_size: tuple[int, int]
    ) -> list[FaceBox]:
        """The faces of the ``passes`` over ``windows`` (the whole image first, then any
        tiles): each tile's and the whole image's keep rules, then one weighted NMS."""
        grid = windows[1:]
        found: list[Detections] = []
        for index, (boxes, keypoints, scores) in enumerate(passes):
            if len(scores) == 0:
                continue
            window = windows[index]
            if grid:
                keep = (
                    keep_in_whole(boxes, grid)
                    if index == 0
                    else keep_in_tile(boxes, window, image_size)
                )
                boxes, keypoints, scores = boxes[keep], keypoints[keep], scores[keep]
            found.append((boxes, keypoints, scores))
        if not any(len(scores) for _, _, scores in found):
            return []
        boxes, keypoints, scores = weighted_nms(
            np.concatenate([b for b, _, _ in found]),
            np.concatenate([k for _, k, _ in found]),
            np.concatenate([s for _, _, s in found]),
            self.iou_threshold,
        )
        faces = face_boxes(boxes, keypoints, scores, image_size)
        return faces if self.max_faces is None else faces[: self.max_faces]


@register_detector("blazeface")
def blazeface(**kwargs: Any) -> BlazeFaceDetector:
    """The default detector: ``BlazeFaceDetector("back", **kwargs)``."""
    return BlazeFaceDetector("back", **kwargs)


@register_detector("blazeface_short")
def blazeface_short(**kwargs: Any) -> BlazeFaceDetector:
    """The close-up detector: ``BlazeFaceDetector("short", **kwargs)``."""
    return BlazeFaceDetector("short", **kwargs)
