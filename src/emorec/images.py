"""Turn any image input into a ``uint8`` NumPy array, safely.

:func:`load_image` accepts a file path, encoded bytes, a binary file object, a
:class:`PIL.Image.Image` or a NumPy array and returns a C-contiguous ``uint8`` array of shape
``(H, W, 1)`` (``color_mode="grayscale"``) or ``(H, W, 3)`` (``color_mode="rgb"``).

Decoding uses Pillow. EXIF orientation is applied, alpha channels are dropped (as Pillow's
``convert`` does, without compositing), 16-bit and float images are scaled to 8 bit, and grey is
computed from colour with Pillow's ITU-R 601-2 luma formula whatever the input kind, so a PIL
image and the same pixels as an array give identical results.

Every problem with the *image* (not an image, truncated, unsupported array shape or dtype,
too many pixels) raises :class:`ImageError`, a :class:`ValueError` whose message starts with the
source (a path, the ``name`` argument, ``<bytes>``, ``<file object>``, ``<PIL image>`` or
``<array>``) and says what was expected. A missing file raises :class:`FileNotFoundError`.

This module reads the sources and decodes them; the checks of the arguments and of an image's
size, and :class:`ImageError` itself, are :mod:`emorec.image_guards`; turning pixels into
``uint8`` arrays is :mod:`emorec.image_arrays`.

Examples
--------
>>> import numpy as np
>>> load_image(np.zeros((4, 5), np.uint8)).shape
(4, 5, 3)
>>> load_image(np.ones((2, 2, 3), np.float32), "L")[..., 0]
array([[255, 255],
       [255, 255]], dtype=uint8)
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from typing import IO, Final, Literal, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from ._paths import check_path
from .image_arrays import array_to_uint8, batch_to_uint8, pil_to_array
from .image_guards import (
    ImageError,
    bomb_error,
    check_size,
    parse_channel_order,
    parse_color_mode,
    parse_max_pixels,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "IMAGE_FORMATS",
    "MAX_STREAM_BYTES",
    "ChannelOrder",
    "ImageError",
    "load_batch",
    "load_image",
    "read_stream",
]

#: Channel order of 3- and 4-channel arrays: ``"rgb"`` (Pillow, Matplotlib) or ``"bgr"``
#: (OpenCV).
ChannelOrder = Literal["rgb", "bgr"]

#: Default limit on ``width * height`` of a decoded image (Pillow's own default
#: ``Image.MAX_IMAGE_PIXELS``); larger images are refused as possible decompression bombs.
DEFAULT_MAX_PIXELS: Final[int] = 89_478_485

#: The most bytes read from a stream for one image: a file object (:func:`load_image`),
#: standard input or a pipe (the command line). An endless stream (``/dev/zero``) stops here.
MAX_STREAM_BYTES = 256 * 1024 * 1024

#: The Pillow formats emorec decodes (``Image.open(..., formats=IMAGE_FORMATS)`` everywhere):
#: content in any other format Pillow knows (EPS, PSD, ICO...) is refused whatever the file's
#: name, so that a ``.jpg`` holding PostScript never reaches Ghostscript.
#: (Cameras' multi-picture JPEGs, MPO, are opened by the JPEG plugin.)
IMAGE_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PPM")

#: Lower-case file suffixes of the image formats that datasets use and Pillow reads.
IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {
        ".bmp",
        ".gif",
        ".jpeg",
        ".jpg",
        ".pbm",
        ".pgm",
        ".png",
        ".ppm",
        ".tif",
        ".tiff",
        ".webp",
    }
)


class SupportsRead(Protocol):
    """A binary file object: anything whose ``read()`` returns bytes."""

    def read(self, size: int = ..., /) -> bytes: ...


#: Anything :func:`load_image` accepts.
ImageSource: TypeAlias = (
    str
    | os.PathLike[str]
    | bytes
    | bytearray
    | memoryview
    | SupportsRead
    | Image.Image
    | npt.NDArray[np.generic]
)

_EXPECTED_FILE = "expected a JPEG, PNG, BMP, GIF, TIFF or WebP file"

# What Pillow raises for data it cannot identify or decode (truncated, corrupt, unsupported).
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)


def load_image(
    source: ImageSource,
    color_mode: str = "rgb",
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    name: str | None = None,
    channel_order: ChannelOrder = "rgb",
) -> npt.NDArray[np.uint8]:
    """Load or convert an image into a ``uint8`` array.

    Parameters
    ----------
    source
        One of:

        - a path (``str`` or :class:`os.PathLike`) to an image file;
        - encoded image data as ``bytes``, ``bytearray`` or ``memoryview`` (a ``bytes`` object is
          always data, never a path);
        - a binary file object (anything with ``read()`` returning bytes), read from its current
          position to the end (at most :data:`MAX_STREAM_BYTES`) and not closed;
        - a :class:`PIL.Image.Image` (not modified);
        - a NumPy array of shape ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` (RGB) or
          ``(H, W, 4)`` (RGBA) and dtype ``uint8``, ``uint16`` (scaled by ``1/257``),
          ``bool`` (``True`` is 255) or float with values in ``[0, 1]`` (scaled by 255).
    color_mode
        ``"rgb"`` (alias ``"RGB"``) or ``"grayscale"`` (aliases ``"L"``, ``"gray"``,
        ``"grey"``), case-insensitive.
    max_pixels
        Refuse encoded images (and PIL images) whose ``width * height`` exceeds this, checked
        from the header before the pixels are decoded. ``None`` disables emorec's check.
        Pillow's own process-wide limit (``PIL.Image.MAX_IMAGE_PIXELS``, the same 89.5
        megapixels by default) still applies and is never changed by emorec, so that other
        threads of your program keep its protection: to read larger images, raise it
        yourself. Arrays are not checked: their memory is already allocated.
    name
        What to call the source in error messages, e.g. ``"faces.zip:train/happy/1.jpg"``
        for bytes read from an archive. By default the path, the file object's ``name``,
        ``"<bytes>"``, ``"<file object>"``, ``"<PIL image>"`` or ``"<array>"``.
    channel_order
        For arrays only: ``"rgb"`` (the default: RGB or RGBA, as Pillow, Matplotlib and
        scikit-image give them) or ``"bgr"`` (BGR or BGRA, as OpenCV's ``cv2.imread`` and
        ``VideoCapture`` give them). Files and PIL images know their own order.

    Returns
    -------
    numpy.ndarray
        A new C-contiguous ``uint8`` array of shape ``(H, W, 1)`` for grayscale or
        ``(H, W, 3)`` for RGB. For files, bytes and PIL images, EXIF orientation has been
        applied and only the first frame of an animation is used. Alpha is dropped, not
        composited. Grey is computed from colour as ``L = R*299/1000 + G*587/1000 +
        B*114/1000``, rounded (Pillow's ``convert("L")``). 16-bit data is scaled by ``1/257``
        and rounded; float (mode ``F``) images are taken as 0..1 if their maximum is at most 1,
        else 0..255, and clipped.

    Raises
    ------
    ImageError
        If the data is not a readable image, is truncated or corrupt, has more than
        ``max_pixels`` pixels, or is an array of an unsupported shape, dtype or value range;
        or if a path holds a NUL byte.
    FileNotFoundError
        If a path does not exist.
    TypeError
        If ``source`` is of an unsupported type or a file object is opened in text mode.
    ValueError
        If ``color_mode`` or ``max_pixels`` is invalid.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> red = Image.new("RGB", (3, 2), (255, 0, 0))
    >>> load_image(red).shape
    (2, 3, 3)
    >>> load_image(red, "grayscale")[..., 0]
    array([[76, 76, 76],
           [76, 76, 76]], dtype=uint8)
    >>> buffer = io.BytesIO()
    >>> red.save(buffer, format="PNG")
    >>> load_image(buffer.getvalue(), "L").shape
    (2, 3, 1)
    >>> load_image(np.array([[0, 32896, 65535]], np.uint16), "L")[..., 0]
    array([[  0, 128, 255]], dtype=uint8)
    >>> try:
    ...     load_image(b"hello", name="faces.zip:1.jpg")
    ... except ImageError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    faces.zip:1.jpg: not a readable image (cannot identify image file); expected a JPEG, ...
    """
    grayscale = parse_color_mode(color_mode)
    limit = parse_max_pixels(max_pixels)
    bgr = parse_channel_order(channel_order)

    if isinstance(source, np.ndarray):
        label = "<array>" if name is None else name
        return array_to_uint8(source, grayscale, label, bgr=bgr)
    if isinstance(source, Image.Image):
        label = name if name is not None else (getattr(source, "filename", "") or "<PIL image>")
        return _convert_pil(source, grayscale, limit, label)
    if isinstance(source, (str, os.PathLike)):
        return _load_path(source, grayscale, limit, name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = "<bytes>" if name is None else name
        data = source.tobytes() if isinstance(source, memoryview) else source
        if len(data) == 0:
            raise ImageError(f"{label}: empty data (0 bytes); {_EXPECTED_FILE}")
        return _decode(io.BytesIO(data), grayscale, limit, label)
    if hasattr(source, "read"):
        return _load_file_object(source, grayscale, limit, name)
    raise TypeError(
        f"cannot load an image from {type(source).__name__}; expected a path, bytes, a binary "
        "file object, a PIL image or a NumPy array"
    )


# --------------------------------------------------------------------------------------------
# Encoded images: paths, bytes, file objects
# --------------------------------------------------------------------------------------------


class NotRegularFileError(ImageError):
    """A path that names a FIFO, a device or a socket, not a regular file: never read."""


def open_regular(path: str | os.PathLike[str], label: str) -> tuple[IO[bytes], os.stat_result]:
    r"""Open ``path`` for reading if it is a regular file, and return it with its ``fstat``.

    It is opened without blocking and checked before a byte is read: a FIFO would block for
    ever, a device (a link to ``/dev/zero``) would read without end; those raise
    :class:`NotRegularFileError` naming ``label``. ``FileNotFoundError`` and the other
    ``OSError``\ s of ``os.open`` name the path.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    file = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        file.close()
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise NotRegularFileError(f"{label}: {kind}, not a regular file")
    return file, info


def _load_path(
    path: str | os.PathLike[str], grayscale: bool, limit: int | None, name: str | None
) -> npt.NDArray[np.uint8]:
    label = os.fsdecode(path) if name is None else name
    check_path(path, "source", ImageError)
    if os.path.isdir(path):
        raise ImageError(f"{label}: is a directory; {_EXPECTED_FILE}")
    try:
        file, info = open_regular(path, label)
    except NotRegularFileError as exc:
        raise NotRegularFileError(
            f"{exc}; to read a stream, pass its bytes or a file object (sys.stdin.buffer)"
        ) from None
    with file:
        if info.st_size == 0:
            raise ImageError(f"{label}: empty file (0 bytes); {_EXPECTED_FILE}")
        return _decode(file, grayscale, limit, label)


def _load_file_object(
    file: SupportsRead, grayscale: bool, limit: int | None, name: str | None
) -> npt.NDArray[np.uint8]:
    file_name = getattr(file, "name", None)
    if name is not None:
        label = name
    elif isinstance(file_name, str) and file_name:
        label = file_name
    else:
        label = "<file object>"
    if isinstance(file, io.TextIOBase):
        raise TypeError(f"{label}: file object is in text mode; open it in binary mode ('rb')")
    # Read from the current position: Pillow would seek to 0 and cannot retry non-seekable
    # streams. Decoding needs the whole file in memory anyway.
    data = read_stream(file, label)
    if len(data) == 0:
        raise ImageError(f"{label}: empty file (0 bytes); {_EXPECTED_FILE}")
    return _decode(io.BytesIO(data), grayscale, limit, label)


def read_stream(file: SupportsRead, label: str, limit: int | None = None) -> bytes:
    """A binary stream's bytes to its end (a file object, standard input, a pipe), refused
    past ``limit`` bytes (default :data:`MAX_STREAM_BYTES`): an endless stream such as
    ``/dev/zero`` would fill memory.

    Raises
    ------
    ImageError
        If the stream holds more than ``limit`` bytes; ``label`` names it.
    TypeError
        If ``read()`` returns text.

    Examples
    --------
    >>> import io
    >>> from emorec.images import read_stream
    >>> read_stream(io.BytesIO(b"abc"), "data")
    b'abc'
    >>> read_stream(io.BytesIO(b"abc"), "data", limit=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    emorec.images.ImageError: data: more than 2 bytes; expected one image ...
    """
    limit = MAX_STREAM_BYTES if limit is None else limit
    parts: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = file.read(limit + 1 - total)
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(
                f"{label}: read() returned {type(chunk).__name__}, not bytes; open the file in "
                "binary mode ('rb')"
            )
        if not chunk:
            break
        parts.append(bytes(chunk))
        total += len(chunk)
        if isinstance(file, io.BufferedIOBase):  # its read(n) is short at the end only
            break
    if total > limit:
        raise ImageError(
            f"{label}: more than {limit} bytes; expected one image (a stream that does not end, "
            "such as /dev/zero, is refused)"
        )
    return b"".join(parts)


def _open(file: IO[bytes], limit: int | None, label: str) -> Image.Image:
    """``Image.open`` of the :data:`IMAGE_FORMATS` only, Pillow's own bomb check left on."""
    try:
        return Image.open(file, formats=IMAGE_FORMATS)
    except Image.DecompressionBombError as error:
        raise bomb_error(error, limit, label) from None


def _decode(
    file: IO[bytes], grayscale: bool, limit: int | None, label: str
) -> npt.NDArray[np.uint8]:
    try:
        image = _open(file, limit, label)
    except ImageError:
        raise
    except UnidentifiedImageError as error:
        raise ImageError(
            f"{label}: not a readable image (cannot identify image file); {_EXPECTED_FILE}"
        ) from error
    except _DECODE_ERRORS as error:
        raise ImageError(f"{label}: not a readable image ({error}); {_EXPECTED_FILE}") from error
    with image:  # closes nothing of ours: ``file`` belongs to the caller
        check_size(image.size, limit, label)
        kind = image.format or "image"
        try:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
        except Image.DecompressionBombError as error:  # GIF frames larger than the header
            raise bomb_error(error, limit, label) from None
        except _DECODE_ERRORS as error:
            raise ImageError(
                f"{label}: corrupt or truncated {kind} data ({error}); expected a complete "
                f"{kind} file"
            ) from error
        return pil_to_array(image, grayscale, label)


def _convert_pil(
    image: Image.Image, grayscale: bool, limit: int | None, label: str
) -> npt.NDArray[np.uint8]:
    check_size(image.size, limit, label)
    try:
        # Loads a lazily opened image; returns a new image, leaving the caller's unchanged.
        oriented = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise bomb_error(error, limit, label) from None
    except _DECODE_ERRORS as error:
        raise ImageError(f"{label}: corrupt or truncated image data ({error})") from error
    return pil_to_array(oriented, grayscale, label)


# --------------------------------------------------------------------------------------------
# Batches of arrays
# --------------------------------------------------------------------------------------------


def load_batch(
    images: npt.ArrayLike,
    color_mode: str = "rgb",
    *,
    channel_order: ChannelOrder = "rgb",
    name: str = "<array>",
) -> npt.NDArray[np.uint8]:
    """A batch of images as one uint8 ``(n, h, w, 1 | 3)`` array, by :func:`load_image`'s rules.

    Parameters
    ----------
    images : array_like
        ``(n, h, w)`` grey, or ``(n, h, w, c)`` with ``c`` 1, 3 or 4; uint8, uint16, bool or
        float in [0, 1] (the same dtypes and value rules as :func:`load_image`), or other
        integers in 0..255 (a nested list of Python ints, which NumPy makes int64).
    color_mode : {"rgb", "grayscale"}
        Channels of the result.
    channel_order : {"rgb", "bgr"}
        Order of 3- and 4-channel input (``"bgr"`` for OpenCV's arrays).
    name : str
        What to call the batch in error messages.

    Raises
    ------
    ImageError
        For another shape or dtype, an empty batch, floats outside [0, 1] (NaN included), or
        integers outside 0..255.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.images import load_batch
    >>> load_batch(np.ones((2, 4, 4, 3)), "grayscale")[:, 0, 0, 0]
    array([255, 255], dtype=uint8)
    >>> load_batch(np.array([[[[0, 0, 255]]]], np.uint8), channel_order="bgr")[0, 0, 0]
    array([255,   0,   0], dtype=uint8)
    >>> load_batch([[[0, 128], [255, 7]]]).dtype
    dtype('uint8')
    """
    grayscale = parse_color_mode(color_mode)
    bgr = parse_channel_order(channel_order)
    return batch_to_uint8(images, grayscale, name, bgr=bgr)
