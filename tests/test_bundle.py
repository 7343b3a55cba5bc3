"""One loader for every door (emorec.models.bundle): load, evaluate, init_from, teachers,
export and fine-tuning see the same model, card, labels, TTA and temperature."""

from __future__ import annotations

import numpy as np
import pytest

from emorec import EmotionClassifier, EmotionDataset, build_model, evaluate, read_card
from emorec.models.bundle import ModelBundle, load_bundle


def test_a_bundled_name_loads_its_tflite_twin_with_the_cards_settings():
    bundle = load_bundle("ferplus_vgg_m")
    card = read_card("ferplus_vgg_m")
    assert bundle.runtime == "litert" and bundle.path.suffix == ".tflite"
    assert bundle.labels == tuple(card.labels) and bundle.tta == (card.tta or "flip")
    assert bundle.temperature == pytest.approx(card.temperature) != 1.0
    assert bundle.input_spec.shape == (48, 48, 1)
    assert bundle.provenance["file"] == "ferplus_vgg_m (bundled)"


def test_the_keras_twin_keeps_the_settings_and_gives_the_same_probabilities():
    lite = load_bundle("fer2013_vgg_m")
    keras_bundle = lite.keras_twin("exported")
    assert keras_bundle.runtime == "keras" and keras_bundle.path.name == "fer2013_vgg_m.keras"
    assert (keras_bundle.labels, keras_bundle.tta) == (lite.labels, lite.tta)
    assert keras_bundle.keras_twin("exported") is keras_bundle
    x = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    a = lite.model.predict_on_batch(x)
    b = np.asarray(keras_bundle.model.predict_on_batch(x))
    assert np.abs(a - b).max() <= 1e-4
    assert load_bundle("fer2013_vgg_m", runtime="keras").path == keras_bundle.path


def test_an_exported_file_without_its_keras_file_cannot_be_trained_or_exported(tmp_path):
    model = build_model("mini_xception", num_classes=3)
    clf = EmotionClassifier(model, ["yes", "no", "maybe"], tta="none")
    path = clf.export(tmp_path / "small.tflite", "tflite")
    bundle = load_bundle(path)
    assert bundle.labels == ("yes", "no", "maybe") and bundle.runtime == "litert"
    with pytest.raises(ValueError, match="small.tflite is a TFLite model, which cannot be fine"):
        bundle.keras_twin("fine-tuned")
    with pytest.raises(ValueError, match="init_from='small.tflite' is a TFLite model"):
        load_bundle(path, trains="init_from")
    onnx = tmp_path / "small.onnx"  # refused by name alone, before anything is read
    onnx.write_bytes(b"")
    with pytest.raises(ValueError, match="teacher='small.onnx' is an ONNX model"):
        load_bundle(onnx, trains="teacher")
    with pytest.raises(ValueError, match="runtime='keras' runs Keras models"):
        load_bundle(path, runtime="keras")
    with pytest.raises(ValueError, match="runtime='fast'"):
        load_bundle(path, runtime="fast")


def test_a_legacy_h5_file_loads_the_same_way_through_every_door(tmp_path):
    import keras

    model = keras.Sequential(
        [keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, "softmax")]
    )
    path = tmp_path / "emotion_model.h5"
    model.save(path)
    doors = [load_bundle(path), load_bundle(path, trains="init_from")]
    for bundle in doors:
        assert bundle.runtime == "keras" and bundle.card is None
        assert bundle.labels[0] == "angry" and bundle.temperature == 1.0
    ds = EmotionDataset.from_arrays(np.zeros((7, 48, 48), np.uint8), list(range(7)))
    assert evaluate(str(path), ds, "train").labels == doors[0].labels
    assert EmotionClassifier.load(path).labels == doors[0].labels


def test_a_bundle_in_memory_names_its_model():
    model = build_model("mini_xception", num_classes=2)
    bundle = ModelBundle(model, None, None, ("a", "b"), None, "none", 1.0)  # type: ignore[arg-type]
    assert bundle.runtime == "keras" and bundle.provenance == {"model": model.name}


def test_a_tflite_file_is_read_once_for_its_model_and_its_card(monkeypatch):
    """The card of a .tflite comes from the bytes its interpreter already holds."""
    from pathlib import Path

    from emorec.models import card as card_module

    reads: list[str] = []
    real_read_bytes = Path.read_bytes
    real_open = open

    def counting_read_bytes(self):
        if self.suffix == ".tflite":
            reads.append(self.name)
        return real_read_bytes(self)

    def counting_open(file, mode="r", *args, **kwargs):
        if str(file).endswith(".tflite") and "b" in mode:
            reads.append(Path(file).name)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", counting_read_bytes)
    monkeypatch.setattr(card_module, "open", counting_open, raising=False)
    bundle = load_bundle("fer2013_mini_xception_int8")
    assert reads == ["fer2013_mini_xception_int8.tflite"]
    assert bundle.card is not None and bundle.card.labels == bundle.labels


def test_a_card_is_read_from_the_bytes_given_instead_of_the_file(tmp_path):
    from emorec import ModelCard
    from emorec.models import pretrained_path

    flat = pretrained_path("fer2013_mini_xception_int8").read_bytes()
    other = tmp_path / "renamed.tflite"
    other.write_bytes(b"not a model: the bytes given are read, not this file")
    card = ModelCard.read_optional(other, content=flat)
    assert card is not None and card.architecture_name == "mini_xception"
