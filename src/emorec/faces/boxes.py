"""What every face detector returns and takes: :class:`FaceBox`, the :class:`FaceDetector`
protocol, and the checks of a detector's image (:func:`check_image`) and of a box given by the
user (:func:`check_box`).

A detector takes an ``(H, W, 3)`` ``uint8`` RGB array (grey ``(H, W)`` or ``(H, W, 1)`` is
accepted too) and returns boxes in the pixels of that image, best score first, clipped to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_BOX_SCALE",
    "MIN_IMAGE_SIZE",
    "FaceBox",
    "FaceDetector",
    "Keypoints",
    "check_box",
    "check_image",
]

#: Images with a side shorter than this many pixels hold no detectable face: ``detect`` -> [].
MIN_IMAGE_SIZE: Final[int] = 16
#: A box's width and height may be at most this many times the image's longer side: larger
#: boxes would make crops of unbounded size (crops replicate the image's edges).
MAX_BOX_SCALE: Final[int] = 4

#: Landmarks as ``(x, y)`` pairs in image pixels.
Keypoints = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class FaceBox:
    """A face: a box in the pixels of the image given to ``detect``, a score, landmarks.

    Parameters
    ----------
    x, y : int
        Top-left corner (column, row).
    width, height : int
        Size in pixels (> 0). A detector's boxes are clipped to the image.
    score : float
        Detector confidence in 0..1 (1.0 for a box given by the user).
    keypoints : tuple of (x, y) float pairs, optional
        Landmarks in image pixels, possibly outside the image; ``None`` when the detector gives
        none. :class:`~emorec.faces.BlazeFaceDetector` gives six, in MediaPipe's order (see
        :data:`emorec.faces.blazeface.KEYPOINT_NAMES`); the first two are the eyes, which
        :func:`~emorec.faces.crop_faces` levels with ``align=True``. Not part of equality.

    Examples
    --------
    >>> from emorec.faces import FaceBox
    >>> box = FaceBox(10, 20, 30, 40, 0.9)
    >>> box.area, box.as_tuple()
    (1200, (10, 20, 30, 40))
    >>> box.to_dict()
    {'x': 10, 'y': 20, 'width': 30, 'height': 40, 'score': 0.9, 'keypoints': None}
    """

    x: int
    y: int
    width: int
    height: int
    score: float
    keypoints: Keypoints | None = field(default=None, compare=False, repr=False)

    @property
    def area(self) -> int:
        """``width * height`` in pixels."""
        return self.width * self.height

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(x, y, width, height)``, the form :func:`~emorec.faces.crop_faces` also accepts."""
        return (self.x, self.y, self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``x, y, width, height, score`` and ``keypoints`` (a list of
        ``[x, y]``, or ``None``)."""
        return {
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "score": self.score,
            "keypoints": None
            if self.keypoints is None
            else [[px, py] for px, py in self.keypoints],
        }


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces: ``detect(image) -> list[FaceBox]``.

    ``image`` is an ``(H, W, 3)`` ``uint8`` RGB array; the boxes are in its pixels, best first.

    Examples
    --------
    >>> from emorec.faces import FaceBox, FaceDetector
    >>> class Everything:
    ...     def detect(self, image):
    ...         return [FaceBox(0, 0, image.shape[1], image.shape[0], 1.0)]
    >>> isinstance(Everything(), FaceDetector)
    True
    """

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...


def check_image(image: Any) -> npt.NDArray[np.uint8]:
    """A detector's or cropper's input checked: a ``(H, W, 1 | 3)`` uint8 view of ``image``.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.

    Raises
    ------
    ValueError
        For anything else, saying what was given and how to get the right thing.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.boxes import check_image
    >>> check_image(np.zeros((4, 6), np.uint8)).shape
    (4, 6, 1)
    >>> check_image(np.zeros((4, 6, 4), np.uint8))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: image has shape (4, 6, 4); expected (H, W, 3) RGB, or (H, W) or (H, W, 1) ...
    """
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
    if image.ndim != 3 or image.shape[2] not in (1, 3) or 0 in image.shape:
        raise ValueError(
            f"image has shape {image.shape}; expected (H, W, 3) RGB, or (H, W) or (H, W, 1) grey "
            "(drop an alpha channel with image[..., :3])"
        )
    return image


def check_box(
    box: FaceBox | Sequence[float], image_shape: Sequence[int], *, index: int = 0
) -> FaceBox:
    """A box given for an image, checked and rounded to whole pixels.

    The box is kept as given, not clipped: parts outside the image are filled by edge
    replication when cropped (:func:`~emorec.faces.crop_faces`).

    Parameters
    ----------
    box : FaceBox or (x, y, width, height)
        In the pixels of the image; a plain sequence gets score 1.0 and no keypoints, a
        :class:`FaceBox` keeps its own.
    image_shape : (height, width) or (height, width, channels)
        The image's shape.
    index : int
        The box's position in the caller's list, for messages (``boxes[index]``).

    Returns
    -------
    FaceBox
        With ``x, y, width, height`` rounded to ints.

    Raises
    ------
    ValueError
        Naming ``boxes[index]`` and the value, when it is not four finite numbers, its width or
        height is not at least one pixel, it does not overlap the image at all, or it is more
        than :data:`MAX_BOX_SCALE` times the image's longer side (a crop of it would need
        unbounded memory).

    Examples
    --------
    >>> from emorec.faces import check_box
    >>> check_box((10.4, 20, 30, 40.6), (100, 80))
    FaceBox(x=10, y=20, width=30, height=41, score=1.0)
    >>> check_box((0, 0, 100000, 100000), (300, 400), index=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: boxes[2] = (0, 0, 100000, 100000) is 100000x100000 px on a 400x300 image; ...
    """
    height, width = (int(s) for s in tuple(image_shape)[:2])
    values = box.as_tuple() if isinstance(box, FaceBox) else box
    try:
        x, y, w, h = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"boxes[{index}] = {box!r}; expected a FaceBox or (x, y, width, height), four numbers"
        ) from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(
            f"boxes[{index}] = {box!r} is not finite; expected (x, y, width, height) in pixels"
        )
    x, y, w, h = round(x), round(y), round(w), round(h)
    if w < 1 or h < 1:
        raise ValueError(
            f"boxes[{index}] = {box!r} has width {w:g} and height {h:g} (rounded); expected a "
            "box with both at least 1 pixel"
        )
    limit = MAX_BOX_SCALE * max(height, width)
    if max(w, h) > limit:
        raise ValueError(
            f"boxes[{index}] = {box!r} is {w}x{h} px on a {width}x{height} image; expected at "
            f"most {MAX_BOX_SCALE} times the image's longer side ({limit} px) a side: give "
            "boxes in the image's pixels"
        )
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(
            f"boxes[{index}] = {box!r} lies outside the {width}x{height} image (x 0..{width - 1}"
            f", y 0..{height - 1}); expected a box that overlaps it, in its pixels"
        )
    if isinstance(box, FaceBox):
        return replace(box, x=x, y=y, width=w, height=h)
    return FaceBox(x, y, w, h, 1.0)
