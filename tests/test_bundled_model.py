"""The bundled pretrained model: its file, its card, and (slow) its PublicTest accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emorec import DEFAULT_TTA, LABELS, list_pretrained, read_card
from emorec.models import load_model, pretrained_path
from emorec.models.card import DEFAULT_PRETRAINED

FER_ZIP = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fer2013" / "fer2013.zip"


def test_bundled_file_and_card():
    assert DEFAULT_PRETRAINED in list_pretrained()
    path = pretrained_path()
    assert path.stat().st_size <= 10_000_000
    card = read_card(DEFAULT_PRETRAINED)
    assert card.labels == LABELS
    assert card.input_shape == (48, 48, 1) and card.color_mode == "grayscale"
    # the default follows FER+'s annotators: trained on the raw pixels and the vote distributions
    command = card.training["command"]
    assert "emorec train ../shared/datasets/fer2013/fer2013.tar.gz --ferplus" in command
    assert "--ferplus-mode probability" in command and card.training["config"]["targets"]
    # each later stage started from the one before (--init-from); the first ran on a GPU
    stages = [card.training]
    while "started_from" in stages[-1]:
        stages.append(stages[-1]["started_from"]["training"])
    assert len(stages) >= 2 and all("emorec train" in stage["command"] for stage in stages)
    assert stages[-1]["command"].startswith("KERAS_BACKEND=jax ")
    for stage in stages[:-1]:  # provenance is a file name and its digest, never a path
        donor = stage["started_from"]
        assert "/" not in donor["file"] and len(donor["sha256"]) == 64
    text = json.dumps(card.to_dict())
    assert "/root" not in text and "/home" not in text and ".cache" not in text
    assert "FER2013" in card.get("data_notice") and card.get("license").startswith("MIT")
    for split in ("val", "public_test", "public_test_ferplus"):
        assert 0.5 < card.metrics[split]["accuracy"] < 1
    assert card.metrics["public_test_ferplus"]["labels"] == "ferplus"
    assert card.metrics["public_test"]["tta"] == DEFAULT_TTA
    # calibrated on val (benchmarks/calibration.py), measured on photos (cross_domain.py)
    assert card.calibration["split"] == "val" and 0.5 < card.temperature < 2
    assert card.calibration["ece_after"] <= card.calibration["ece_before"]
    assert 0.5 < card.metrics["cross_domain"]["accuracy"] < card.metrics["public_test"]["accuracy"]


@pytest.mark.smoke
def test_bundled_model_predicts_probabilities():
    model = load_model(DEFAULT_PRETRAINED)
    x = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    probs = model.predict_on_batch(x)
    assert probs.shape == (3, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(
    not FER_ZIP.exists(), reason="../shared/datasets/fer2013 is not beside the checkout"
)
@pytest.mark.parametrize("name", list_pretrained())
def test_each_bundled_model_public_test_accuracy_matches_its_card(name):
    from emorec import EmotionDataset, evaluate

    card = read_card(name)
    recorded = card.metrics["public_test"]
    if recorded.get("pixels") != "raw":
        pytest.skip(
            f"{name}'s card was measured on the earlier, equalised copy of FER2013; rerun "
            "benchmarks/accuracy.py --write-card on it"
        )
    ds = EmotionDataset.from_csv(
        FER_ZIP.with_name("fer2013.tar.gz"), ferplus=True, ferplus_mode="fer2013"
    )
    report = evaluate(name, ds, "public_test", tta=recorded["tta"])
    assert report.n == recorded["n"] == 3569
    assert report.accuracy == pytest.approx(recorded["accuracy"], abs=0.002)
    plus = card.metrics.get("public_test_ferplus")
    if plus is not None:
        assert report.label_sets["ferplus"].accuracy == pytest.approx(plus["accuracy"], abs=0.002)


TWINS = [
    n
    for n in list_pretrained()
    if (pretrained_path(n).suffix == ".tflite")
    and pretrained_path(n).with_suffix(".keras").is_file()
]


def test_default_model_has_a_tflite_twin():
    assert DEFAULT_PRETRAINED in TWINS
    assert pretrained_path().suffix == ".tflite"
    assert pretrained_path(keras=True).suffix == ".keras"


@pytest.mark.parametrize("name", TWINS)
def test_tflite_twin_is_its_keras_model(name):
    """A bundled name in two formats is one model: the twin's card is the Keras file's, made
    from this very Keras file (its SHA-256), and gives its probabilities within 1e-4."""
    from emorec.models import file_provenance
    from emorec.models.card import ModelCard

    lite, keras_file = pretrained_path(name), pretrained_path(name, keras=True)
    twin_card = ModelCard.read(lite).to_dict()
    serving = twin_card.pop("serving")
    assert serving["source"] == keras_file.name
    assert serving["source_sha256"] == file_provenance(keras_file)["sha256"], (
        f"{keras_file.name} changed after its twin was made: "
        f"python benchmarks/bundle_tflite.py {name} --overwrite"
    )
    keras_card = ModelCard.read(keras_file).to_dict()
    for card in (twin_card, keras_card):
        card.pop("emorec_version", None)
    assert twin_card == keras_card
    crops = np.random.default_rng(5).integers(0, 256, (16, 48, 48, 1)).astype(np.float32)
    a = load_model(lite).predict_on_batch(crops)
    b = np.asarray(load_model(keras_file).predict_on_batch(crops))
    assert np.abs(a - b).max() <= 1e-4
