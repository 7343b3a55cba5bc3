"""The pixel contract: training feeds, inference and photo crops give a model the same array."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from emorec import EmotionClassifier, EmotionDataset
from emorec.inference import predict_proba
from emorec.pixels import InputSpec, resize, to_channels, to_model_input


class Recorder:
    """A stand-in model with a real input shape that records what it is given."""

    def __init__(self, shape=(48, 48, 1), k=7):
        self.input_shape, self.output_shape = (None, *shape), (None, k)
        self.seen: list[np.ndarray] = []

    def predict_on_batch(self, x):
        self.seen.append(np.array(x))
        return np.full((len(x), self.output_shape[-1]), 1 / self.output_shape[-1], np.float32)


@pytest.fixture(scope="module")
def face():
    """A 100x100 RGB 'face' with detail at every scale (aliasing would show)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:100, 0:100]
    stripes = ((xx // 2 + yy // 3) % 2) * 120
    noise = rng.integers(0, 100, (100, 100, 3))
    return np.clip(stripes[..., None] + noise + [30, 60, 0], 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", [(48, 48, 1), (64, 64, 3)])
def test_training_inference_and_crops_feed_the_same_pixels(face, shape):
    spec = InputSpec.from_shape(shape)
    expected = to_model_input(face[None], spec).astype(np.float32)

    # 1. the training pipelines, augmentation off
    ds = EmotionDataset.from_arrays(face[None], [0])
    kwargs = dict(image_size=spec.size, color_mode=spec.color_mode, shuffle=False)
    x_tf, _ = next(iter(ds.to_tf("train", 1, **kwargs)))
    x_keras, _ = ds.to_keras("train", 1, **kwargs)[0]
    # 2. predict_proba on the crop
    model = Recorder(shape)
    predict_proba(model, face[None])
    # 3. a photo holding the face at (37, 21), cropped by the classifier with its own box
    photo = np.full((300, 260, 3), 17, np.uint8)
    photo[21:121, 37:137] = face
    clf = EmotionClassifier(model, margin=0.0, tta="none")
    clf.predict(photo, boxes=[(37, 21, 100, 100)])

    for got in (np.asarray(x_tf), np.asarray(x_keras), model.seen[0], model.seen[1]):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_downscaling_is_antialiased(face):
    # stripes of period 2 px average out to grey, instead of aliasing into a pattern
    fine = np.zeros((96, 96, 1), np.uint8)
    fine[:, ::2] = 255
    small = resize(fine, (48, 48))
    assert np.ptp(small[:, 4:-4]) <= 2 and abs(int(small.mean()) - 127) <= 2


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.just(3))))
def test_grey_is_pillows_luma(rgb):
    expected = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
    np.testing.assert_array_equal(to_channels(rgb, 1), expected)
    assert to_channels(expected, 3).shape == rgb.shape


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3]))),
    st.integers(1, 30),
    st.integers(1, 30),
)
def test_resize_is_pillows_bilinear(image, h, w):
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    expected = np.asarray(picture.resize((w, h), Image.Resampling.BILINEAR))
    out = resize(image, (h, w))
    assert out.shape == (h, w, image.shape[-1])
    np.testing.assert_array_equal(out.reshape(expected.shape), expected)


def test_input_spec_and_errors():
    spec = InputSpec.from_mode((40, 32), "rgb")
    assert spec.shape == (40, 32, 3) and spec.color_mode == "rgb"
    assert to_model_input(np.zeros((2, 5, 5), np.uint8), spec).shape == (2, 40, 32, 3)
    same = np.zeros((1, 40, 32, 3), np.uint8)
    assert to_model_input(same, spec) is same
    with pytest.raises(ValueError, match="expected uint8"):
        to_model_input(np.zeros((1, 5, 5, 1), np.float32), spec)
    with pytest.raises(ValueError, match="1 \\(grey\\) or 3"):
        InputSpec(48, 48, 2)
    with pytest.raises(ValueError, match="fixed height and width"):
        InputSpec.from_shape((None, None, None, 1))


def test_fer_csv_faces_reach_the_model_raw_in_training_and_serving(tmp_path):
    """FER2013's raw pixels, read with FER+'s votes, are what the model gets in training and
    in serving: nothing equalises or stretches them on either side."""
    from emorec.data.ferplus import FERPLUS_COLUMNS

    face = np.random.default_rng(1).integers(90, 151, (48, 48), np.uint8)  # a flat, raw face
    (tmp_path / "fer2013.csv").write_text(
        f"emotion,pixels,Usage\n3,{' '.join(map(str, face.ravel()))},Training\n"
    )
    (tmp_path / "fer2013new.csv").write_text(
        f"Usage,Image name,{','.join(FERPLUS_COLUMNS)}\nTraining,a.png,2,8,0,0,0,0,0,0,0,0\n"
    )
    ds = EmotionDataset.from_csv(tmp_path / "fer2013.csv", ferplus=True, ferplus_mode="probability")
    x_tf, y = next(iter(ds.to_tf("train", 1, label_mode="probability", shuffle=False)))
    model = Recorder()
    EmotionClassifier(model, tta="none").predict_proba(face[None])
    expected = face[None, ..., None].astype(np.float32)
    for got in (np.asarray(x_tf), model.seen[0]):
        np.testing.assert_array_equal(got, expected)
    assert float(y.numpy()[0, 3]) == pytest.approx(0.8)  # happy 8 of 10
