"""Data augmentation as Keras preprocessing layers, run inside the ``tf.data`` graph.

What is known to work on FER2013: small shifts (or random crops), horizontal flips, small
rotations and brightness/contrast jitter. Images stay in 0..255.

Examples
--------
>>> from emorec.data.augment import default_augmentation
>>> aug = default_augmentation(seed=0)
>>> [layer.__class__.__name__ for layer in aug.layers]  # doctest: +NORMALIZE_WHITESPACE
['RandomTranslation', 'RandomFlip', 'RandomRotation', 'RandomBrightness', 'RandomContrast']
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_augmentation"]


def default_augmentation(
    *,
    shift: float = 0.1,
    flip: bool = True,
    rotation: float = 10.0,
    brightness: float = 0.2,
    contrast: float = 0.2,
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
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="reflect", seed=seed))
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation / 360.0, fill_mode="reflect", seed=seed))
    if brightness:
        layers.append(keras.layers.RandomBrightness(brightness, value_range=(0, 255), seed=seed))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, seed=seed))
    return keras.Sequential(layers, name="augmentation")
