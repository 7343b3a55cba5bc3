from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import keras
import pytest

from emorec import ModelCard, build_model, list_pretrained, read_card
from emorec.models import file_provenance, load_model, resolve_model


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.keras"
    build_model("mini_xception", num_classes=2).save(path)
    return path


def _put(path, text):
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("emorec/card.json", text)


def test_card_round_trip_keeps_keras_loadable(model_file):
    model = build_model("mini_xception", num_classes=2)  # knows its architecture
    ModelCard.from_model(model, ["yes", "no"], metrics={"val": {"accuracy": 0.5}}).write(model_file)
    card = ModelCard.from_model(model, ["yes", "no"], license="MIT", checkpoint="best")
    card.metrics = {"val": {"accuracy": 0.75}}
    card.write(model_file)
    again = read_card(model_file)
    assert again.labels == ("yes", "no") and again.metrics["val"]["accuracy"] == 0.75
    assert again.input_shape == (48, 48, 1) and again.color_mode == "grayscale"
    assert again.architecture_name == "mini_xception" and again.parameters == model.count_params()
    assert again.get("license") == "MIT" and again.extra["checkpoint"] == "best"
    with zipfile.ZipFile(model_file) as zf:
        assert zf.namelist().count("emorec/card.json") == 1
        raw = json.loads(zf.read("emorec/card.json"))
    assert raw["format"] == "emorec-card/1" and raw["labels"] == ["yes", "no"]
    assert keras.saving.load_model(model_file).output_shape == (None, 2)


def test_cards_of_todays_format_read_as_before(model_file):
    # a card as emorec wrote it before ModelCard existed (a plain JSON object)
    legacy = {
        "format": "emorec-card/1",
        "emorec_version": "0.1.0.dev0",
        "labels": ["a", "b"],
        "input_shape": [48, 48, 1],
        "color_mode": "grayscale",
        "architecture": {"name": "mini_xception", "kwargs": {}},
        "training": {"command": "emorec train x", "started_from": {"file": "/root/x.keras"}},
        "metrics": {"public_test": {"accuracy": 0.6}},
        "data_notice": "FER2013",
    }
    _put(model_file, json.dumps(legacy))
    card = read_card(model_file)
    assert card.labels == ("a", "b") and card.emorec_version == "0.1.0.dev0"
    assert card.training["command"] == "emorec train x" and card.get("data_notice") == "FER2013"
    assert card.to_dict()["metrics"] == legacy["metrics"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "not an object"),
        ("{not json", "not valid JSON"),
        ('{"labels": "ab"}', "labels are 'ab'"),
        ('{"labels": []}', "labels are"),
        ('{"labels": ["a"], "format": "emorec-card/9"}', "newer than this emorec"),
        ('{"labels": ["a"], "format": "other/1"}', "unknown model card format"),
        ('{"labels": ["a"], "metrics": [1]}', "'metrics' is not an object"),
        (json.dumps({"labels": ["happy"] * 7}), "labels .* repeat 'happy'"),
        ('{"labels": ["a", "b", "a", "c"]}', "repeat 'a'; expected one distinct name"),
    ],
)
def test_malformed_cards_are_clear_errors(model_file, text, message):
    _put(model_file, text)
    with pytest.raises(ValueError, match=message) as info:
        read_card(model_file)
    assert str(model_file) in str(info.value)


def test_a_card_with_repeated_labels_cannot_be_made():
    with pytest.raises(ValueError, match=r"repeat 'no', 'yes'"):
        ModelCard(labels=["yes", "no", "yes", "no"])


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", '{"labels": 7}'])
def test_a_malformed_card_stops_load_and_evaluate_not_fer_labels_assumed(model_file, text):
    import numpy as np

    from emorec import EmotionClassifier, EmotionDataset, evaluate

    _put(model_file, text)
    with pytest.raises(ValueError, match="m.keras"):
        EmotionClassifier.load(model_file)
    data = EmotionDataset.from_arrays(np.zeros((2, 48, 48), np.uint8), [0, 1], ["yes", "no"])
    with pytest.raises(ValueError, match="m.keras"):
        evaluate(model_file, data, "train")


def test_read_card_does_not_import_tensorflow(model_file):
    ModelCard(labels=("yes", "no")).write(model_file)
    code = (
        f"import sys, emorec; card = emorec.read_card({str(model_file)!r}); "
        "print(list(card.labels), 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['yes', 'no'] False"


def test_card_errors(model_file, tmp_path):
    with pytest.raises(ValueError, match="without an emorec model card"):
        read_card(model_file)
    assert ModelCard.read_optional(model_file) is None
    (tmp_path / "x.keras").write_text("nope")
    with pytest.raises(ValueError, match="not a readable .keras model file"):
        read_card(tmp_path / "x.keras")
    with pytest.raises(ValueError, match="not a .keras model file"):
        ModelCard(labels=("a",)).write(tmp_path / "x.keras")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        read_card(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="needs labels"):
        ModelCard(labels=())


def test_resolver_and_provenance(model_file, tmp_path):
    assert resolve_model() == resolve_model("ferplus_vgg_m") != resolve_model("fer2013_vgg_m")
    assert resolve_model(model_file) == model_file
    with pytest.raises(FileNotFoundError, match="bundled: .*fer2013_vgg_m"):
        resolve_model("fer2013_vgg_x")
    with pytest.raises(IsADirectoryError):
        resolve_model(tmp_path)
    record = file_provenance(model_file)
    assert record["file"] == "m.keras" and len(record["sha256"]) == 64
    assert file_provenance("fer2013_vgg_m")["file"] == "fer2013_vgg_m (bundled)"


def test_lambda_layer_is_refused_with_advice(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Lambda layer.*safe_mode=False"):
        load_model(path)


def test_a_tfsm_layer_is_refused_by_its_own_name_not_as_a_lambda(tmp_path):
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    inner.export(tmp_path / "saved", verbose=False)
    inputs = keras.Input((4,))
    outputs = keras.layers.TFSMLayer(str(tmp_path / "saved"), call_endpoint="serve")(inputs)
    path = tmp_path / "tfsm.keras"
    keras.Model(inputs, outputs).save(path)
    refusal = "tfsm.keras: .*a TFSMLayer layer.*safe_mode=False"
    with pytest.raises(ValueError, match=refusal) as info:
        load_model(path)
    assert "Lambda" not in str(info.value)


def test_list_pretrained_is_a_list_of_names():
    names = list_pretrained()
    assert isinstance(names, list)
    for name in names:
        assert read_card(name).labels
