"""Tests for :mod:`emorec.faces.haar`: OpenCV's cascade as a detector."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emorec.faces import FaceDetector, HaarDetector, get_detector

cv2 = pytest.importorskip("cv2")
# OpenCV 5 without its contrib modules has no Haar cascades (the error is tested below).
needs_haar = pytest.mark.skipif(
    not hasattr(cv2, "CascadeClassifier"), reason=f"OpenCV {cv2.__version__} has no Haar cascades"
)

ASTRONAUT_JPG = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
# The astronaut's face in the astronaut photo (512x512), as (x, y, width, height).
ASTRONAUT_FACE = (175, 72, 100, 100)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


@needs_haar
@pytest.mark.smoke
def test_haar_finds_the_astronaut() -> None:
    astronaut = np.asarray(Image.open(ASTRONAUT_JPG).convert("RGB"))
    detector = get_detector("haar")
    assert isinstance(detector, HaarDetector) and isinstance(detector, FaceDetector)
    (face,) = detector.detect(astronaut)
    assert iou(face.as_tuple(), ASTRONAUT_FACE) >= 0.7, face
    assert 0.5 < face.score <= 1.0
    assert face.keypoints is None
    assert detector.detect(np.full((100, 100), 30, np.uint8)) == []
    assert detector.detect(np.zeros((10, 100, 3), np.uint8)) == []  # under 16 px a side
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.detect(astronaut) == [face]


@needs_haar
def test_haar_options_and_errors(tmp_path: Path) -> None:
    assert repr(HaarDetector(min_neighbors=3)) == (
        "HaarDetector(scale_factor=1.1, min_neighbors=3, min_size=(24, 24))"
    )
    with pytest.raises(ValueError, match="scale_factor=1.0"):
        HaarDetector(scale_factor=1.0)
    with pytest.raises(ValueError, match="min_neighbors=-1"):
        HaarDetector(min_neighbors=-1)
    with pytest.raises(ValueError, match="min_size"):
        HaarDetector(min_size=(0, 24))
    with pytest.raises(FileNotFoundError, match="could not load Haar cascade 'nope.xml'"):
        HaarDetector(cascade="nope.xml").detect(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="dtype float64"):
        HaarDetector().detect(np.zeros((64, 64, 3)))


class _Cv2WithoutHaar:
    """A cv2 as OpenCV 5 without its contrib modules: no CascadeClassifier, no cascade files."""

    __version__ = "5.0.0"

    def __init__(self, *, classifier: bool, data: object) -> None:
        if classifier:
            self.CascadeClassifier = lambda path: pytest.fail("no cascade should be loaded")
        if data is not None:
            self.data = data


@pytest.mark.parametrize(
    ("classifier", "data", "missing"),
    [
        (False, None, "needs cv2.CascadeClassifier"),
        (True, None, "needs the cascade files of cv2.data.haarcascades"),
        (True, type("data", (), {"haarcascades": "/no/such/folder"})(), "needs the cascade files"),
    ],
)
def test_an_opencv_without_haar_says_what_to_install(monkeypatch, classifier, data, missing):
    import emorec.faces.haar as haar

    fake = _Cv2WithoutHaar(classifier=classifier, data=data)
    monkeypatch.setattr(haar, "require", lambda module, purpose: fake)
    with pytest.raises(ImportError, match=missing) as error:
        haar.HaarDetector()._ensure_classifier()
    message = str(error.value)
    assert "OpenCV 5.0.0" in message and "opencv-contrib-python-headless" in message
    assert '"opencv-python-headless<5"' in message and 'detector="blazeface"' in message


@needs_haar
def test_a_cascade_path_needs_no_cascade_folder(monkeypatch, tmp_path):
    import emorec.faces.haar as haar

    cascade = tmp_path / "mine.xml"
    cascade.write_bytes(
        Path(cv2.data.haarcascades, "haarcascade_frontalface_default.xml").read_bytes()
    )
    fake = type("cv2", (), {"CascadeClassifier": cv2.CascadeClassifier})()  # no cv2.data
    monkeypatch.setattr(haar, "require", lambda module, purpose: fake)
    assert not haar.HaarDetector(cascade=str(cascade))._ensure_classifier().empty()
