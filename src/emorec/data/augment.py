"""Data augmentation as Keras preprocessing layers, run inside the ``tf.data`` graph.

What is known to work on FER2013: small shifts (or random crops), horizontal flips, small
rotations and brightness/contrast jitter. Shifts, rotations and zoom are one affine transform
(:class:`emorec.data.layers.RandomAffine`): the face is resampled once, not once per layer.
Options for faces that are not FER2013's (framing ``zoom``, ``gamma``, ``downscale``, ``blur``,
histogram ``equalize``) are off by default. Images stay in 0..255.

Examples
--------
>>> from emorec.data.augment import default_augmentation
>>> aug = default_augmentation(seed=0)
>>> [layer.__class__.__name__ for layer in aug.layers]  # doctest: +NORMALIZE_WHITESPACE
['RandomAffine', 'RandomFlip', 'RandomBrightness', 'RandomContrast']
>>> [layer.__class__.__name__ for layer in make_augmenter({"erasing": 0.5}, seed=0).layers][-1]
'RandomErasing'
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["default_augmentation", "make_augmenter"]


def default_augmentation(
    *,
    shift: float = 0.1,
    flip: bool = True,
    rotation: float = 10.0,
    brightness: float = 0.2,
    contrast: float = 0.2,
    erasing: float = 0.0,
    zoom: float = 0.0,
    gamma: float = 0.0,
    downscale: float = 0.0,
    blur: float = 0.0,
    equalize: float = 0.0,
    seed: int | None = None,
) -> Any:
    """Build the default augmentation: a ``keras.Sequential`` of preprocessing layers.

    Parameters
    ----------
    shift : float
        Largest shift as a fraction of height and width (``0`` for none); the border is filled
        by reflection, as a random crop of a padded image would be.
    flip : bool
        Random horizontal flips (faces are left-right symmetric; expressions are too).
    rotation : float
        Largest rotation in degrees.
    brightness : float
        Largest brightness change as a fraction of the 0..255 range.
    contrast : float
        Largest contrast change factor (``0.2``: 0.8 to 1.2).
    erasing : float
        Probability of random erasing (Zhong et al. 2017): a rectangle of 2-33 % of the image
        is replaced by random pixel values. Off (``0``) by default.
    zoom : float
        Largest zoom in or out, as a fraction (``0.15``: 85 % to 115 %): framing jitter between
        a face detector's tight boxes and FER2013's loose crops. Off by default.
    gamma : float
        Random gamma from ``1/(1+gamma)`` to ``1+gamma`` (exposure and tone curves). Off by
        default.
    downscale : float
        Probability that an image is shrunk to 16 px or more and enlarged back: the blur of
        small faces in photos. Off by default.
    blur : float
        Keras ``RandomGaussianBlur``'s ``factor`` (0 to 1): roughly the fraction of images
        blurred, with a 5x5 kernel and a sigma drawn once per batch. Off by default.
    equalize : float
        Probability that an image is histogram-equalised (its contrast stretched over 0..255,
        as in equalised copies of FER2013 and in high-contrast photos): with about ``0.3`` a
        model learns raw and equalised faces alike. Off by default.
    seed : int, optional
        Seed for the random layers.

    Returns
    -------
    keras.Sequential
        Call it on a float batch in 0..255 with ``training=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.augment import default_augmentation
    >>> batch = np.full((2, 48, 48, 1), 100.0, "float32")
    >>> tuple(default_augmentation(rotation=0, seed=1)(batch, training=True).shape)
    (2, 48, 48, 1)
    """
    import keras

    layers: list[Any] = []
    for name, value in (
        ("zoom", zoom),
        ("gamma", gamma),
        ("downscale", downscale),
        ("blur", blur),
        ("equalize", equalize),
    ):
        if not 0 <= value <= 1:
            raise ValueError(f"{name}={value}; expected a value from 0 to 1")
    from .layers import RandomAffine, RandomDownscale, RandomEqualize, RandomGamma

    def own(kind: int) -> int | None:
        """A seed of each layer's own: layers given one seed draw the same numbers (a flip
        would always come with the same brightness change), so each kind gets another."""
        return None if seed is None else int(seed) * 10007 + kind

    if shift or rotation or zoom:
        # One resampling for all three: chained Keras layers would blur the face three times.
        layers.append(RandomAffine(shift, rotation, zoom, fill_mode="reflect", seed=own(1)))
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=own(2)))
    if equalize:
        # before the brightness, contrast and gamma jitter, which then act on equalised faces too
        layers.append(RandomEqualize(equalize, seed=own(9)))
    if brightness:
        layers.append(keras.layers.RandomBrightness(brightness, value_range=(0, 255), seed=own(3)))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, seed=own(4)))
    if gamma:
        layers.append(RandomGamma(gamma, seed=own(5)))
    if downscale:
        layers.append(RandomDownscale(downscale, seed=own(6)))
    if blur:
        layers.append(
            keras.layers.RandomGaussianBlur(blur, kernel_size=5, value_range=(0, 255), seed=own(7))
        )
    if erasing:
        if not 0 < erasing <= 1:
            raise ValueError(f"erasing={erasing}; expected a probability between 0 and 1")
        layers.append(
            keras.layers.RandomErasing(
                factor=(float(erasing), float(erasing)), value_range=(0, 255), seed=own(8)
            )
        )
    return keras.Sequential(layers, name="augmentation")


def make_augmenter(augment: Any, seed: int | None = None) -> Any:
    """The augmenter that an ``augment=`` argument asks for, or None.

    Parameters
    ----------
    augment : bool, dict or callable
        ``True``: :func:`default_augmentation`; a dict: :func:`default_augmentation` with those
        options (for example ``{"erasing": 0.5, "rotation": 0}``); a callable (for example a
        ``keras.Sequential`` of preprocessing layers) is used as it is; ``False`` or None: no
        augmentation.
    seed : int, optional
        Seed for :func:`default_augmentation`.

    Returns
    -------
    callable or None

    Examples
    --------
    >>> make_augmenter(False) is None
    True
    >>> len(make_augmenter({"rotation": 0}, seed=0).layers)
    4
    """
    if augment is True:
        return default_augmentation(seed=seed)
    if isinstance(augment, dict):
        options = [n for n in inspect.signature(default_augmentation).parameters if n != "seed"]
        unknown = sorted(set(augment) - set(options))
        if unknown:
            raise ValueError(
                f"unknown augmentation option(s) {', '.join(unknown)}; expected one of "
                f"{', '.join(options)}"
            )
        return default_augmentation(**augment, seed=seed)
    if augment is False or augment is None:
        return None
    if not callable(augment):
        raise TypeError(
            f"augment={augment!r}; expected True, False, a dict of options or a callable"
        )
    return augment
