from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from emorec import (
    LABELS,
    EmotionClassifier,
    EmotionDataset,
    FacePrediction,
    SkippedImage,
    predict_emotion,
)
from emorec.cli import main
from emorec.plots import annotate

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT = ROOT / "examples" / "photos" / "astronaut.jpg"
TOY = ROOT / "examples" / "data" / "toy_faces.zip"


@pytest.fixture(scope="module")
def clf():
    return EmotionClassifier.load()


@pytest.fixture(scope="module")
def crops():
    """At least 100 real image crops: the toy faces and crops of the astronaut photo."""
    toy = EmotionDataset.from_directory(TOY)
    faces = [toy[s].images for s in toy.split_names]
    photo = np.asarray(Image.open(ASTRONAUT).convert("L"))
    rng = np.random.default_rng(0)
    extra = []
    for _ in range(80):
        size = int(rng.integers(60, 200))
        y, x = rng.integers(0, photo.shape[0] - size), rng.integers(0, photo.shape[1] - size)
        patch = Image.fromarray(photo[y : y + size, x : x + size]).resize((48, 48))
        extra.append(np.asarray(patch)[..., None])
    return np.concatenate([*faces, np.stack(extra)])


@pytest.mark.smoke
def test_load_default(clf):
    assert clf.labels == LABELS and clf.input_size == (48, 48) and clf.color_mode == "grayscale"
    assert clf.card.metrics["public_test"]["accuracy"] > 0.6
    assert "vgg_m" in repr(clf)


@pytest.mark.smoke
def test_a_crop_is_one_face_and_matches_predict_proba(clf, crops):
    face = crops[0][..., 0]
    [pred] = clf.predict(face)
    assert pred.box == (0, 0, 48, 48) and pred.face_score is None
    probs = clf.predict_proba(crops[:1])[0]
    assert pred.label == LABELS[int(probs.argmax())]
    assert pred.score == pytest.approx(float(probs.max()), rel=1e-5)
    assert list(pred.probabilities) == list(LABELS)
    assert sum(pred.probabilities.values()) == pytest.approx(1, abs=1e-4)


def test_input_kinds_agree(clf, crops):
    face = crops[5][..., 0]
    buf = io.BytesIO()
    Image.fromarray(face).save(buf, "PNG")
    outs = [
        clf.predict(face),
        clf.predict(face.astype(np.float32) / 255),
        clf.predict(Image.fromarray(face)),
        clf.predict(buf.getvalue()),
        clf.predict(io.BytesIO(buf.getvalue())),
        clf.predict(np.stack([face] * 3, axis=-1)),
    ]
    labels = {o[0].label for o in outs}
    assert len(labels) == 1
    for other in outs[1:]:  # the same probabilities, not just the same label
        for name, value in outs[0][0].probabilities.items():
            assert other[0].probabilities[name] == pytest.approx(value, abs=1e-6)


def test_float_convention_is_the_same_for_predict_and_predict_proba(clf, crops):
    batch = crops[:6]
    as_uint8 = clf.predict_proba(batch)
    np.testing.assert_allclose(clf.predict_proba(batch / 255.0), as_uint8, atol=1e-6)
    via_predict = [r[0].probabilities for r in clf.predict(list(batch / 255.0))]
    np.testing.assert_allclose([list(p.values()) for p in via_predict], as_uint8, atol=1e-6)
    with pytest.raises(ValueError, match=r"range \[0, 1\]"):
        clf.predict_proba(batch.astype(np.float32))  # 0..255 floats: an error, not a guess


def test_batch_arrays_and_bgr(clf):
    rgb = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    [from_file] = clf.predict(str(ASTRONAUT))
    [from_bgr] = clf.predict(np.ascontiguousarray(rgb[..., ::-1]), channel_order="bgr")
    assert from_bgr.box == from_file.box
    assert from_bgr.probabilities == pytest.approx(from_file.probabilities, abs=1e-6)
    batch = np.stack([rgb, rgb[:, ::-1]])
    results = clf.predict(batch)
    assert len(results) == 2 and all(len(r) == 1 for r in results)
    assert results[0][0].probabilities == pytest.approx(from_file.probabilities, abs=1e-6)
    with pytest.raises(ValueError, match="channel_order"):
        clf.predict(rgb, channel_order="brg")


@pytest.mark.smoke
def test_photo_detects_the_face(clf):
    faces = clf.predict(str(ASTRONAUT))
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 150 < x + w / 2 < 260 and 50 < y + h / 2 < 170  # the astronaut's face
    assert faces[0].face_score > 0.5
    assert faces[0].keypoints is not None and len(faces[0].keypoints) == 6
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in faces[0].keypoints[:4])
    assert json.loads(json.dumps(faces[0].to_dict()))["label"] == faces[0].label


def test_no_face_is_an_empty_list(clf):
    assert clf.predict(np.full((300, 400, 3), 90, np.uint8)) == []


def test_batch_with_a_bad_item(clf, crops):
    good = crops[0][..., 0]
    results = clf.predict([good, b"not an image", good], errors="skip")
    assert isinstance(results[1], SkippedImage) and results[1].index == 1
    assert results[0][0].label == results[2][0].label
    with pytest.raises(ValueError):
        clf.predict([good, b"not an image"])


def test_user_boxes_skip_detection(clf):
    image = np.asarray(Image.open(ASTRONAUT))
    preds = clf.predict(image, boxes=[(170, 70, 80, 90), (0, 0, 50, 50)])
    assert [p.box for p in preds] == [(170, 70, 80, 90), (0, 0, 50, 50)]
    assert all(p.face_score is None for p in preds)
    assert all(p.keypoints is None for p in preds)
    with pytest.raises(ValueError, match="boxes\\[0\\]"):
        clf.predict(image, boxes=[(0, 0, 0, 10)])
    with pytest.raises(ValueError, match="boxes\\[0\\]"):
        clf.predict(image, boxes=[(0, 0, 100000, 100000)])  # not a 55 GB crop
    with pytest.raises(ValueError, match="boxes\\[1\\]"):
        clf.predict(image, boxes=[(0, 0, 10, 10), (900, 900, 10, 10)])  # outside the image
    whole = clf.predict(image, detect_faces=False)
    assert whole[0].box == (0, 0, image.shape[1], image.shape[0])


def test_save_load_round_trip(clf, crops, tmp_path):
    path = clf.save(tmp_path / "copy.keras")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        clf.save(path)
    again = EmotionClassifier.load(path)
    assert again.card.training == clf.card.training
    assert again.card.get("data_notice") == clf.card.get("data_notice")
    np.testing.assert_allclose(
        again.predict_proba(crops[:8]), clf.predict_proba(crops[:8]), atol=1e-6
    )


def test_legacy_h5_with_external_scaling(tmp_path, crops):
    # the seed notebook: a Sequential CNN fed pixels / 255, saved with model.save('*.h5')
    seed = keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(7, activation="softmax"),
        ]
    )
    path = tmp_path / "emotion_model.h5"
    seed.save(path)
    clf = EmotionClassifier.load(path)
    assert clf.labels == LABELS
    expected = seed.predict(crops[:4].astype("float32") / 255, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(crops[:4], tta="none"), expected, atol=1e-5)
    renamed = EmotionClassifier.load(path, labels=[f"c{i}" for i in range(7)])
    assert renamed.labels[0] == "c0"


def test_lambda_model_is_refused(tmp_path):
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Lambda(lambda t: t / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x)).save(path)
    with pytest.raises(ValueError, match="Lambda"):
        EmotionClassifier.load(path)


def test_missing_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="bundled: .*fer2013_vgg_m"):
        EmotionClassifier.load(tmp_path / "nope.keras")


def test_tflite_export_matches_keras(clf, crops, tmp_path):
    import tensorflow as tf

    path = clf.export(tmp_path / "model.tflite", format="tflite")
    interpreter = tf.lite.Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], (len(crops), 48, 48, 1))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], crops.astype(np.float32))
    interpreter.invoke()
    lite = interpreter.get_tensor(out["index"])
    keras_probs = clf.predict_proba(crops, tta="none")
    assert len(crops) >= 100
    assert np.abs(lite - keras_probs).max() <= 1e-3
    with pytest.raises(FileExistsError):
        clf.export(path, format="tflite")


def test_saved_model_export(clf, crops, tmp_path):
    import tensorflow as tf

    path = clf.export(tmp_path / "saved", format="saved_model")
    assert json.loads((path / "labels.json").read_text()) == list(LABELS)
    served = tf.saved_model.load(str(path))
    probs = served.serve(tf.constant(crops[:4].astype(np.float32))).numpy()
    np.testing.assert_allclose(probs, clf.predict_proba(crops[:4], tta="none"), atol=1e-5)


def test_fine_tune_with_new_labels(clf, tmp_path):
    # clf runs the bundled TFLite twin; fine_tune starts from the Keras file beside it
    source = EmotionClassifier.load(runtime="keras")
    before = {w.path: w.numpy().copy() for w in source.model.weights}
    toy = EmotionDataset.from_directory(TOY)  # happy, sad, surprise, neutral: a FER subset
    custom = EmotionDataset.from_arrays(
        toy["train"].images, toy["train"].labels, ["smile", "frown", "oh", "flat"]
    )
    tuned = clf.fine_tune(
        custom, output_dir=tmp_path / "ft", epochs=1, batch_size=8, verbose=0, seed=0
    )
    assert tuned.labels == ("smile", "frown", "oh", "flat")
    assert tuned.predict_proba(toy["test"].images).shape == (8, 4)
    # the frozen backbone kept its weights; the original classifier is unchanged
    tuned_weights = {w.path: w.numpy() for w in tuned.model.weights}
    backbone = [p for p in before if "logits" not in p and "probabilities" not in p]
    assert backbone and all(p in tuned_weights for p in backbone)
    for p in backbone:
        np.testing.assert_array_equal(tuned_weights[p], before[p])
    assert clf.labels == LABELS


def test_predict_emotion_and_annotate(tmp_path):
    assert predict_emotion(str(ASTRONAUT)) in LABELS
    assert predict_emotion(np.full((300, 300, 3), 50, np.uint8)) is None
    face = FacePrediction((10, 10, 40, 40), "happy", 0.8, {"happy": 0.8, "sad": 0.2}, 0.9)
    image = annotate(str(ASTRONAUT), [face])
    assert image.size == (512, 512)
    pixel = np.asarray(image)[10, 30]
    assert tuple(pixel) != tuple(np.asarray(Image.open(ASTRONAUT))[10, 30])  # box drawn


@pytest.mark.smoke
def test_cli_predict(tmp_path, capsys):
    out = tmp_path / "annotated.jpg"
    assert main(["predict", str(ASTRONAUT), "--annotate", str(out)]) == 0
    text = capsys.readouterr().out.strip().splitlines()
    assert len(text) == 1 and "face 1 at (" in text[0]
    assert Image.open(out).size == (512, 512)
    assert main(["predict", str(ASTRONAUT), "--annotate", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["predict", str(ASTRONAUT), "--json", "--output", str(tmp_path / "r.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads((tmp_path / "r.json").read_text())
    assert data[0]["faces"][0]["label"] in LABELS
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    assert main(["predict", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("emorec: error:") and "bad.jpg" in err and "\n" not in err


def test_model_and_detector_load_once(monkeypatch):
    from emorec.faces import blazeface

    loads = []
    real = blazeface.load_tflite_interpreter
    monkeypatch.setattr(
        blazeface, "load_tflite_interpreter", lambda *a, **k: loads.append(1) or real(*a, **k)
    )
    clf = EmotionClassifier.load()
    clf.predict(str(ASTRONAUT))
    detector, model = clf.detector, clf.model
    clf.predict([str(ASTRONAUT), str(ASTRONAUT)])
    assert clf.detector is detector and clf.model is model
    assert len(loads) == 1


def test_int8_tflite_export_is_small_and_close(clf, crops, tmp_path):
    import tensorflow as tf

    path = clf.export(
        tmp_path / "int8.tflite", format="tflite", quantize="int8", representative=crops
    )
    full = clf.export(tmp_path / "float.tflite", format="tflite")
    assert path.stat().st_size < 0.4 * full.stat().st_size
    interpreter = tf.lite.Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.float32  # callers feed the same 0..255 pixels
    interpreter.resize_tensor_input(inp["index"], (len(crops), 48, 48, 1))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], crops.astype(np.float32))
    interpreter.invoke()
    lite = interpreter.get_tensor(out["index"])
    keras_probs = clf.predict_proba(crops, tta="none")
    assert np.abs(lite - keras_probs).mean() < 0.05
    assert np.mean(lite.argmax(1) == keras_probs.argmax(1)) >= 0.85
    with pytest.raises(ValueError, match="representative= crops"):
        clf.export(tmp_path / "x.tflite", format="tflite", quantize="int8")
    with pytest.raises(ValueError, match="is for format='tflite'"):
        clf.export(tmp_path / "x", quantize="int8", representative=crops)
    with pytest.raises(ValueError, match="quantize='int4'"):
        clf.export(tmp_path / "x.tflite", format="tflite", quantize="int4")
