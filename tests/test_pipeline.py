"""Tests for emorec.data.pipeline: EmotionDataset.to_tf, to_keras and ArrayBatches."""

from __future__ import annotations

import numpy as np
import pytest

from emorec import EmotionDataset
from emorec.data.pipeline import ArrayBatches, convert_images
from emorec.pixels import InputSpec, to_model_input


# ----------------------------------------------------------------------------- to_tf
def test_to_tf_shapes_and_labels():
    images = np.stack([np.full((48, 48), i, np.uint8) for i in range(10)])
    ds = EmotionDataset.from_arrays(images, [i % 7 for i in range(10)])
    batches = list(ds.to_tf("train", batch_size=4, shuffle=False))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 48, 48, 1)] * 2 + [(2, 48, 48, 1)]
    x, y = batches[0]
    assert x.dtype.name == "float32" and y.numpy().tolist() == [0, 1, 2, 3]
    assert x.numpy()[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_to_tf_rgb_resize_categorical_shuffle():
    ds = EmotionDataset.from_arrays(np.zeros((8, 48, 48), np.uint8), list(range(7)) + [0])
    x, y = next(
        iter(
            ds.to_tf(
                "train", 8, image_size=(40, 40), color_mode="rgb", label_mode="categorical", seed=1
            )
        )
    )
    assert tuple(x.shape) == (8, 40, 40, 3)
    assert tuple(y.shape) == (8, 7) and float(y.numpy().sum()) == 8.0


def test_to_tf_augment_changes_images_within_range():
    rng = np.random.default_rng(0)
    ds = EmotionDataset.from_arrays(rng.integers(0, 256, (8, 48, 48), np.uint8), [0] * 8)
    plain = next(iter(ds.to_tf("train", 8, shuffle=False)))[0].numpy()
    aug = next(iter(ds.to_tf("train", 8, shuffle=False, augment=True, seed=3)))[0].numpy()
    assert aug.shape == plain.shape
    assert not np.allclose(aug, plain)
    assert aug.min() >= 0 and aug.max() <= 255


def test_augment_options_and_random_erasing():
    from emorec.data.augment import make_augmenter

    ds = EmotionDataset.from_arrays(np.full((16, 48, 48), 128, np.uint8), [0] * 16)
    only_erasing = {"shift": 0, "flip": False, "rotation": 0, "brightness": 0, "contrast": 0}
    x = next(iter(ds.to_tf("train", 16, shuffle=False, augment={**only_erasing, "erasing": 1.0})))
    changed = (x[0].numpy() != 128).reshape(16, -1)
    # every image has one erased rectangle, 2-33 % of the image, the rest untouched
    assert changed.any(axis=1).all()
    assert 0.0 < changed.mean() < 0.34
    with pytest.raises(ValueError, match="unknown augmentation option.*sharpen"):
        make_augmenter({"sharpen": 1})
    with pytest.raises(ValueError, match="erasing=1.5"):
        make_augmenter({"erasing": 1.5})
    with pytest.raises(TypeError, match="augment=3"):
        make_augmenter(3)
    assert make_augmenter(None) is None


def test_to_tf_errors():
    ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1])
    with pytest.raises(KeyError, match="no split 'val'"):
        ds.to_tf("val")
    with pytest.raises(ValueError, match="batch_size"):
        ds.to_tf("train", batch_size=0)
    with pytest.raises(ValueError, match="color_mode"):
        ds.to_tf("train", color_mode="hsv")


def test_to_tf_and_to_keras_match_the_pixel_contract():
    # a 100x100 RGB split fed at 48x48 grey: both feeds give exactly to_model_input's pixels
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 100, 100, 3), np.uint8)
    ds = EmotionDataset.from_arrays(images, [0, 1, 2, 3, 4, 5])
    kwargs = dict(image_size=(48, 48), color_mode="grayscale", augment=False, shuffle=False)
    x_tf, y_tf = next(iter(ds.to_tf("train", 4, **kwargs)))
    x_keras, y_keras = ds.to_keras("train", 4, **kwargs)[0]
    expected = to_model_input(images[:4], InputSpec(48, 48, 1)).astype(np.float32)
    assert x_tf.dtype.name == "float32" and x_keras.dtype == np.float32
    np.testing.assert_array_equal(x_tf.numpy(), expected)
    np.testing.assert_array_equal(x_keras, expected)
    assert y_tf.numpy().tolist() == y_keras.tolist() == [0, 1, 2, 3]


def test_to_tf_seeded_augmentation_repeats():
    rng = np.random.default_rng(1)
    ds = EmotionDataset.from_arrays(rng.integers(0, 256, (8, 32, 32), np.uint8), [0] * 8)
    a, b = (
        next(iter(ds.to_tf("train", 8, shuffle=True, augment=True, seed=5)))[0].numpy()
        for _ in range(2)
    )
    np.testing.assert_array_equal(a, b)


def test_to_tf_empty_split_and_label_mode():
    ds = EmotionDataset.from_arrays(np.zeros((0, 4, 4), np.uint8), [])
    with pytest.raises(ValueError, match="split 'train' is empty"):
        ds.to_tf("train")
    with pytest.raises(ValueError, match="split 'train' is empty"):
        ds.to_keras("train")
    ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="label_mode='onehot'"):
        ds.to_tf("train", label_mode="onehot")


# ----------------------------------------------------------------------------- ArrayBatches
def marked(n: int, size: int = 8) -> np.ndarray:
    """uint8 grey images whose pixels all equal their index."""
    return np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, size, size, 1))


def test_array_batches_cover_the_split_in_order():
    feed = ArrayBatches(marked(10), np.arange(10) % 7, batch_size=4, num_classes=7)
    assert len(feed) == 3
    shapes = [feed[i][0].shape for i in range(len(feed))]
    assert shapes == [(4, 8, 8, 1), (4, 8, 8, 1), (2, 8, 8, 1)]
    x, y = feed[1]
    assert x.dtype == np.float32 and x[:, 0, 0, 0].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert y.dtype == np.int32 and y.tolist() == [4, 5, 6, 0]
    with pytest.raises(IndexError):
        feed[3]


def first_pixels(feed: ArrayBatches) -> list[int]:
    return [int(v) for i in range(len(feed)) for v in feed[i][0][:, 0, 0, 0]]


def test_array_batches_shuffle_each_epoch_with_a_seed():
    feeds = [
        ArrayBatches(
            marked(12), np.zeros(12, int), batch_size=5, num_classes=2, shuffle=True, seed=s
        )
        for s in (7, 7, 8)
    ]
    epochs = []
    for _ in range(2):
        epochs.append([first_pixels(f) for f in feeds])
        for f in feeds:
            f.on_epoch_end()
    (a1, b1, c1), (a2, b2, _) = epochs
    assert sorted(a1) == sorted(a2) == list(range(12))  # each epoch is the whole split
    assert a1 == b1 and a2 == b2  # the same seed, the same orders
    assert a1 != a2  # a new order each epoch
    assert a1 != c1 and a1 != list(range(12))
    plain = ArrayBatches(marked(12), np.zeros(12, int), batch_size=5, num_classes=2, seed=7)
    plain.on_epoch_end()
    assert first_pixels(plain) == list(range(12))


def test_array_batches_categorical_labels():
    feed = ArrayBatches(
        marked(3), np.array([2, 0, 1]), batch_size=3, num_classes=4, label_mode="categorical"
    )
    y = feed[0][1]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.eye(4, dtype=np.float32)[[2, 0, 1]])


def test_array_batches_augmentation_is_clipped():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (8, 32, 32, 1), np.uint8)

    def wild(x):
        return x * 3.0 - 200.0  # far outside 0..255

    x = np.asarray(
        ArrayBatches(images, np.zeros(8, int), batch_size=8, num_classes=1, augment=wild)[0][0]
    )
    assert x.min() == 0.0 and x.max() == 255.0
    aug = ArrayBatches(images, np.zeros(8, int), batch_size=8, num_classes=1, augment=True, seed=3)
    x = np.asarray(aug[0][0])
    assert x.shape == (8, 32, 32, 1) and x.min() >= 0.0 and x.max() <= 255.0
    assert not np.allclose(x, images.astype(np.float32))


def test_array_batches_convert_once_like_the_pixel_contract():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 60, 40, 1), np.uint8)
    feed = ArrayBatches(
        images, np.zeros(5, int), batch_size=5, num_classes=1, image_size=(30, 20), color_mode="rgb"
    )
    expected = to_model_input(images, InputSpec(30, 20, 3))
    np.testing.assert_array_equal(feed.images, expected)
    np.testing.assert_array_equal(feed[0][0], expected.astype(np.float32))
    np.testing.assert_array_equal(convert_images(images, (30, 20), "rgb"), expected)
    # stored at the requested size and mode: used as it is, not copied
    assert convert_images(images, None, "grayscale") is images
    assert ArrayBatches(images, np.zeros(5, int), batch_size=2, num_classes=1).images is images


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"color_mode": "hsv"}, "color_mode='hsv'"),
        ({"label_mode": "sparse"}, "label_mode='sparse'"),
        ({"augment": 3}, "augment=3"),
    ],
)
def test_array_batches_errors(kwargs, message):
    args = {"batch_size": 2, "num_classes": 2, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        ArrayBatches(marked(4), np.zeros(4, int), **args)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        ArrayBatches(marked(4), np.zeros(3, int), batch_size=2, num_classes=2)
