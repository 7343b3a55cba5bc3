"""What an image input must satisfy before it is decoded, and the error when it does not.

:class:`ImageError` (importable, and documented, as ``emorec.images.ImageError`` and
``emorec.ImageError``), the checks of :func:`emorec.images.load_image`'s arguments
(``color_mode``, ``channel_order``, ``max_pixels``), the size check every decoded image goes
through, and the error for an image over Pillow's own decompression-bomb limit.

Examples
--------
>>> from emorec.image_guards import check_size, parse_max_pixels
>>> check_size((640, 480), parse_max_pixels(1_000_000), "photo.jpg")
>>> check_size((640, 480), parse_max_pixels(1000), "photo.jpg")  # doctest: +ELLIPSIS
Traceback (most recent call last):
emorec.images.ImageError: photo.jpg: 640x480 pixels exceeds the limit of 1000; raise ...
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

__all__ = [
    "ImageError",
    "bomb_error",
    "check_size",
    "parse_channel_order",
    "parse_color_mode",
    "parse_max_pixels",
]

_GRAYSCALE_NAMES = frozenset({"grayscale", "greyscale", "gray", "grey", "l"})
_RGB_NAMES = frozenset({"rgb"})


class ImageError(ValueError):
    """An input that cannot be turned into an image array.

    Raised for data that is not a readable image, truncated or corrupt files, images with more
    pixels than allowed, and arrays of an unsupported shape, dtype or value range. The message
    names the source and says what was expected.

    Examples
    --------
    >>> from emorec.images import ImageError, load_image
    >>> try:
    ...     load_image(b"not an image", name="notes.jpg")
    ... except ImageError as exc:
    ...     print(str(exc).split(";")[0])
    notes.jpg: not a readable image (cannot identify image file)
    """

    # Its public home: tracebacks, pickles and the API reference name it
    # emorec.images.ImageError, as they did before it moved here.
    __module__ = "emorec.images"


def parse_color_mode(color_mode: str) -> bool:
    """``True`` for grayscale, ``False`` for RGB.

    Raises
    ------
    ValueError
        For anything but ``"rgb"`` (``"RGB"``) or ``"grayscale"`` (``"L"``, ``"gray"``,
        ``"grey"``), case-insensitive.

    Examples
    --------
    >>> from emorec.image_guards import parse_color_mode
    >>> parse_color_mode("L"), parse_color_mode("RGB")
    (True, False)
    """
    key = color_mode.lower() if isinstance(color_mode, str) else None
    if key in _GRAYSCALE_NAMES:
        return True
    if key in _RGB_NAMES:
        return False
    raise ValueError(
        f"unknown color_mode {color_mode!r}; expected 'rgb' (or 'RGB') or 'grayscale' "
        "(or 'L', 'gray', 'grey')"
    )


def parse_channel_order(channel_order: str) -> bool:
    """``True`` for BGR, ``False`` for RGB.

    Raises
    ------
    ValueError
        For anything but ``"rgb"`` or ``"bgr"``.

    Examples
    --------
    >>> from emorec.image_guards import parse_channel_order
    >>> parse_channel_order("bgr")
    True
    """
    if channel_order in ("rgb", "bgr"):
        return channel_order == "bgr"
    raise ValueError(
        f"channel_order={channel_order!r}; expected 'rgb' or 'bgr' (OpenCV's arrays are BGR)"
    )


def parse_max_pixels(max_pixels: int | None) -> int | None:
    """``max_pixels`` as an int, or None for no limit.

    Raises
    ------
    ValueError
        For anything but None or a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.image_guards import parse_max_pixels
    >>> parse_max_pixels(np.int64(100)), parse_max_pixels(None)
    (100, None)
    """
    if max_pixels is None:
        return None
    is_integer = isinstance(max_pixels, (int, np.integer)) and not isinstance(max_pixels, bool)
    if is_integer and max_pixels >= 1:
        return int(max_pixels)
    raise ValueError(f"max_pixels must be a positive integer or None, not {max_pixels!r}")


def check_size(size: tuple[int, int], limit: int | None, label: str) -> None:
    """Refuse an image ``size`` (width, height) without pixels, or with more than ``limit``.

    Raises
    ------
    ImageError
        Naming ``label``, and saying how to raise the limit.

    Examples
    --------
    >>> from emorec.image_guards import check_size
    >>> check_size((0, 5), None, "empty.png")
    Traceback (most recent call last):
    emorec.images.ImageError: empty.png: image is 0x5; expected at least one pixel
    """
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"{label}: image is {width}x{height}; expected at least one pixel")
    if limit is not None and width * height > limit:
        raise ImageError(
            f"{label}: {width}x{height} pixels exceeds the limit of {limit}; "
            "raise max_pixels to read it (emorec predict: --max-pixels)"
        )


def bomb_error(error: Exception, limit: int | None, label: str) -> ImageError:
    """The error for an image over Pillow's process-wide ``Image.MAX_IMAGE_PIXELS``, which
    emorec never changes (another thread of the program may rely on it).

    ``error`` is Pillow's ``DecompressionBombError``. When emorec's own ``limit`` is the
    tighter one (at most twice Pillow's), the message names it, as :func:`check_size` does.

    Examples
    --------
    >>> from PIL import Image
    >>> from emorec.image_guards import bomb_error
    >>> error = Image.DecompressionBombError("Image size (200000000 pixels) exceeds limit")
    >>> print(bomb_error(error, 1000, "huge.png"))  # doctest: +ELLIPSIS
    huge.png: 200000000 pixels exceeds the limit of 1000; raise max_pixels to read it ...
    """
    found = re.search(r"\((\d+) pixels\)", str(error))
    size = f"{found.group(1)} pixels" if found else "its size"
    pillow = Image.MAX_IMAGE_PIXELS
    if limit is not None and pillow is not None and limit <= 2 * pillow:
        return ImageError(
            f"{label}: {size} exceeds the limit of {limit}; raise max_pixels to read it "
            "(emorec predict: --max-pixels)"
        )
    return ImageError(
        f"{label}: {size} exceeds Pillow's decompression-bomb limit (PIL.Image.MAX_IMAGE_PIXELS "
        f"= {pillow}), a process-wide setting emorec leaves alone; raise it yourself to read "
        "such images"
    )
