"""Exports (issue 24): four formats, each back through ``EmotionClassifier.load`` with no other
setting; a suffix that disagrees with the format is an error; float exports are checked
against the Keras model before they are kept; ``emorec export`` on the command line."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from emorec import EmotionClassifier, build_model, read_card
from emorec.cli import main
from emorec.export import check_target, format_of

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def clf():
    model = build_model("mini_xception", num_classes=3)
    # trained-looking batch normalisation statistics: with the initial ones (mean 0, variance
    # 1) an export that normalises by batch statistics would still look right
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if hasattr(layer, "moving_mean"):
            size = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(0, 2, size).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 4, size).astype("float32"))
    return EmotionClassifier(model, ["yes", "no", "maybe"], tta="none", temperature=1.5)


@pytest.fixture(scope="module")
def crops():
    return np.random.default_rng(3).integers(0, 256, (12, 48, 48), np.uint8)


@pytest.mark.parametrize("name", ["m.keras", "m.tflite", "m.onnx", "served"])
def test_each_format_round_trips_through_load(clf, crops, tmp_path, name):
    if name.endswith(".onnx"):
        pytest.importorskip("onnxruntime")
        pytest.importorskip("tf2onnx")
    out = clf.export(tmp_path / name)  # the format from the suffix
    expected = clf.predict_proba(crops)
    if name == "served":
        import tensorflow as tf

        assert out.is_dir() and json.loads((out / "labels.json").read_text()) == list(clf.labels)
        served = tf.saved_model.load(str(out))
        got = served.serve(tf.constant(crops[..., None].astype(np.float32))).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4)
        return
    assert out.is_file() and out.name == name
    back = EmotionClassifier.load(out)
    assert back.labels == clf.labels and back.tta == "none"
    np.testing.assert_allclose(back.predict_proba(crops), expected, atol=1e-4)
    if name != "m.keras":
        check = read_card(out).extra["exported"]["check"]
        assert check["crops"] == 256 and check["max_abs_difference"] <= 1e-4
        assert check["argmax_agreement"] == 1.0


def test_onnx_carries_its_card_inside(clf, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = clf.export(tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no sidecar, no temp
    card = read_card(out)
    assert card.labels == ("yes", "no", "maybe")
    assert card.extra["exported"]["temperature_in_model"] == 1.5


@pytest.mark.parametrize(
    ("name", "fmt", "message"),
    [
        ("m.onnx", "saved_model", "a SavedModel is a folder"),
        ("m.tflite", "onnx", "must end in .onnx"),
        ("m.keras", "tflite", "must end in .tflite"),
        ("m.onnx", "keras", "must end in .keras"),
        ("m", "pickle", "format='pickle'"),
    ],
)
def test_a_suffix_that_disagrees_with_the_format_is_refused(clf, tmp_path, name, fmt, message):
    with pytest.raises(ValueError, match=message):
        clf.export(tmp_path / name, fmt)
    assert list(tmp_path.iterdir()) == []


def test_format_from_the_suffix():
    assert [format_of(n) for n in ("a.keras", "a.TFLite", "a.onnx", "dir", "a.pb")] == [
        "keras",
        "tflite",
        "onnx",
        "saved_model",
        "saved_model",
    ]
    assert check_target("a.tflite", "tflite").name == "a.tflite"


def test_a_float_export_that_disagrees_is_not_kept(clf, tmp_path, monkeypatch):
    from emorec import export as export_module

    other = build_model("mini_xception", num_classes=3)  # other random weights
    real = export_module.to_tflite
    monkeypatch.setattr(export_module, "to_tflite", lambda model, *a: real(other, *a))
    with pytest.raises(ValueError, match="differs from the Keras model"):
        clf.export(tmp_path / "wrong.tflite")
    assert list(tmp_path.iterdir()) == []


def test_exporting_an_exported_file_is_refused(clf, tmp_path):
    lite = EmotionClassifier.load(clf.export(tmp_path / "m.tflite"))
    with pytest.raises(ValueError, match="m.tflite is a TFLite model, which cannot be exported"):
        lite.export(tmp_path / "again.onnx")


@pytest.mark.smoke
def test_a_bundled_model_exports_from_its_keras_file(tmp_path, crops):
    clf = EmotionClassifier.load("fer2013_mini_xception")
    assert clf.model.path.suffix == ".tflite"  # predictions run its TFLite twin
    out = clf.export(tmp_path / "mini.tflite", quantize="float16")
    back = EmotionClassifier.load(out)
    assert back.labels == clf.labels
    assert (back.predict_proba(crops).argmax(1) == clf.predict_proba(crops).argmax(1)).mean() > 0.9


@pytest.mark.smoke
def test_command_line_export(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "mini.onnx"
    assert main(["export", "fer2013_mini_xception", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["format"] == "onnx" and record["bytes"] == out.stat().st_size
    assert record["check"]["max_abs_difference"] <= 1e-4
    assert main(["predict", str(_face_zip_member(tmp_path)), "--model", str(out)]) == 0
    assert main(["export", "fer2013_mini_xception", str(out)]) == 2  # exists
    assert "exists" in capsys.readouterr().err
    assert (
        main(["export", "fer2013_mini_xception", str(tmp_path / "x.onnx"), "--format", "tflite"])
        == 2
    )
    assert "must end in .tflite" in capsys.readouterr().err


def test_command_line_int8_export_needs_representative_data(tmp_path, capsys):
    out = tmp_path / "q.tflite"
    assert main(["export", "fer2013_mini_xception", str(out), "--quantize", "int8"]) == 2
    assert "--representative" in capsys.readouterr().err
    toy = _toy_zip()
    code = main(
        [
            "export",
            "fer2013_mini_xception",
            str(out),
            "--quantize",
            "int8",
            "--representative",
            str(toy),
            "--representative-count",
            "16",
        ]
    )
    assert code == 0, capsys.readouterr().err
    card = read_card(out)
    assert card.extra["exported"]["quantize"] == "int8"
    assert card.extra["exported"]["representative_crops"] == 16


def _toy_zip():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "examples" / "data" / "toy_faces.zip"


def _face_zip_member(tmp_path):
    with zipfile.ZipFile(_toy_zip()) as zf:
        name = next(n for n in zf.namelist() if n.lower().endswith((".png", ".jpg")))
        target = tmp_path / ("face" + name[name.rfind(".") :])
        target.write_bytes(zf.read(name))
    return target


def test_command_line_keeps_tensorflows_start_up_lines_off_the_terminal(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = tmp_path / "mini.tflite"
    proc = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "export", "fer2013_mini_xception", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()
    native = ("absl", "cuda", "oneDNN", "cpu_feature_guard", "I0000", "E0000", "W0000")
    assert not [line for line in proc.stderr.splitlines() if any(n in line for n in native)]
    assert "to be exported" in proc.stderr  # emorec's own lines still show
