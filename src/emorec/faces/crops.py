"""Cut detected faces out of an image as the square, fixed-size crops a classifier takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from ..images import _parse_color_mode
from .detectors import FaceBox

__all__ = ["crop_faces"]


def crop_faces(
    image: np.ndarray,
    boxes: Sequence[FaceBox | tuple[int, int, int, int]],
    *,
    size: tuple[int, int] = (48, 48),
    color_mode: str = "grayscale",
    margin: float = 0.2,
) -> npt.NDArray[np.uint8]:
    """Square crops of the faces in ``image``, resized to ``size``.

    Each box is enlarged by ``margin`` of its size on every side and made square around its
    centre: the crop's side is ``round(max(w, h) * (1 + 2 * margin))`` pixels, its top-left
    corner ``round(centre - side / 2)``. Parts of the crop outside the image repeat the
    nearest edge pixel (edge replication, like ``numpy.pad(mode="edge")``), so a face at the
    border is not framed by black bars. Crops are resized with Pillow's bilinear filter, which
    widens its support when downscaling (antialiased, close to area averaging).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.
    boxes : sequence of FaceBox or (x, y, width, height)
        Faces in the pixels of ``image``, e.g. from a detector's ``detect``.
    size : (height, width)
        Size of each crop.
    color_mode : {"grayscale", "rgb"}
        ``"grayscale"``: one channel, from colour with Pillow's ITU-R 601-2 luma
        (``L = R * 299/1000 + G * 587/1000 + B * 114/1000``, as ``Image.convert("L")`` and
        :func:`emorec.load_image` compute it). ``"rgb"``: three channels.
    margin : float
        Extra context on each side, as a fraction of the box's longer side (> -0.5).

    Returns
    -------
    numpy.ndarray
        ``(n, height, width, 1 or 3)`` uint8; ``(0, height, width, c)`` for no boxes.

    Raises
    ------
    ValueError
        For a box without a positive width and height (the message names it), a bad
        ``size``, ``margin`` or ``color_mode``, or an image of another shape or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((100, 80, 3), np.uint8)
    >>> image[40:60, 30:50] = (255, 0, 0)
    >>> faces = crop_faces(image, [(30, 40, 20, 20)], size=(8, 8), margin=0.0)
    >>> faces.shape, int(faces[0, 4, 4, 0])
    ((1, 8, 8, 1), 76)
    >>> crop_faces(image, [], color_mode="rgb").shape
    (0, 48, 48, 3)
    """
    grayscale = _parse_color_mode(color_mode)
    out_h, out_w = _parse_size(size)
    if not float(margin) > -0.5:
        raise ValueError(f"margin={margin}; expected a fraction > -0.5 (0.2 adds 20 % a side)")
    pixels = _as_pixels(image)
    channels = 1 if grayscale else 3
    parsed = [_parse_box(box, i) for i, box in enumerate(boxes)]
    out = np.empty((len(parsed), out_h, out_w, channels), dtype=np.uint8)
    height, width = pixels.shape[:2]
    for i, (x, y, w, h) in enumerate(parsed):
        side = max(1, round(max(w, h) * (1.0 + 2.0 * float(margin))))
        x0 = round(x + w / 2.0 - side / 2.0)
        y0 = round(y + h / 2.0 - side / 2.0)
        rows = np.clip(np.arange(y0, y0 + side), 0, height - 1)
        cols = np.clip(np.arange(x0, x0 + side), 0, width - 1)
        crop = np.ascontiguousarray(pixels[rows[:, np.newaxis], cols[np.newaxis, :]])
        out[i] = _to_output(crop, grayscale, (out_w, out_h))
    return out


def _parse_size(size: Any) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in size)
    except (TypeError, ValueError):
        height = width = 0
    if height < 1 or width < 1:
        raise ValueError(f"size={size!r}; expected (height, width) of positive integers")
    return height, width


def _as_pixels(image: Any) -> npt.NDArray[np.uint8]:
    """``(H, W, 1)`` or ``(H, W, 3)`` uint8 view of ``image``, or a ValueError."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(
            f"image is {type(image).__name__}"
            f"{f' of dtype {image.dtype}' if isinstance(image, np.ndarray) else ''}; expected "
            "a uint8 NumPy array (emorec.load_image() makes one from files and PIL images)"
        )
    if image.ndim == 2:
        image = image[:, :, np.newaxis]
    if image.ndim != 3 or image.shape[2] not in (1, 3) or 0 in image.shape:
        raise ValueError(
            f"image has shape {image.shape}; expected (H, W, 3) RGB, or (H, W) or (H, W, 1) grey"
        )
    return image


def _parse_box(box: Any, index: int) -> tuple[float, float, float, float]:
    values = box.as_tuple() if isinstance(box, FaceBox) else box
    try:
        x, y, w, h = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"boxes[{index}] = {box!r}; expected a FaceBox or (x, y, width, height)"
        ) from None
    if not (w > 0 and h > 0) or not all(np.isfinite([x, y, w, h])):
        raise ValueError(
            f"boxes[{index}] = {box!r} has width {w:g} and height {h:g}; expected a finite "
            "box with both > 0"
        )
    return x, y, w, h


def _to_output(
    crop: npt.NDArray[np.uint8], grayscale: bool, size: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """Convert a ``(s, s, 1|3)`` crop to the colour mode and resize it to ``size`` (w, h)."""
    if crop.shape[2] == 1:
        picture = Image.fromarray(crop[:, :, 0])
        if not grayscale:
            picture = picture.convert("RGB")
    else:
        picture = Image.fromarray(crop)
        if grayscale:
            picture = picture.convert("L")
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(picture, dtype=np.uint8).reshape(size[1], size[0], -1)
