"""TFLite models: export with a card beside the file, LiteModel, the bundled fast model."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from emorec import (
    LABELS,
    EmotionClassifier,
    EmotionDataset,
    Trainer,
    build_model,
    list_pretrained,
    read_card,
)
from emorec.cli import main
from emorec.export import serving_model, to_tflite
from emorec.lite import LiteModel, _dequantize, _quantize, card_path
from emorec.models import ModelCard, load_model
from emorec.tflite_card import read_tflite_card

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT = ROOT / "examples" / "photos" / "astronaut.jpg"
FAST = "fer2013_vgg_m_int8"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 3-class classifier and its float32 TFLite export."""
    model = build_model("mini_xception", num_classes=3)
    clf = EmotionClassifier(model, ["yes", "no", "maybe"], tta="none", temperature=1.5)
    path = clf.export(tmp_path_factory.mktemp("lite") / "small.tflite", "tflite")
    return clf, path


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(0).integers(0, 256, (20, 48, 48), np.uint8)


def test_export_writes_the_card_inside_the_file(small, tmp_path):
    _, path = small
    assert not card_path(path).exists() and read_tflite_card(path.read_bytes()) is not None
    alone = tmp_path / "copied" / "model.tflite"  # the file copied alone keeps its card
    alone.parent.mkdir()
    alone.write_bytes(path.read_bytes())
    for card in (read_card(path), read_card(alone)):
        assert card.labels == ("yes", "no", "maybe") and card.input_shape == (48, 48, 1)
        assert card.tta == "none" and card.architecture_name == "mini_xception"
    # the temperature is divided into the file's logits, so inference must not apply it again
    assert card.temperature == 1.0
    assert card.extra["exported"]["temperature_in_model"] == 1.5
    assert card.extra["exported"]["quantize"] == "none"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask  # not mkstemp's 0o600


def test_writing_a_card_again_replaces_it_in_place(small, tmp_path):
    _, path = small
    copy = tmp_path / "again.tflite"
    copy.write_bytes(path.read_bytes())
    card = read_card(copy)
    card.metrics["mine"] = {"accuracy": 0.5}
    card.write(copy)
    card.write(copy)  # the old card's buffer is reused: the file does not grow
    assert read_card(copy).metrics["mine"] == {"accuracy": 0.5}
    grown = copy.stat().st_size - path.stat().st_size
    assert 0 < grown < 200
    np.testing.assert_array_equal(
        LiteModel(copy).predict_on_batch(np.zeros((1, 48, 48, 1), np.float32)),
        LiteModel(path).predict_on_batch(np.zeros((1, 48, 48, 1), np.float32)),
    )


@pytest.mark.smoke
def test_a_tflite_file_predicts_as_its_keras_model(small, faces):
    clf, path = small
    lite = EmotionClassifier.load(path)
    assert isinstance(lite.model, LiteModel) and lite.labels == clf.labels
    assert lite.tta == "none" and lite.temperature == 1.0
    for tta in ("none", "flip"):
        np.testing.assert_allclose(
            lite.predict_proba(faces, tta=tta), clf.predict_proba(faces, tta=tta), atol=1e-4
        )
    assert lite.predict_proba(faces[:0]).shape == (0, 3)
    [face] = lite.predict(faces[0])
    assert face.label in clf.labels


def test_what_a_tflite_classifier_cannot_do(small, tmp_path):
    _, path = small
    lite = EmotionClassifier.load(path)
    with pytest.raises(ValueError, match="small.tflite is a TFLite model"):
        lite.save(tmp_path / "x.keras")
    with pytest.raises(ValueError, match="is a TFLite model, which cannot be exported"):
        lite.export(tmp_path / "again.tflite", "tflite")
    with pytest.raises(ValueError, match="is a TFLite model, which cannot be trained from"):
        Trainer("mini_xception", _three_classes(), init_from=path, output_dir=tmp_path / "r")
    with pytest.raises(ValueError, match="is a TFLite model, which cannot be trained from"):
        Trainer("mini_xception", _three_classes(), teacher=path, output_dir=tmp_path / "t")
    with pytest.raises(ValueError, match="takes neither compile= nor rescale="):
        load_model(path, compile=True)


def _three_classes():
    images = np.random.default_rng(0).integers(0, 256, (12, 48, 48), np.uint8)
    return EmotionDataset.from_arrays(images, np.arange(12) % 3, ["yes", "no", "maybe"])


def test_export_refuses_to_overwrite_and_checks_the_name(small, tmp_path):
    clf, path = small
    with pytest.raises(FileExistsError, match="small.tflite exists"):
        clf.export(path, "tflite")
    lone_card = tmp_path / "other.card.json"  # a stale card beside it: left, and not read
    lone_card.write_text("{}")
    clf.export(tmp_path / "other.tflite", "tflite")
    assert lone_card.read_text() == "{}"
    assert read_card(tmp_path / "other.tflite").labels == ("yes", "no", "maybe")
    with pytest.raises(ValueError, match="must end in .tflite"):
        clf.export(tmp_path / "model.bin", "tflite")


def test_lite_model_errors_name_the_file(small, tmp_path):
    _, path = small
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(ValueError, match="junk.tflite: not a TensorFlow Lite model"):
        LiteModel(junk)
    model = LiteModel(path)
    with pytest.raises(ValueError, match=r"input of shape \(2, 40, 40, 1\)"):
        model.predict_on_batch(np.zeros((2, 40, 40, 1), np.float32))
    # a tflite file without a card still runs (7 outputs would get FER2013's labels)
    bare = tmp_path / "bare.tflite"
    clf, _ = small
    bare.write_bytes(to_tflite(serving_model(clf.model, 1.0)))
    assert ModelCard.read_optional(bare) is None
    with pytest.raises(ValueError, match="3 outputs but no model card"):
        EmotionClassifier.load(bare)
    assert EmotionClassifier.load(bare, labels=["a", "b", "c"]).labels == ("a", "b", "c")
    broken = tmp_path / "broken.tflite"  # a card beside a file with none inside is read
    broken.write_bytes(bare.read_bytes())
    card_path(broken).write_text("[1, 2]")
    with pytest.raises(ValueError, match="broken.card.json: the model card is list"):
        EmotionClassifier.load(broken)


def test_integer_inputs_and_outputs_are_quantized_with_the_files_parameters():
    detail = {"dtype": np.int8, "quantization": (0.5, -10)}
    x = np.array([[0.0, 1.0, 200.0]], np.float32)
    q = _quantize(x, detail)
    assert q.dtype == np.int8 and q.tolist() == [[-10, -8, 127]]  # clipped at int8's top
    np.testing.assert_allclose(_dequantize(q, detail), [[0.0, 1.0, 68.5]])
    assert _quantize(x, {"dtype": np.float32, "quantization": (0.0, 0)}).dtype == np.float32


def test_a_bad_tta_in_a_card_is_refused():
    with pytest.raises(ValueError, match="tta 'ten'"):
        ModelCard(labels=("a",), tta="ten")


# ---------------------------------------------------------------------- the bundled fast model
def test_the_fast_model_is_bundled_with_its_card():
    assert FAST in list_pretrained()
    card = read_card(FAST)
    assert card.labels == LABELS and card.tta == "none"
    assert card.metrics["public_test"]["tta"] == "none"
    assert card.metrics["public_test"]["accuracy"] >= 0.64
    assert card.extra["exported"]["quantize"] == "int8"
    assert card.extra["exported"]["from"]["file"] == "fer2013_vgg_m (bundled)"
    assert "license" in card.extra and "data_notice" in card.extra


def test_the_int8_model_agrees_with_its_source():
    fast, full = EmotionClassifier.load(FAST), EmotionClassifier.load("fer2013_vgg_m")
    assert fast.tta == "none" and full.tta == "flip"
    photo_faces = full.predict(str(ASTRONAUT))
    fast_faces = fast.predict(str(ASTRONAUT))
    assert [f.box for f in fast_faces] == [f.box for f in photo_faces]
    crops = np.random.default_rng(1).integers(0, 256, (8, 48, 48), np.uint8)
    a = fast.predict_proba(crops)
    b = full.predict_proba(crops, tta="none")
    assert np.abs(a - b).max() < 0.1


def test_cli_predict_with_the_fast_model(capsys):
    assert main(["predict", str(ASTRONAUT), "--model", FAST, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["faces"][0]["label"] in LABELS


def test_export_and_the_interpreter_print_nothing(small, tmp_path, capfd):
    import subprocess
    import sys

    clf, _ = small
    capfd.readouterr()
    rng = np.random.default_rng(0)
    clf.export(
        tmp_path / "q.tflite",
        "tflite",
        quantize="int8",
        representative=rng.integers(0, 255, (8, 48, 48, 1), dtype=np.uint8),
    )
    out, err = capfd.readouterr()
    assert out == "" and "fully_quantize" not in err
    # the XNNPACK "INFO" line is printed once a process: look in a fresh one
    code = (
        "import numpy as np; from emorec import EmotionClassifier; "
        f"c = EmotionClassifier.load({str(tmp_path / 'q.tflite')!r}); "
        "print(c.predict_proba(np.zeros((1, 48, 48), np.uint8)).shape)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "(1, 3)" and "XNNPACK" not in proc.stderr


def test_import_emorec_changes_nothing_in_the_process_and_quieting_is_opt_in():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    untouched = (
        "import os, sys; hooks = list(sys.meta_path); import emorec; "
        "assert sys.meta_path == hooks, sys.meta_path; "
        "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ; print('ok')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", untouched], capture_output=True, text=True, check=True, env=env
    )
    assert proc.stdout.strip() == "ok"

    code = (
        "import emorec, sys; assert emorec.quiet_tensorflow_logs(); "
        "assert 'tensorflow' in sys.modules; "
        "print(emorec.build_model('mini_xception').count_params())"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert quiet.stderr == "" and quiet.stdout.strip().isdigit()
    loud = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"},  # the user's own setting wins
    )
    assert "oneDNN" in loud.stderr or "cuda" in loud.stderr.lower()


def test_quieting_tensorflow_after_its_import_says_it_is_too_late():
    import tensorflow  # noqa: F401

    import emorec

    with pytest.warns(RuntimeWarning, match="before anything imports tensorflow"):
        assert emorec.quiet_tensorflow_logs() is False


def test_quiet_blocks_on_several_threads_restore_stderr(capfd):
    import threading

    from emorec._native import quiet_native

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with quiet_native():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with quiet_native():  # entered while a's block redirects stderr
            b_in.set()
            a_out.wait(5)  # a leaves first

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    capfd.readouterr()
    os.write(2, b"stderr is back\n")
    assert capfd.readouterr().err == "stderr is back\n"
