"""The augmentation layers emorec adds (RandomAffine, RandomGamma, RandomDownscale) and options."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from emorec.data.augment import default_augmentation, make_augmenter
from emorec.data.layers import RandomAffine, RandomDownscale, RandomEqualize, RandomGamma


def faces(n: int = 16, seed: int = 0) -> np.ndarray:
    """Sharp test images: random blocks of 4x4 pixels."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (n, 12, 12, 1)).astype("float32")
    return np.repeat(np.repeat(blocks, 4, axis=1), 4, axis=2)


def sharpness(x) -> float:
    return float(np.mean(np.abs(np.diff(np.asarray(x), axis=2))))


@pytest.mark.parametrize(
    "layer",
    [
        RandomAffine(0.1, 10, 0.1, seed=0),
        RandomGamma(0.5, seed=0),
        RandomDownscale(1.0, seed=0),
        RandomEqualize(1.0, seed=0),
    ],
)
def test_layers_act_only_in_training_and_keep_shape_and_range(layer):
    x = faces()
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape and not np.allclose(y, x)
    assert y.min() >= -1e-3 and y.max() <= 255 + 1e-3
    # and in a tf.data graph, as the pipeline runs them
    ds = tf.data.Dataset.from_tensor_slices(x).batch(8).map(lambda b: layer(b, training=True))
    assert [tuple(b.shape) for b in ds] == [(8, 48, 48, 1)] * 2


def test_affine_resamples_once():
    """One RandomAffine blurs less than Keras' three layers chained with the same ranges."""
    import keras

    x = np.random.default_rng(0).integers(0, 256, (64, 48, 48, 1)).astype("float32")
    chained = keras.Sequential(
        [
            keras.layers.RandomZoom((-0.1, 0.1), fill_mode="reflect", seed=0),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=0),
            keras.layers.RandomRotation(10 / 360, fill_mode="reflect", seed=0),
        ]
    )
    once = RandomAffine(0.1, 10, 0.1, seed=0)
    assert sharpness(once(x, training=True)) > 1.15 * sharpness(chained(x, training=True))


def test_affine_shift_moves_pixels_the_right_way():
    x = np.zeros((1, 9, 9, 1), "float32")
    x[0, 4, 4, 0] = 255.0
    layer = RandomAffine(shift=0.3, seed=1, fill_mode="constant")
    y = np.asarray(layer(np.repeat(x, 50, axis=0), training=True))[..., 0]
    # every output keeps the dot (whole-pixel shifts of up to 2.7 px keep most of its mass)
    assert (y.reshape(50, -1).max(axis=1) > 20).all()
    offsets = [np.unravel_index(np.argmax(img), img.shape) for img in y]
    assert {o for o in offsets} != {(4, 4)}


def test_gamma_and_downscale_do_what_they_say():
    x = np.full((200, 48, 48, 1), 64.0, "float32")
    g = np.asarray(RandomGamma(0.5, seed=0)(x, training=True))[:, 0, 0, 0]
    # 255 * (64/255) ** g for g in [1/1.5, 1.5]
    low, high = 255 * (64 / 255) ** 1.5, 255 * (64 / 255) ** (1 / 1.5)
    assert low - 0.5 <= g.min() < 64 < g.max() <= high + 0.5
    sharp = faces(200)
    y = np.asarray(RandomDownscale(0.5, smallest=12, seed=0)(sharp, training=True))
    blurred = np.array([not np.allclose(a, b) for a, b in zip(y, sharp)])
    assert 0.3 < blurred.mean() < 0.7
    assert sharpness(y[blurred]) < sharpness(sharp[blurred])


def test_default_augmentation_layers_and_options():
    names = [type(layer).__name__ for layer in default_augmentation(seed=0).layers]
    assert names == ["RandomAffine", "RandomFlip", "RandomBrightness", "RandomContrast"]
    every = make_augmenter(
        {"zoom": 0.1, "gamma": 0.3, "downscale": 0.2, "blur": 0.2, "erasing": 0.5}, seed=0
    )
    assert [type(layer).__name__ for layer in every.layers][-4:] == [
        "RandomGamma",
        "RandomDownscale",
        "RandomGaussianBlur",
        "RandomErasing",
    ]
    assert every.layers[0].zoom == 0.1
    assert (
        make_augmenter({"shift": 0, "rotation": 0, "zoom": 0}, seed=0)
        .layers[0]
        .name.startswith("random_flip")
    )
    for bad in ({"zoom": 2}, {"gamma": -1}, {"downscale": 1.5}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))}="):
            make_augmenter(bad)


def test_each_layer_draws_its_own_numbers():
    """One seed for the whole augmentation, but no two layers move together."""
    aug = default_augmentation(shift=0, rotation=0, contrast=0, gamma=0.5, seed=0)
    x = np.full((256, 8, 8, 1), 100.0, "float32")
    x[:, :, :4] = 50.0  # left half darker: a flip shows
    flip, bright, gamma = aug.layers
    flipped = np.asarray(flip(x, training=True))[:, 0, 0, 0] == 100.0
    b = np.asarray(bright(x, training=True))[:, 0, 0, 0] - 50.0
    g = np.asarray(gamma(x, training=True))[:, 0, 0, 0] - 50.0
    assert 0.3 < flipped.mean() < 0.7
    assert abs(np.corrcoef(flipped.astype(float), b)[0, 1]) < 0.3
    assert abs(np.corrcoef(b, g)[0, 1]) < 0.3


@pytest.mark.parametrize("kwargs", [{"zoom": 0.3}, {"rotation": 40.0}])
def test_affine_turns_and_zooms_about_the_centre(kwargs):
    x = np.zeros((20, 9, 9, 1), "float32")
    x[:, 4, 4, 0] = 255.0  # the centre pixel of a 9x9 image
    y = np.asarray(RandomAffine(seed=3, fill_mode="constant", **kwargs)(x, training=True))
    assert not np.allclose(y, x)  # the images did change ...
    flat = y[..., 0].reshape(20, -1)
    assert (flat.argmax(axis=1) == 4 * 9 + 4).all()  # ... but the centre stayed the centre


def test_equalize_stretches_some_faces_and_leaves_the_others():
    import cv2

    rng = np.random.default_rng(0)
    x = rng.integers(90, 150, (200, 48, 48, 1)).astype("float32")  # flat, low-contrast faces
    y = np.asarray(RandomEqualize(0.3, seed=0)(x, training=True))
    changed = np.array([not np.allclose(a, b) for a, b in zip(y, x)])
    assert 0.2 < changed.mean() < 0.4
    assert np.allclose(y[~changed], x[~changed])
    # an equalised face spans the whole range, as OpenCV's equalizeHist makes it
    face = y[changed][0, ..., 0]
    assert face.min() < 5 and face.max() > 250
    reference = cv2.equalizeHist(x[changed][0, ..., 0].astype(np.uint8)).astype("float32")
    assert np.corrcoef(face.ravel(), reference.ravel())[0, 1] > 0.99
    with pytest.raises(ValueError, match="equalize=1.5"):
        make_augmenter({"equalize": 1.5})
    names = [type(layer).__name__ for layer in make_augmenter({"equalize": 0.3}, seed=0).layers]
    assert names[:3] == ["RandomAffine", "RandomFlip", "RandomEqualize"]
