from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from conftest import install_plugin
from emorec import build_model, list_models, register_model
from emorec.models import get_builder

BUILTINS = ["mini_xception", "resnet_s", "seed_cnn", "vgg_m", "vgg_s"]


def test_builtins_listed_and_filtered():
    assert set(BUILTINS) <= set(list_models())
    assert list_models("vgg*") == ["vgg_m", "vgg_s"]
    assert list_models("nothing*") == []


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("shape", [(48, 48, 1), (64, 64, 1)])
def test_every_family_trains_at_48_and_64_px(name, shape):
    # 64 px also guards against the oneDNN crash of strided 1x1 convolutions (TF 2.21).
    model = build_model(name, input_shape=shape, num_classes=3)
    assert model.output_shape == (None, 3)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 256, (4, *shape)).astype("float32")
    loss = model.train_on_batch(x, np.array([0, 1, 2, 0]))
    assert np.isfinite(loss)
    probs = model.predict_on_batch(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_parameter_budgets():
    assert build_model("mini_xception").count_params() < 100_000
    assert 1_000_000 < build_model("vgg_s").count_params() < 1_300_000
    assert build_model("vgg_m").count_params() < 2_500_000  # fits a 10 MB file


def test_model_contains_preprocessing_and_colour_conversion():
    model = build_model("vgg_s", input_shape=(48, 48, 3), num_classes=2)
    names = [layer.name for layer in model.layers]
    assert "rescale" in names
    import keras

    from emorec.models._blocks import preprocessing

    inputs, x = preprocessing((8, 8, 3), channels=1, image_size=(4, 4))
    probe = keras.Model(inputs, x)
    rgb = np.zeros((1, 8, 8, 3), "float32")
    rgb[..., 1] = 255.0  # pure green: luma 0.587 * 255 = 149.7 -> (149.7 / 127.5) - 1
    out = probe.predict_on_batch(rgb)
    assert out.shape == (1, 4, 4, 1)
    np.testing.assert_allclose(out, 0.587 * 255 / 127.5 - 1, rtol=1e-5)


def test_unknown_name_suggests_close_ones():
    with pytest.raises(KeyError, match="unknown model 'vgg_x'; did you mean vgg_"):
        build_model("vgg_x")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"input_shape": (48, 48, 2)}, "channels 1"),
        ({"input_shape": (8, 8, 1)}, "16 pixels"),
        ({"num_classes": 1}, "at least 2"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model("mini_xception", **kwargs)


def test_register_decorator_forms(fresh_registry):
    import keras

    def body(*, input_shape, num_classes):
        inputs = keras.Input(input_shape)
        x = keras.layers.GlobalAveragePooling2D()(inputs)
        return keras.Model(inputs, keras.layers.Dense(num_classes)(x))

    @register_model
    def plain_net(*, input_shape, num_classes):
        return body(input_shape=input_shape, num_classes=num_classes)

    @register_model("named_net")
    def other(*, input_shape, num_classes):
        return body(input_shape=input_shape, num_classes=num_classes)

    assert {"plain_net", "named_net"} <= set(list_models())
    assert build_model("named_net", num_classes=4).output_shape == (None, 4)
    with pytest.raises(ValueError, match="registered already.*override=True"):
        register_model("named_net")(plain_net)
    register_model("named_net", override=True)(plain_net)
    assert get_builder("named_net") is plain_net


def test_entry_point_plugin_and_broken_plugin(tmp_path, monkeypatch, fresh_registry):
    install_plugin(tmp_path / "site", broken=True)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = list_models()
    assert "plugin_net" in names
    messages = [str(w.message) for w in caught]
    assert any("broken_net" in m and "emorec_test_plugin_missing" in m for m in messages)
    assert build_model("plugin_net", num_classes=3).output_shape == (None, 3)
    sys.modules.pop("emorec_test_plugin", None)


@pytest.mark.parametrize("family", ["vgg_s", "mini_xception"])
def test_crop_sees_the_centre_and_takes_the_whole_image(family):
    model = build_model(family, crop=40)
    assert model.input_shape[1:] == (48, 48, 1)
    assert model.get_layer("crop").output.shape[1:] == (40, 40, 1)
    assert model.count_params() == build_model(family).count_params()
    x = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 1)).astype("float32")
    border = x.copy()
    border[:, :4] = 0  # pixels outside the central 40x40 do not matter
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(border, verbose=0))
    with pytest.raises(ValueError, match="crop=60"):
        build_model(family, crop=60)
