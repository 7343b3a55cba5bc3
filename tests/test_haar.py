"""Tests for :mod:`emorec.faces.haar`: OpenCV's cascade as a detector."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emorec.faces import FaceDetector, HaarDetector, get_detector

pytest.importorskip("cv2")

ASTRONAUT_JPG = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
# The astronaut's face in the astronaut photo (512x512), as (x, y, width, height).
ASTRONAUT_FACE = (175, 72, 100, 100)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


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
