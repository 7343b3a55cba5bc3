"""Boxes -> the square, fixed-size (and optionally aligned) face crops a classifier takes.

The geometry, for a box ``(x, y, w, h)`` (checked by :func:`~emorec.faces.check_box`) and
``margin`` ``m``:

1. **Square.** The crop's side is ``s = round(max(w, h) * (1 + 2 m))`` pixels, its top-left
   pixel ``(x0, y0) = (round(x + w / 2 - s / 2), round(y + h / 2 - s / 2))``: the box grown by
   ``m`` of its longer side on every side, made square around its centre.
2. **Aligned** (``align=True``, only for boxes whose ``keypoints`` hold at least two points,
   the first two being the eyes, as :class:`~emorec.faces.BlazeFaceDetector` gives them). The
   eye line's angle ``a = atan2(dy, dx)`` (from the eye on the image's left to the other;
   ``y`` grows downwards) is taken out by sampling the image on the same square grid rotated
   by ``a`` about the square's centre ``c = (x0 + (s - 1) / 2, y0 + (s - 1) / 2)``: crop pixel
   ``q`` (column, row) comes from image point ``c + R(a) (q - c)``, bilinearly interpolated.
   The eyes come out level and the face keeps its place and size in the crop. A box whose eyes
   are already level (``a`` under 0.01 degree) is cropped exactly as without alignment.
3. **Edges.** Parts of the square outside the image repeat the nearest edge pixel (edge
   replication, like ``numpy.pad(mode="edge")``), so a face at the border is not framed by
   black bars.
4. **Pixels.** The ``s x s`` crop goes through :func:`emorec.pixels.to_model_input`: colour
   first (Pillow's ITU-R 601-2 luma for grey), then Pillow's antialiased bilinear resize to
   ``size``, the same contract as training and whole-image prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..pixels import InputSpec, to_model_input
from .boxes import MAX_BOX_SCALE, FaceBox, check_box, check_image

__all__ = ["DEFAULT_MARGIN", "crop_faces", "eye_angle"]

#: The margin that frames a BlazeFace box the way FER2013 frames its faces (eyebrows to chin,
#: filling the crop): chosen on faces of the validation split rendered as photos
#: (``python benchmarks/cross_domain.py --split val``), where margins 0 / 0.05 / 0.1 / 0.2
#: scored 62.8 / 65.6 / 64.4 / 60.9 % against 68.0 % for the exact FER2013 box.
DEFAULT_MARGIN: Final[float] = 0.05

#: Eye lines tilted less than this (radians, 0.01 degree) are not rotated.
_MIN_ANGLE: Final[float] = math.radians(0.01)


def eye_angle(keypoints: Sequence[Sequence[float]] | None) -> float | None:
    """The eye line's angle in radians (positive: the eye on the image's right is lower).

    The first two keypoints are the eyes, in either order; ``None`` for fewer than two finite
    points.

    Examples
    --------
    >>> from emorec.faces.crops import eye_angle
    >>> round(eye_angle([(10.0, 10.0), (20.0, 20.0)]), 4), eye_angle(None)
    (0.7854, None)
    """
    if keypoints is None or len(keypoints) < 2:
        return None
    (ax, ay), (bx, by) = (tuple(float(v) for v in p) for p in keypoints[:2])
    if not all(math.isfinite(v) for v in (ax, ay, bx, by)) or (ax, ay) == (bx, by):
        return None
    if bx < ax:
        ax, ay, bx, by = bx, by, ax, ay
    return math.atan2(by - ay, bx - ax)


def crop_faces(
    image: np.ndarray,
    boxes: Sequence[FaceBox | Sequence[float]],
    *,
    size: tuple[int, int] = (48, 48),
    color_mode: str = "grayscale",
    margin: float = DEFAULT_MARGIN,
    align: bool = False,
) -> npt.NDArray[np.uint8]:
    """Square crops of the faces in ``image``, at ``size``, optionally with the eyes levelled.

    See the module for the geometry: a square of ``max(w, h) * (1 + 2 * margin)`` pixels
    around each box's centre, rotated about its centre so that the eyes are level with
    ``align=True``, edges replicated outside the image, then :func:`emorec.pixels.to_model_input`.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.
    boxes : sequence of FaceBox or (x, y, width, height)
        Faces in the pixels of ``image``, e.g. from a detector's ``detect``; each is checked
        by :func:`~emorec.faces.check_box`.
    size : (height, width)
        Size of each crop.
    color_mode : {"grayscale", "rgb"}
        ``"grayscale"``: one channel, Pillow's ITU-R 601-2 luma, as :func:`emorec.load_image`
        computes it. ``"rgb"``: three channels.
    margin : float
        Extra context on each side, as a fraction of the box's longer side (> -0.5). The
        default, :data:`DEFAULT_MARGIN`, matches FER2013's framing for BlazeFace's boxes.
    align : bool
        Rotate each face whose box carries keypoints (the first two: the eyes) so that its
        eyes are level; boxes without keypoints are cropped as with ``False``.

    Returns
    -------
    numpy.ndarray
        ``(n, height, width, 1 or 3)`` uint8; ``(0, height, width, c)`` for no boxes.

    Raises
    ------
    ValueError
        For a box that :func:`~emorec.faces.check_box` refuses (the message names it), a crop
        side more than 8 times the image's longer side (a huge ``margin``), a bad ``size``,
        ``margin`` or ``color_mode``, or an image of another shape or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces import FaceBox, crop_faces
    >>> image = np.zeros((100, 80, 3), np.uint8)
    >>> image[40:60, 30:50] = (255, 0, 0)
    >>> faces = crop_faces(image, [(30, 40, 20, 20)], size=(8, 8), margin=0.0)
    >>> faces.shape, int(faces[0, 4, 4, 0])
    ((1, 8, 8, 1), 76)
    >>> tilted = FaceBox(30, 40, 20, 20, 0.9, keypoints=((34.0, 46.0), (46.0, 50.0)))
    >>> crop_faces(image, [tilted], align=True, color_mode="rgb").shape
    (1, 48, 48, 3)
    """
    out_h, out_w = _parse_size(size)
    spec = InputSpec.from_mode((out_h, out_w), color_mode)
    if not float(margin) > -0.5:
        raise ValueError(f"margin={margin}; expected a fraction > -0.5 (0.2 adds 20 % a side)")
    pixels = check_image(image)
    height, width = pixels.shape[:2]
    checked = [check_box(box, (height, width), index=i) for i, box in enumerate(boxes)]
    out = np.empty((len(checked), *spec.shape), dtype=np.uint8)
    limit = 2 * MAX_BOX_SCALE * max(height, width)
    for i, box in enumerate(checked):
        x, y, w, h = box.as_tuple()
        side = max(1, round(max(w, h) * (1.0 + 2.0 * float(margin))))
        if side > limit:
            raise ValueError(
                f"boxes[{i}] = {boxes[i]!r} with margin={margin} makes a {side} px crop of a "
                f"{width}x{height} image; expected at most {limit} px: use a smaller margin"
            )
        x0 = round(x + w / 2.0 - side / 2.0)
        y0 = round(y + h / 2.0 - side / 2.0)
        angle = eye_angle(box.keypoints) if align else None
        if angle is None or abs(angle) < _MIN_ANGLE:
            rows = np.clip(np.arange(y0, y0 + side), 0, height - 1)
            cols = np.clip(np.arange(x0, x0 + side), 0, width - 1)
            crop = pixels[rows[:, np.newaxis], cols[np.newaxis, :]]
        else:
            crop = _rotated_square(pixels, x0, y0, side, angle)
        out[i] = to_model_input(crop[np.newaxis], spec)[0]
    return out


def _parse_size(size: Any) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in size)
    except (TypeError, ValueError):
        height = width = 0
    if height < 1 or width < 1:
        raise ValueError(f"size={size!r}; expected (height, width) of positive integers")
    return height, width


def _rotated_square(
    pixels: npt.NDArray[np.uint8], x0: int, y0: int, side: int, angle: float
) -> npt.NDArray[np.uint8]:
    """The ``side x side`` square at ``(x0, y0)`` sampled on a grid rotated by ``angle`` about
    its centre (bilinear, edges replicated), uint8 ``(side, side, c)``."""
    height, width = pixels.shape[:2]
    half = (side - 1) / 2.0
    offsets = np.arange(side, dtype=np.float32) - np.float32(half)
    cos, sin = np.float32(math.cos(angle)), np.float32(math.sin(angle))
    sx = (x0 + half) + cos * offsets[np.newaxis, :] - sin * offsets[:, np.newaxis]
    sy = (y0 + half) + sin * offsets[np.newaxis, :] + cos * offsets[:, np.newaxis]
    np.clip(sx, 0, width - 1, out=sx)
    np.clip(sy, 0, height - 1, out=sy)
    left = np.floor(sx).astype(np.intp)
    top = np.floor(sy).astype(np.intp)
    right = np.minimum(left + 1, width - 1)
    bottom = np.minimum(top + 1, height - 1)
    fx = (sx - left)[..., np.newaxis]
    fy = (sy - top)[..., np.newaxis]
    # Only the region the grid reaches, as float (not the whole photo).
    row0, col0 = int(top.min()), int(left.min())
    source = pixels[row0 : int(bottom.max()) + 1, col0 : int(right.max()) + 1].astype(np.float32)
    top, bottom, left, right = top - row0, bottom - row0, left - col0, right - col0
    upper = source[top, left] * (1 - fx) + source[top, right] * fx
    lower = source[bottom, left] * (1 - fx) + source[bottom, right] * fx
    blended = upper * (1 - fy) + lower * fy
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
