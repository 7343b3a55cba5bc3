from __future__ import annotations

import json

import numpy as np
import pytest

from emorec import EmotionDataset, build_model, evaluate
from emorec.evaluation import EvaluationReport


def test_report_figures_from_a_known_matrix(tmp_path):
    cm = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])  # class c is absent
    r = EvaluationReport(("a", "b", "c"), cm, split="test", model="m")
    assert r.n == 14 and r.accuracy == pytest.approx(11 / 14)
    np.testing.assert_allclose(r.recall[:2], [0.8, 0.75])
    np.testing.assert_allclose(r.precision[:2], [8 / 9, 3 / 5])
    f1_a = 2 * (8 / 9) * 0.8 / (8 / 9 + 0.8)
    f1_b = 2 * 0.6 * 0.75 / 1.35
    assert r.macro_f1 == pytest.approx((f1_a + f1_b) / 2)  # over present classes only
    data = json.loads(r.to_json())
    assert data["per_class"]["c"]["recall"] is None and data["confusion_matrix"] == cm.tolist()
    assert "accuracy 78.57%" in str(r)
    png = r.plot_confusion_matrix(tmp_path / "cm.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


class Constant:
    """A stand-in model: always predicts ``cls`` (with the input shape of a real one)."""

    def __init__(self, cls, k=7, shape=(48, 48, 1)):
        self.cls, self.k, self.input_shape, self.output_shape = cls, k, (None, *shape), (None, k)
        self.calls = 0

    def predict_on_batch(self, x):
        self.calls += 1
        p = np.zeros((len(x), self.k), np.float32)
        p[:, self.cls] = 1
        return p


def test_evaluate_maps_dataset_labels_to_model_outputs():
    # folder-style labels (a FER subset, in FER order) against a 7-output FER model
    ds = EmotionDataset.from_arrays(np.zeros((4, 48, 48), np.uint8), [0, 0, 1, 1], ["happy", "sad"])
    r = evaluate(Constant(3), ds, "train")  # 3 == happy in FER order
    assert r.labels[3] == "happy" and r.accuracy == 0.5
    assert r.confusion[4, 3] == 2  # true sad predicted happy


def test_evaluate_refuses_unknown_class():
    ds = EmotionDataset.from_arrays(np.zeros((2, 48, 48), np.uint8), [0, 1], ["happy", "pain"])
    with pytest.raises(ValueError, match="'pain' is not one of the model's labels"):
        evaluate(Constant(0, k=7), ds, "train")


def test_evaluate_with_tta_equals_predict_proba_argmax():
    from emorec.inference import predict_proba

    model = build_model("mini_xception", num_classes=3)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (12, 48, 48), dtype=np.uint8)
    ds = EmotionDataset.from_arrays(x, rng.integers(0, 3, 12), ["a", "b", "c"])
    report = evaluate(model, ds, "train", tta="shift")
    pred = predict_proba(model, x, tta="shift").argmax(axis=1)
    expected = np.bincount(ds["train"].labels * 3 + pred, minlength=9).reshape(3, 3)
    assert report.tta == "shift" and (report.confusion == expected).all()
    with pytest.raises(ValueError, match="tta=True"):
        evaluate(model, ds, "train", tta=True)  # type: ignore[arg-type]


def test_evaluate_applies_what_the_classifier_applies_by_default(tmp_path):
    from emorec import EmotionClassifier
    from emorec.models.card import ModelCard

    model = build_model("mini_xception", num_classes=3)
    rng = np.random.default_rng(2)
    x = rng.integers(0, 255, (6, 48, 48), dtype=np.uint8)
    ds = EmotionDataset.from_arrays(x, rng.integers(0, 3, 6), ["a", "b", "c"])
    assert evaluate(model, ds, "train").tta == "flip"  # no card: DEFAULT_TTA
    path = tmp_path / "m.keras"
    model.save(path)
    ModelCard.from_model(model, ["a", "b", "c"], tta="none").write(path)
    assert evaluate(path, ds, "train").tta == EmotionClassifier.load(path).tta == "none"
    assert evaluate(path, ds, "train", tta="shift").tta == "shift"


def test_evaluate_reports_each_label_set_of_the_data():
    from emorec import DatasetSplit

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 48, 48, 1), np.uint8)
    model = build_model("mini_xception")
    predicted = evaluate(model, EmotionDataset.from_arrays(images, [0] * 6), "train", tta="none")
    pred = predicted.confusion.sum(axis=0).argmax()  # an untrained model says one class
    other = (pred + 1) % 7
    fer2013 = np.array([pred, pred, pred, other, other, other])
    ferplus = np.array([pred, pred, -1, -1, pred, other])  # -1: no majority
    part = DatasetSplit(
        "test",
        images,
        fer2013,
        tuple(predicted.labels),
        (),
        None,
        {"fer2013": fer2013, "ferplus": ferplus},
    )
    report = evaluate(model, EmotionDataset({"test": part}, predicted.labels), "test", tta="none")
    if (report.confusion.sum(axis=0) > 0).sum() != 1:
        pytest.skip("the untrained model does not answer one class on these images")
    assert report.accuracy == pytest.approx(0.5)
    assert report.label_sets["fer2013"].accuracy == pytest.approx(0.5)
    assert report.label_sets["ferplus"].n == 4
    assert report.label_sets["ferplus"].accuracy == pytest.approx(0.75)
    data = json.loads(report.to_json())
    assert data["label_sets"]["ferplus"]["n"] == 4
    assert "ferplus   accuracy 75.00%" in str(report)
