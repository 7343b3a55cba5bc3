"""Augmentation layers Keras lacks: one-resampling affine jitter, random gamma, downscaling and
histogram equalisation.

They work like Keras' own random preprocessing layers (in a ``tf.data`` pipeline or eagerly,
seeded by a ``keras.random.SeedGenerator``) on float images in 0..255, and act only when
called with ``training=True``. :func:`emorec.data.augment.default_augmentation` uses them for
its ``gamma``, ``downscale`` and ``equalize`` options.

Examples
--------
>>> import numpy as np
>>> from emorec.data.layers import RandomDownscale, RandomGamma
>>> x = np.linspace(0, 255, 48 * 48, dtype="float32").reshape(1, 48, 48, 1)
>>> bool(np.allclose(RandomGamma(0.5, seed=0)(x, training=False), x))
True
>>> tuple(RandomDownscale(1.0, seed=0)(x, training=True).shape)
(1, 48, 48, 1)
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np

__all__ = ["RandomAffine", "RandomDownscale", "RandomEqualize", "RandomGamma"]


@keras.saving.register_keras_serializable("emorec")
class RandomGamma(keras.layers.Layer):
    """Random gamma, per image: ``255 * (x / 255) ** g``, ``g`` log-uniform in
    ``[1 / (1 + gamma), 1 + gamma]``. Mimics exposure and camera tone curves.

    Parameters
    ----------
    gamma : float
        ``0`` for none; ``0.4``: gammas from 0.71 to 1.4.
    seed : int, optional
    """

    def __init__(self, gamma: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= gamma <= 1:
            raise ValueError(f"gamma={gamma}; expected a value from 0 to 1")
        self.gamma = float(gamma)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x: Any, training: bool = True) -> Any:
        if not training or not self.gamma:
            return x
        bound = float(np.log1p(self.gamma))
        shape = (keras.ops.shape(x)[0], 1, 1, 1)
        g = keras.ops.exp(keras.random.uniform(shape, -bound, bound, seed=self.generator))
        return 255.0 * keras.ops.power(keras.ops.clip(x / 255.0, 0.0, 1.0), g)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma, "seed": self.seed}


@keras.saving.register_keras_serializable("emorec")
class RandomDownscale(keras.layers.Layer):
    """Shrink some images (antialiased) and enlarge them back (bilinear).

    The blur of a small face in a photo enlarged to the model's input. Each batch draws one
    of six sizes from ``smallest`` to just under full size (static shapes keep it one graph);
    each image is blurred with probability ``probability``.

    Parameters
    ----------
    probability : float
        Fraction of images blurred.
    smallest : int
        The smallest height shrunk to, in pixels (the width keeps the aspect ratio).
    seed : int, optional
    """

    def __init__(
        self, probability: float, smallest: int = 16, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not 0 <= probability <= 1:
            raise ValueError(f"probability={probability}; expected a value from 0 to 1")
        self.probability = float(probability)
        self.smallest = int(smallest)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x: Any, training: bool = True) -> Any:
        if not training or not self.probability:
            return x
        height, width = int(x.shape[1]), int(x.shape[2])
        sizes = sorted({int(s) for s in np.linspace(min(self.smallest, height - 1), height - 1, 6)})
        pick = keras.random.randint((), 0, len(sizes), seed=self.generator)
        branches = [functools.partial(_down_up, x, s, (height, width)) for s in sizes]
        blurred = keras.ops.switch(pick, branches)
        draw = keras.random.uniform((keras.ops.shape(x)[0], 1, 1, 1), seed=self.generator)
        return keras.ops.where(draw < self.probability, blurred, x)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "probability": self.probability,
            "smallest": self.smallest,
            "seed": self.seed,
        }


def _down_up(x: Any, height: int, size: tuple[int, int]) -> Any:
    width = max(1, round(height * size[1] / size[0]))
    small = keras.ops.image.resize(x, (height, width), antialias=True)
    return keras.ops.image.resize(small, size, interpolation="bilinear")


@keras.saving.register_keras_serializable("emorec")
class RandomAffine(keras.layers.Layer):
    """Random shift, rotation and zoom, per image, in one resampling.

    Keras' ``RandomTranslation``, ``RandomRotation`` and ``RandomZoom`` one after the other
    interpolate the image three times, and each bilinear resampling blurs a 48 px face (about
    a fifth less edge contrast each, measured on FER2013 crops); one affine transform
    (``keras.ops.image.affine_transform``) moves the pixels once.

    Parameters
    ----------
    shift : float
        Largest shift as a fraction of height and width.
    rotation : float
        Largest rotation in degrees.
    zoom : float
        Largest zoom in or out as a fraction (``0.1``: 90 % to 110 %).
    fill_mode : str
        How to fill the border (``"reflect"``, as a random crop of a padded image would be).
    seed : int, optional
    """

    def __init__(
        self,
        shift: float = 0.0,
        rotation: float = 0.0,
        zoom: float = 0.0,
        fill_mode: str = "reflect",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value, top in (
            ("shift", shift, 1),
            ("rotation", rotation, 180),
            ("zoom", zoom, 1),
        ):
            if not 0 <= value <= top:
                raise ValueError(f"{name}={value}; expected a value from 0 to {top}")
        self.shift, self.rotation, self.zoom = float(shift), float(rotation), float(zoom)
        self.fill_mode = fill_mode
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x: Any, training: bool = True) -> Any:
        if not training or not (self.shift or self.rotation or self.zoom):
            return x
        ops = keras.ops
        n = ops.shape(x)[0]
        height, width = int(x.shape[1]), int(x.shape[2])

        def draw(bound: float) -> Any:
            return keras.random.uniform((n,), -bound, bound, seed=self.generator)

        angle = draw(float(np.deg2rad(self.rotation)))
        scale = 1.0 + draw(self.zoom)
        tx, ty = draw(self.shift) * width, draw(self.shift) * height
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        # The map from output to input pixel: rotate and scale about the centre, then shift.
        a0, a1 = ops.cos(angle) / scale, ops.sin(angle) / scale
        b0, b1 = -a1, a0
        a2 = cx - tx - a0 * cx - a1 * cy
        b2 = cy - ty - b0 * cx - b1 * cy
        zeros = ops.zeros_like(a0)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(
            x, transform, interpolation="bilinear", fill_mode=self.fill_mode
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "shift": self.shift,
            "rotation": self.rotation,
            "zoom": self.zoom,
            "fill_mode": self.fill_mode,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable("emorec")
class RandomEqualize(keras.layers.Layer):
    """Histogram-equalise some images (each on its own histogram), leave the others.

    Crops from photos come with every contrast, from flat to stretched, and copies of FER2013
    circulate both raw and equalised: a model trained on only one kind loses points on the
    other. Equalising a random share of the training faces covers both (Keras'
    ``Equalization`` layer, per image and channel).

    Parameters
    ----------
    probability : float
        Fraction of images equalised.
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.layers import RandomEqualize
    >>> x = np.linspace(100, 140, 48 * 48, dtype="float32").reshape(1, 48, 48, 1)
    >>> y = np.asarray(RandomEqualize(1.0, seed=0)(x, training=True))
    >>> float(x.max() - x.min()), float(y.max() - y.min()) > 250
    (40.0, True)
    """

    def __init__(self, probability: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= probability <= 1:
            raise ValueError(f"probability={probability}; expected a value from 0 to 1")
        self.probability = float(probability)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        self.equalize = keras.layers.Equalization(value_range=(0, 255))

    def build(self, input_shape: Any) -> None:
        self.equalize.build(input_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def call(self, x: Any, training: bool = True) -> Any:
        if not training or not self.probability:
            return x
        equalised = keras.ops.cast(self.equalize(x), x.dtype)
        draw = keras.random.uniform((keras.ops.shape(x)[0], 1, 1, 1), seed=self.generator)
        return keras.ops.where(draw < self.probability, equalised, x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "probability": self.probability, "seed": self.seed}
