from __future__ import annotations

import subprocess
import sys
import zipfile

import keras
import pytest

from emorec import build_model, list_pretrained, read_card
from emorec.models import load_model, write_card


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.keras"
    build_model("mini_xception", num_classes=2).save(path)
    return path


def test_card_round_trip_keeps_keras_loadable(model_file):
    write_card(model_file, {"labels": ["yes", "no"], "metrics": {"val": {"accuracy": 0.5}}})
    write_card(model_file, {"labels": ["yes", "no"], "metrics": {"val": {"accuracy": 0.75}}})
    card = read_card(model_file)
    assert card["labels"] == ["yes", "no"] and card["metrics"]["val"]["accuracy"] == 0.75
    assert card["format"] == "emorec-card/1"
    with zipfile.ZipFile(model_file) as zf:
        assert zf.namelist().count("emorec/card.json") == 1
    assert keras.saving.load_model(model_file).output_shape == (None, 2)


def test_read_card_does_not_import_tensorflow(model_file):
    write_card(model_file, {"labels": ["yes", "no"]})
    code = (
        f"import sys, emorec; card = emorec.read_card({str(model_file)!r}); "
        "print(card['labels'], 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['yes', 'no'] False"


def test_card_errors(model_file, tmp_path):
    with pytest.raises(ValueError, match="without an emorec model card"):
        read_card(model_file)
    (tmp_path / "x.keras").write_text("nope")
    with pytest.raises(ValueError, match="not a .keras model file"):
        read_card(tmp_path / "x.keras")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        read_card(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="needs 'labels'"):
        write_card(model_file, {})


def test_lambda_layer_is_refused_with_advice(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Lambda layer.*safe_mode=False"):
        load_model(path)


def test_list_pretrained_is_a_list_of_names():
    names = list_pretrained()
    assert isinstance(names, list)
    for name in names:
        assert read_card(name)["labels"]
