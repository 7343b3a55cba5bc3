"""Pixels to ``uint8`` arrays, by :func:`emorec.images.load_image`'s rules.

A decoded PIL image (:func:`pil_to_array`), one NumPy image (:func:`array_to_uint8`) or a batch
of them (:func:`batch_to_uint8`) becomes a C-contiguous ``uint8`` array with one grey channel
or three RGB channels: 16-bit data is scaled by ``1/257``, floats in ``[0, 1]`` by 255, alpha
is dropped without compositing, and grey is computed from colour with Pillow's ITU-R 601-2
luma formula whatever the input kind. :mod:`emorec.images` checks the arguments and decodes
files first.

Examples
--------
>>> import numpy as np
>>> from emorec.image_arrays import array_to_uint8
>>> array_to_uint8(np.array([[0.0, 1.0]]), False, "<array>")[0, 1]
array([255, 255, 255], dtype=uint8)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

from .image_guards import ImageError
from .pixels import to_channels

__all__ = ["array_to_uint8", "batch_to_uint8", "pil_to_array"]

_EXPECTED_SHAPE = "expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
_EXPECTED_DTYPE = "expected uint8, uint16, bool or float with values in [0, 1]"
_SCALAR_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})


# --------------------------------------------------------------------------------------------
# Decoded PIL images
# --------------------------------------------------------------------------------------------


def pil_to_array(image: Image.Image, grayscale: bool, label: str) -> npt.NDArray[np.uint8]:
    """Convert a loaded, oriented PIL image to an ``(H, W, 1)`` or ``(H, W, 3)`` array.

    Raises
    ------
    ImageError
        For an image mode Pillow cannot convert; ``label`` names the image.

    Examples
    --------
    >>> from PIL import Image
    >>> from emorec.image_arrays import pil_to_array
    >>> pil_to_array(Image.new("I;16", (2, 1), 65535), False, "deep.png")[0, 0]
    array([255, 255, 255], dtype=uint8)
    """
    if image.mode in _SCALAR_MODES:
        # Pillow's convert() clips 16-bit and float data to 0..255 instead of scaling it.
        grey = _scale_scalar_image(np.asarray(image))
        return _finish(grey.reshape(image.height, image.width, 1), grayscale)
    if image.mode == "P" and "transparency" in image.info:
        # Converting P straight to L/RGB warns when the transparency is per palette entry.
        image = image.convert("RGBA")
    target = "L" if grayscale else "RGB"
    try:
        converted = image if image.mode == target else _convert(image, target)
    except ValueError as error:
        raise ImageError(
            f"{label}: unsupported image mode {image.mode!r} ({error}); expected an L, LA, P, "
            "RGB, RGBA, CMYK, YCbCr, LAB, 1, I, I;16 or F image"
        ) from error
    pixels = np.array(converted, dtype=np.uint8)
    return np.ascontiguousarray(pixels.reshape(converted.height, converted.width, -1))


def _convert(image: Image.Image, mode: str) -> Image.Image:
    try:
        return image.convert(mode)
    except ValueError:
        if mode != "L" or image.mode == "RGB":
            raise
        return image.convert("RGB").convert("L")  # e.g. LAB, which Pillow converts only to RGB


def _scale_scalar_image(values: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """Scale mode ``I;16*`` (0..65535), ``I`` (clipped to 0..65535) or ``F`` data to 8 bit."""
    if values.dtype.kind == "f":
        floats = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if floats.size and floats.max() <= 1.0:
            floats *= 255.0
        return np.rint(np.clip(floats, 0.0, 255.0)).astype(np.uint8)
    return _uint16_to_uint8(np.clip(values, 0, 65535))


def _finish(pixels: npt.NDArray[np.uint8], grayscale: bool) -> npt.NDArray[np.uint8]:
    """Repeat a single grey channel to RGB if asked for; make the result C-contiguous."""
    if pixels.shape[2] == 1 and not grayscale:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels)


# --------------------------------------------------------------------------------------------
# NumPy arrays
# --------------------------------------------------------------------------------------------


def array_to_uint8(
    array: npt.NDArray[np.generic], grayscale: bool, label: str, *, bgr: bool = False
) -> npt.NDArray[np.uint8]:
    """One image array of a documented shape and dtype as a new ``(H, W, 1 | 3)`` uint8 array.

    Raises
    ------
    ImageError
        For another shape, no pixels, another dtype, or floats outside ``[0, 1]``; ``label``
        names the array.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.image_arrays import array_to_uint8
    >>> array_to_uint8(np.zeros((2, 2, 4), np.uint8), True, "<array>").shape
    (2, 2, 1)
    """
    shape = array.shape
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    elif array.ndim != 3 or shape[2] not in (1, 3, 4):
        raise ImageError(f"{label}: unsupported array shape {shape}; {_EXPECTED_SHAPE}")
    if shape[0] == 0 or shape[1] == 0:
        raise ImageError(f"{label}: array of shape {shape} has no pixels; {_EXPECTED_SHAPE}")
    result = _channels_to_mode(_values_to_uint8(array, label), grayscale, bgr)
    return result.copy() if np.may_share_memory(result, array) else result


def batch_to_uint8(
    images: npt.ArrayLike, grayscale: bool, label: str, *, bgr: bool = False
) -> npt.NDArray[np.uint8]:
    """A batch as a new uint8 ``(n, h, w, 1 | 3)`` array (:func:`emorec.images.load_batch`,
    whose arguments are checked already).

    Raises
    ------
    ImageError
        For another shape or dtype, an empty batch, floats outside [0, 1] (NaN included), or
        integers outside 0..255; ``label`` names the batch.

    Examples
    --------
    >>> from emorec.image_arrays import batch_to_uint8
    >>> batch_to_uint8([[[0, 300]]], True, "frames")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    emorec.images.ImageError: frames: int64 values out of range (found min 0, max 300); ...
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise ImageError(
            f"{label}: batch of shape {array.shape}; expected (n, h, w) or (n, h, w, 1, 3 or 4)"
        )
    if 0 in array.shape:
        raise ImageError(f"{label}: batch of shape {array.shape} holds no pixels")
    if array.dtype.kind in "iu" and array.dtype not in (np.uint8, np.uint16):
        array = _integers_to_uint8(array, label)
    result = _channels_to_mode(_values_to_uint8(array, label), grayscale, bgr)
    return result.copy() if np.may_share_memory(result, array) else result


def _uint16_to_uint8(values: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    # floor((v + 128) / 257) == round(v / 257) for integers: v / 257 is never exactly n + 0.5.
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _values_to_uint8(array: npt.NDArray[np.generic], label: str) -> npt.NDArray[np.uint8]:
    """The documented dtypes (uint8, bool, uint16, float in [0, 1]) as uint8, any shape."""
    dtype = array.dtype
    if dtype == np.uint8:
        return array.astype(np.uint8, copy=False)
    if dtype.kind == "b":
        return array.astype(np.uint8) * np.uint8(255)
    if dtype.kind == "u" and dtype.itemsize == 2:
        return _uint16_to_uint8(array)
    if dtype.kind == "f":
        floats = array.astype(np.float64)
        _check_unit_range(floats, label)
        return np.rint(floats * 255.0).astype(np.uint8)
    raise ImageError(f"{label}: unsupported array dtype {dtype}; {_EXPECTED_DTYPE}")


def _channels_to_mode(
    pixels: npt.NDArray[np.uint8], grayscale: bool, bgr: bool
) -> npt.NDArray[np.uint8]:
    """``(..., 1 | 3 | 4)`` uint8 -> ``(..., 1)`` grey or ``(..., 3)`` RGB."""
    if pixels.shape[-1] == 4:
        pixels = pixels[..., :3]  # drop alpha without compositing, like Pillow's convert
    if pixels.shape[-1] == 3 and bgr:
        pixels = pixels[..., ::-1]
    return np.ascontiguousarray(to_channels(pixels, 1 if grayscale else 3))


def _integers_to_uint8(array: npt.NDArray[np.generic], label: str) -> npt.NDArray[np.uint8]:
    """Integers of any other width (``np.array`` of Python ints is int64) as 0..255 pixels;
    values outside 0..255 are refused, not wrapped or clipped."""
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 255:
        raise ImageError(
            f"{label}: {array.dtype} values out of range (found min {low}, max {high}); "
            "expected integer pixels in 0..255 (or uint16, or floats in [0, 1])"
        )
    return array.astype(np.uint8)


def _check_unit_range(floats: npt.NDArray[np.float64], label: str) -> None:
    finite = np.isfinite(floats)
    if finite.all() and floats.min() >= 0.0 and floats.max() <= 1.0:
        return
    found = []
    if np.isnan(floats).any():
        found.append("NaN")
    if np.isinf(floats).any():
        found.append("infinity")
    if finite.any():
        values = floats[finite]
        found.append(f"min {values.min():g}, max {values.max():g}")
    raise ImageError(
        f"{label}: float array values out of range (found {', '.join(found)}); "
        "expected values in the range [0, 1]"
    )
