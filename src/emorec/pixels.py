"""The one pixel contract for model input: what a model receives, from training and serving.

Every emorec model takes ``(n, height, width, channels)`` pixels in 0..255 and does its own
rescaling inside the network (``models/_blocks.py``). What reaches it is made here, by
:func:`to_model_input`, and nowhere else: the training feeds (``EmotionDataset.to_tf`` and
``to_keras``), the dataset readers' ``image_size=``, the face crops (:mod:`emorec.faces.crops`),
whole-image predictions and :func:`emorec.inference.predict_proba` all call it. So a face seen
in training and the same face seen in a photo give the model the same array (within the
rounding of one crop offset), which ``tests/test_pixels.py`` checks end to end.

The contract, for uint8 images of any size and 1 or 3 channels:

1. **Colour.** Grey from RGB is ITU-R 601-2 luma, rounded, exactly as Pillow's
   ``Image.convert("L")`` computes it (``L = (19595 R + 38470 G + 7471 B + 2**15) >> 16``), and
   as :func:`emorec.load_image` does, before resizing. Grey to RGB repeats the channel (after
   resizing, which gives the same pixels for a third of the work).
2. **Size.** Pillow's bilinear filter, which widens its support when downscaling
   (antialiased, close to area averaging; plain bilinear when upscaling), rounded to uint8.
   Images already at the model's size are not touched.

Why Pillow and not ``tf.image.resize``: without antialiasing a 100 px face shrunk to 48 px
aliases (every other pixel is dropped), and it did so in training but not in serving before
this contract; Pillow's filter is what the photo path always used, and it needs no
TensorFlow. Conversion happens once per image on the CPU, before augmentation.

A network may still work at another size than its input (``build_model(...,
image_size=...)`` puts a ``Resizing`` layer inside the graph): that is part of the model, and
what the model *receives* is still this contract's output at ``input_shape``.

Examples
--------
>>> import numpy as np
>>> from emorec.pixels import InputSpec, to_model_input
>>> spec = InputSpec(48, 48, 1)
>>> faces = np.zeros((2, 100, 100, 3), np.uint8)
>>> to_model_input(faces, spec).shape
(2, 48, 48, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["ColorMode", "InputSpec", "resize", "to_channels", "to_model_input"]

#: A model input's colour: ``"grayscale"`` (1 channel) or ``"rgb"`` (3).
ColorMode = Literal["grayscale", "rgb"]

# Pillow's fixed-point ITU-R 601-2 weights (libImaging/Convert.c): L24 = 19595 R + 38470 G +
# 7471 B, rounded by adding 2**15 before the shift.
_LUMA = np.array([19595, 38470, 7471], np.uint32)


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: ``height x width`` pixels with 1 (grey) or 3 (RGB) channels.

    Examples
    --------
    >>> from emorec.pixels import InputSpec
    >>> spec = InputSpec.from_shape((None, 48, 48, 1))
    >>> spec.size, spec.color_mode, spec.shape
    ((48, 48), 'grayscale', (48, 48, 1))
    """

    height: int
    width: int
    channels: int

    def __post_init__(self) -> None:
        if self.channels not in (1, 3) or min(self.height, self.width) < 1:
            raise ValueError(
                f"input {self.height}x{self.width}x{self.channels}; expected positive sizes "
                "and 1 (grey) or 3 (RGB) channels"
            )

    @classmethod
    def from_shape(cls, shape: Sequence[int | None]) -> InputSpec:
        """From ``(height, width, channels)`` or a Keras ``(None, height, width, channels)``."""
        dims = tuple(shape)[-3:]
        if len(dims) != 3 or None in dims or dims[-1] not in (1, 3):
            raise ValueError(
                f"input shape {tuple(shape)} is not (batch, height, width, 1 or 3) with a fixed "
                "height and width"
            )
        height, width, channels = (int(d) for d in dims)  # type: ignore[arg-type]
        return cls(height, width, channels)

    @classmethod
    def from_model(cls, model: Any) -> InputSpec:
        """The input of a Keras model (anything with ``input_shape``)."""
        return cls.from_shape(model.input_shape)

    @classmethod
    def from_mode(cls, size: Sequence[int], color_mode: str) -> InputSpec:
        """From ``(height, width)`` and ``"grayscale"`` or ``"rgb"``."""
        if color_mode not in ("grayscale", "rgb"):
            raise ValueError(f"color_mode={color_mode!r}; expected 'grayscale' or 'rgb'")
        height, width = (int(s) for s in size)
        return cls(height, width, 1 if color_mode == "grayscale" else 3)

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return self.height, self.width

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)``."""
        return self.height, self.width, self.channels

    @property
    def color_mode(self) -> ColorMode:
        """``"grayscale"`` or ``"rgb"``."""
        return "grayscale" if self.channels == 1 else "rgb"


def to_channels(images: npt.NDArray[np.uint8], channels: int) -> npt.NDArray[np.uint8]:
    """uint8 ``(..., 1 | 3)`` images with ``channels`` channels (grey as Pillow's ``"L"``).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.pixels import to_channels
    >>> to_channels(np.array([[[255, 0, 0]]], np.uint8), 1)[..., 0]
    array([[76]], dtype=uint8)
    """
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    if have == 3 and channels == 1:
        luma = (images.astype(np.uint32) @ _LUMA + 0x8000) >> 16
        return luma.astype(np.uint8)[..., None]
    raise ValueError(f"cannot convert {have} channels to {channels}; expected 1 or 3")


def resize(image: npt.NDArray[np.uint8], size: Sequence[int]) -> npt.NDArray[np.uint8]:
    """One uint8 ``(h, w, 1 | 3)`` image at ``size = (height, width)``, by the contract's filter.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.pixels import resize
    >>> resize(np.full((100, 80, 1), 7, np.uint8), (48, 48)).shape
    (48, 48, 1)
    """
    height, width = int(size[0]), int(size[1])
    if image.shape[:2] == (height, width):
        return image
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    out = np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR), np.uint8)
    return out.reshape(height, width, image.shape[-1])


def to_model_input(images: npt.ArrayLike, spec: InputSpec) -> npt.NDArray[np.uint8]:
    """A uint8 batch ``(n, h, w, 1 | 3)`` converted to what a model of ``spec`` takes.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 ``(n, h, w, c)`` with ``c`` 1 or 3 (or ``(n, h, w)`` grey), any ``h`` and ``w``.
    spec : InputSpec
        The model's input.

    Returns
    -------
    numpy.ndarray
        uint8 ``(n, spec.height, spec.width, spec.channels)``; the input itself when it is
        already that.

    Raises
    ------
    ValueError
        For another dtype or shape.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.pixels import InputSpec, to_model_input
    >>> red = np.zeros((1, 96, 96, 3), np.uint8)
    >>> red[..., 0] = 255
    >>> x = to_model_input(red, InputSpec(48, 48, 1))
    >>> x.shape, int(x[0, 0, 0, 0])
    ((1, 48, 48, 1), 76)
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(
            f"images of shape {x.shape} and dtype {x.dtype}; expected uint8 (n, h, w, 1 or 3) "
            "(emorec.load_image and emorec.images.load_batch make them)"
        )
    if x.shape[-1] == 3:
        x = to_channels(x, spec.channels)  # grey before resizing: a third of the work
    if x.shape[1:3] != spec.size:
        out = np.empty((len(x), *spec.size, x.shape[-1]), np.uint8)
        for i, image in enumerate(x):
            out[i] = resize(image, spec.size)
        x = out
    return to_channels(x, spec.channels)  # grey to RGB after resizing: the same, cheaper
