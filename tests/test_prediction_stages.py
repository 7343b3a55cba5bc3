"""The public stages of a prediction (emorec.pipeline): prepare one image, classify many."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from emorec import EmotionClassifier, SkippedImage
from emorec.pipeline import AUTO_CROP_MAX_SIDE, PreparedImage, classify, prepare
from emorec.pixels import InputSpec


@pytest.fixture(scope="module")
def clf():
    return EmotionClassifier.load()


def test_the_two_stages_give_what_predict_gives(clf, tmp_path):
    photo = tmp_path / "astronaut.jpg"
    Image.open("examples/photos/astronaut.jpg").save(photo)
    crops = [np.full((48, 48), v, np.uint8) for v in (30, 200)]
    images = [str(photo), *crops]
    prepared = [clf.prepare(image, i) for i, image in enumerate(images)]
    assert [p.source for p in prepared] == [str(photo), "<ndarray #1>", "<ndarray #2>"]
    assert all(p.crops.shape[1:] == clf.input_spec.shape for p in prepared)
    assert len(prepared[0].boxes) == len(prepared[0].crops) >= 1
    calls = []
    model_call = clf.model.predict_on_batch
    clf.model.predict_on_batch = lambda x: calls.append(len(x)) or model_call(x)
    try:
        staged = clf.classify(prepared)
    finally:
        del clf.model.predict_on_batch
    # one model call for the faces of all three images (the flip views in the same batch)
    faces = sum(len(p.crops) for p in prepared)
    assert len(calls) == 1 and calls[0] in (faces, 2 * faces), calls
    # each face's probabilities are the model's on that face's crop, in order
    want = clf.predict_proba(np.concatenate([p.crops for p in prepared]))
    got = [[f.to_dict()["probabilities"][k] for k in clf.labels] for r in staged for f in r]
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert [f.box for f in staged[1]] == [(0, 0, 48, 48)]  # a crop is its own face
    direct = clf.predict(images)
    assert [[f.to_dict() for f in r] for r in staged] == [[f.to_dict() for f in r] for r in direct]


def test_prepare_takes_given_boxes_and_needs_a_detector_only_to_find_faces():
    spec = InputSpec(48, 48, 1)
    image = np.zeros((200, 300, 3), np.uint8)
    given = prepare(image, input_spec=spec, boxes=[(10, 20, 50, 60)])
    assert given.boxes == [(10, 20, 50, 60)] and given.face_scores == [None]
    assert given.crops.shape == (1, 48, 48, 1)
    small = np.zeros((AUTO_CROP_MAX_SIDE, AUTO_CROP_MAX_SIDE), np.uint8)
    assert prepare(small, input_spec=spec).boxes == [(0, 0, AUTO_CROP_MAX_SIDE, AUTO_CROP_MAX_SIDE)]
    with pytest.raises(ValueError, match="no detector"):
        prepare(image, input_spec=spec)
    found = prepare(image, input_spec=spec, detect=lambda rgb: [])
    assert found.boxes == [] and found.crops.shape == (0, 48, 48, 1)


def test_an_unreadable_image_is_a_record_with_skip_and_an_error_without(clf, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="bad.jpg"):
        clf.prepare(str(bad))
    record = clf.prepare(str(bad), 3, skip=True)
    assert isinstance(record, PreparedImage) and "bad.jpg" in record.error
    assert len(record.crops) == 0
    good = clf.prepare(np.zeros((48, 48), np.uint8), 4)
    result = classify(clf.model, [record, good], labels=clf.labels, tta="none")
    assert isinstance(result[0], SkippedImage) and result[0].index == 3
    assert len(result[1]) == 1 and result[1][0].label in clf.labels


def test_classify_runs_one_model_call_for_all_faces(clf):
    calls = []

    class Counting:
        def __init__(self, model):
            self.model = model
            self.input_shape, self.output_shape = model.input_shape, model.output_shape
            self.name = "counting"

        def predict_on_batch(self, x):
            calls.append(len(x))
            return self.model.predict_on_batch(x)

    prepared = [clf.prepare(np.full((48, 48), v, np.uint8), i) for i, v in enumerate(range(5))]
    classify(Counting(clf.model), prepared, labels=clf.labels, tta="none")
    assert calls == [5]
