"""The forward pass (emorec.inference): input convention, TTA, batching, labels."""

from __future__ import annotations

import numpy as np
import pytest

from emorec import ImageError, build_model
from emorec.inference import TTA_MODES, predict_proba, resolve_labels, tta_mode


class Constant:
    """A stand-in model: always predicts ``cls`` (with the input shape of a real one)."""

    def __init__(self, cls, k=7, shape=(48, 48, 1)):
        self.cls, self.k, self.input_shape, self.output_shape = cls, k, (None, *shape), (None, k)
        self.calls = 0
        self.seen: list[np.ndarray] = []

    def predict_on_batch(self, x):
        self.calls += 1
        self.seen.append(np.array(x))
        p = np.zeros((len(x), self.k), np.float32)
        p[:, self.cls] = 1
        return p


@pytest.fixture(scope="module")
def model():
    return build_model("mini_xception", num_classes=3)


def test_tta_views_and_batching():
    model = Constant(0)
    images = np.zeros((10, 48, 48, 1), np.uint8)
    assert predict_proba(model, images, batch_size=4, tta="shift").shape == (10, 7)
    assert model.calls == 3  # one call per batch, all views together
    assert [len(x) for x in model.seen] == [40, 40, 20]  # ten views a face
    for bad in ("rotate", True, False, None):
        with pytest.raises(ValueError, match="tta="):
            predict_proba(model, images, tta=bad)  # type: ignore[arg-type]
    assert [tta_mode(m) for m in TTA_MODES] == ["none", "flip", "shift"]


def test_tta_flip_averages_mirror_views(model):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (3, 48, 48, 1)).astype(np.uint8)
    plain = predict_proba(model, x)
    mirrored = predict_proba(model, x[:, :, ::-1])
    np.testing.assert_allclose(
        predict_proba(model, x, tta="flip"), (plain + mirrored) / 2, rtol=1e-4, atol=1e-6
    )


def test_model_receives_the_pixel_contract():
    from emorec.pixels import InputSpec, to_model_input

    model = Constant(1, k=3, shape=(32, 32, 3))
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (2, 48, 40, 1), dtype=np.uint8)
    assert predict_proba(model, x).shape == (2, 3)
    expected = to_model_input(x, InputSpec(32, 32, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.seen[0], expected)


def test_float_convention_is_zero_to_one(model):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (4, 48, 48), dtype=np.uint8)
    as_uint8 = predict_proba(model, x)
    np.testing.assert_allclose(predict_proba(model, x / 255.0), as_uint8, atol=1e-6)
    with pytest.raises(ImageError, match=r"range \[0, 1\]"):
        predict_proba(model, x.astype(np.float32))  # 0..255 floats are refused, not misread
    bad = (x / 255.0).copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        predict_proba(model, bad)


def test_integer_arrays_and_nested_lists_are_pixels_in_0_to_255():
    model = Constant(0, k=3, shape=(4, 4, 1))
    x = np.random.default_rng(4).integers(0, 256, (2, 4, 4), dtype=np.uint8)
    x[0, 0, :2] = 0, 255
    rows = x.tolist()  # nested lists of Python ints; np.array(rows) is int64
    for given in (rows, np.array(rows), x.astype(np.int32), x.astype(np.uint64)):
        assert predict_proba(model, given).shape == (2, 3)
    assert len(model.seen) == 4
    for seen in model.seen:
        np.testing.assert_array_equal(seen, model.seen[0])
    np.testing.assert_array_equal(model.seen[0][..., 0], x)
    for bad, found in ((x.astype(np.int64) + 1, "max 256"), (x.astype(np.int16) - 1, "min -1")):
        with pytest.raises(ImageError, match=rf"images: int\d+ values out of range .*{found}"):
            predict_proba(model, bad)
    with pytest.raises(ImageError, match=r"max 1000\); expected integer pixels in 0..255"):
        predict_proba(model, [[[0, 1000]]])


def test_bgr_order_is_flipped():
    model = Constant(0, k=7, shape=(48, 48, 1))
    rgb = np.zeros((1, 48, 48, 3), np.uint8)
    rgb[..., 0] = 200  # red
    predict_proba(model, rgb)
    predict_proba(model, rgb[..., ::-1], channel_order="bgr")
    np.testing.assert_array_equal(model.seen[0], model.seen[1])
    assert model.seen[0][0, 0, 0, 0] == 60  # Pillow's luma of (200, 0, 0)


def test_empty_batch_and_nan_model(model):
    assert predict_proba(model, np.zeros((0, 48, 48), np.uint8)).shape == (0, 3)

    class NaNModel(Constant):
        def predict_on_batch(self, x):
            return np.full((len(x), self.k), np.nan, np.float32)

    with pytest.raises(ValueError, match="NaN or infinite"):
        predict_proba(NaNModel(0), np.zeros((1, 48, 48), np.uint8))


def test_resolve_labels():
    seven, three = Constant(0), Constant(0, k=3)
    assert resolve_labels(seven)[0] == "angry"
    assert resolve_labels(three, card_labels=["a", "b", "c"]) == ("a", "b", "c")
    assert resolve_labels(three, ["x", "y", "z"], ["a", "b", "c"]) == ("x", "y", "z")
    assert resolve_labels(three, fallback=["p", "q", "r"]) == ("p", "q", "r")
    assert resolve_labels(three, card_labels=["a", "b", "c"], fallback="pqr") == ("a", "b", "c")
    with pytest.raises(ValueError, match="3 outputs but no model card"):
        resolve_labels(three, fallback=["p", "q"])  # a fallback of the wrong length is no help
    with pytest.raises(ValueError, match="2 labels given for a model with 3 outputs"):
        resolve_labels(three, ["a", "b"])


def test_model_input_is_taken_as_is_and_checked():
    from emorec.inference import predict_model_input

    model = Constant(2, k=3, shape=(48, 48, 1))
    pixels = np.random.default_rng(4).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    assert predict_model_input(model, pixels, tta="flip").argmax(axis=1).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(model.seen[0][:3], pixels.astype(np.float32))
    with pytest.raises(ValueError, match="the model takes uint8"):
        predict_model_input(model, pixels[..., 0])
    with pytest.raises(ValueError, match="the model takes uint8"):
        predict_model_input(model, pixels / 255.0)
