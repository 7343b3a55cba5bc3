"""Tests for :mod:`emorec.faces.yunet`: OpenCV's YuNet as a detector."""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emorec.faces import (
    FaceDetector,
    YuNetDetector,
    crop_faces,
    get_detector,
    list_detectors,
    yunet,
)

cv2 = pytest.importorskip("cv2")
needs_yunet = pytest.mark.skipif(
    not hasattr(cv2, "FaceDetectorYN") or yunet._opencv_version(cv2) < yunet.MIN_OPENCV,
    reason=f"OpenCV {cv2.__version__} cannot run YuNet",
)

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "photos"
TRUTH = {
    name: [tuple(box) for box in entry["faces"]]
    for name, entry in json.loads((PHOTOS / "faces.json").read_text())["photos"].items()
}


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(PHOTOS / name).convert("RGB"))


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def test_the_bundled_model_is_the_opencv_zoo_file() -> None:
    data = Path(yunet.model_path()).read_bytes()
    assert len(data) == 232_589
    digest = hashlib.sha256(data).hexdigest()
    assert digest == "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
    notice = Path(yunet.model_path()).with_name("NOTICE_YUNET.md").read_text()
    assert digest in notice and "MIT License" in notice


@needs_yunet
@pytest.mark.smoke
def test_yunet_finds_the_astronaut_with_keypoints() -> None:
    astronaut = photo("astronaut.jpg")
    detector = get_detector("yunet")
    assert "yunet" in list_detectors()
    assert isinstance(detector, YuNetDetector) and isinstance(detector, FaceDetector)
    (face,) = detector.detect(astronaut)
    assert iou(face.as_tuple(), TRUTH["astronaut.jpg"][0]) >= 0.5, face
    assert 0.6 <= face.score <= 1.0
    assert face.keypoints is not None and len(face.keypoints) == len(yunet.KEYPOINT_NAMES) == 5
    points = dict(zip(yunet.KEYPOINT_NAMES, face.keypoints))
    # The subject's right eye and mouth corner are on the image's left; eyes above nose above mouth.
    assert points["right_eye"][0] < points["left_eye"][0]
    assert points["right_mouth_corner"][0] < points["left_mouth_corner"][0]
    assert points["right_eye"][1] < points["nose_tip"][1] < points["right_mouth_corner"][1]
    for px, py in face.keypoints:
        assert face.x <= px <= face.x + face.width and face.y <= py <= face.y + face.height
    assert crop_faces(astronaut, [face], align=True).shape == (1, 48, 48, 1)
    grey = np.asarray(Image.open(PHOTOS / "astronaut.jpg").convert("L"))
    assert len(detector.detect(grey)) == 1
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.detect(astronaut) == [face]


@needs_yunet
def test_yunet_finds_most_faces_of_a_group_and_none_where_there_are_none() -> None:
    truth = TRUTH["group_small.jpg"]
    faces = get_detector("yunet").detect(photo("group_small.jpg"))
    matched = sum(any(iou(face.as_tuple(), box) >= 0.4 for face in faces) for box in truth)
    assert matched >= 8, (matched, faces)
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    assert get_detector("yunet", max_faces=3).detect(photo("group_small.jpg")) == faces[:3]
    assert get_detector("yunet").detect(photo("no_face.jpg")) == []
    assert get_detector("yunet").detect(np.zeros((64, 64, 3), np.uint8)) == []
    assert get_detector("yunet").detect(np.zeros((10, 100, 3), np.uint8)) == []  # under 16 px


@needs_yunet
def test_large_photos_are_shrunk_and_boxes_scaled_back() -> None:
    astronaut = photo("astronaut.jpg")
    (face,) = YuNetDetector().detect(astronaut)
    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048), Image.Resampling.BILINEAR))
    (shrunk,) = YuNetDetector(max_side=512).detect(big)  # back to 512 px, then scaled by 4
    assert iou(shrunk.as_tuple(), tuple(4 * v for v in face.as_tuple())) >= 0.8, (shrunk, face)
    assert shrunk.keypoints is not None and face.keypoints is not None
    for (bx, by), (sx, sy) in zip(shrunk.keypoints, face.keypoints):
        assert abs(bx - 4 * sx) < 12 and abs(by - 4 * sy) < 12


@needs_yunet
def test_one_detector_serves_several_threads_at_once() -> None:
    detector = get_detector("yunet")
    images = [photo("astronaut.jpg"), photo("group_small.jpg"), photo("no_face.jpg")]
    expected = [detector.detect(image) for image in images]
    results: dict[tuple[int, int], list] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def work(worker: int) -> None:
        try:
            start.wait()
            for round_ in range(4):
                index = (worker + round_) % len(images)  # sizes change between calls
                results[(worker, round_)] = [f.as_tuple() for f in detector.detect(images[index])]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for (worker, round_), boxes in results.items():
        assert boxes == [f.as_tuple() for f in expected[(worker + round_) % len(images)]]
    assert len(results) == 24


def test_options_are_checked() -> None:
    assert repr(YuNetDetector(min_score=0.7)) == (
        "YuNetDetector(min_score=0.7, nms_threshold=0.3, max_faces=None, max_side=640)"
    )
    with pytest.raises(ValueError, match="min_score=1.5"):
        YuNetDetector(min_score=1.5)
    with pytest.raises(ValueError, match="nms_threshold=-0.1"):
        YuNetDetector(nms_threshold=-0.1)
    with pytest.raises(ValueError, match="max_faces=0"):
        YuNetDetector(max_faces=0)
    with pytest.raises(ValueError, match="max_side=8"):
        YuNetDetector(max_side=8)
    with pytest.raises(ValueError, match="dtype float64"):
        YuNetDetector().detect(np.zeros((64, 64, 3)))


@needs_yunet
def test_a_file_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "not_a_model.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ValueError, match="could not load the YuNet model .*not_a_model.onnx"):
        YuNetDetector(model=str(bad)).detect(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.parametrize(
    ("version", "has_class"), [("4.7.0", True), ("4.5.4", False), ("unknown", True)]
)
def test_an_old_opencv_says_what_to_install(monkeypatch, version, has_class) -> None:
    fake = type("cv2", (), {"__version__": version})()
    if has_class:
        fake.FaceDetectorYN = object()
    monkeypatch.setattr(yunet, "require", lambda module, purpose: fake)
    with pytest.raises(ImportError, match=f"OpenCV >= 4.8, and the installed OpenCV is {version}"):
        YuNetDetector().detect(np.zeros((64, 64, 3), np.uint8))


def test_a_missing_opencv_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now fails as if not installed
    with pytest.raises(ImportError, match=r"the yunet face detector needs OpenCV.*emorec\[video\]"):
        YuNetDetector().detect(np.zeros((64, 64, 3), np.uint8))
