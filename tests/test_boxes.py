"""Tests for :mod:`emorec.faces.boxes`: FaceBox, the protocol, check_box, check_image."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emorec.faces import FaceBox, FaceDetector, check_box
from emorec.faces.boxes import MAX_BOX_SCALE, check_image


def test_face_box() -> None:
    box = FaceBox(3, 4, 10, 20, 0.75, ((5.0, 6.5), (7.0, 8.0)))
    assert box.area == 200
    assert box.as_tuple() == (3, 4, 10, 20)
    assert box.to_dict() == {
        "x": 3,
        "y": 4,
        "width": 10,
        "height": 20,
        "score": 0.75,
        "keypoints": [[5.0, 6.5], [7.0, 8.0]],
    }
    assert json.loads(json.dumps(box.to_dict())) == box.to_dict()
    assert box == FaceBox(3, 4, 10, 20, 0.75)  # keypoints are not part of equality
    assert FaceBox(3, 4, 10, 20, 0.75).keypoints is None
    assert FaceBox(3, 4, 10, 20, 0.75).to_dict()["keypoints"] is None
    with pytest.raises(AttributeError):
        box.x = 5  # type: ignore[misc]


def test_protocol() -> None:
    class Everything:
        def detect(self, image: np.ndarray) -> list[FaceBox]:
            return [FaceBox(0, 0, image.shape[1], image.shape[0], 1.0)]

    assert isinstance(Everything(), FaceDetector)
    assert not isinstance(object(), FaceDetector)


def test_check_box_rounds_and_keeps_what_a_face_box_carries() -> None:
    assert check_box((10.4, 20.6, 30.5, 40), (100, 80)) == FaceBox(10, 21, 30, 40, 1.0)
    assert check_box(np.array([1, 2, 3, 4]), (100, 80, 3)).as_tuple() == (1, 2, 3, 4)
    points = ((1.0, 2.0), (3.0, 4.0))
    box = check_box(FaceBox(-5, -5, 20, 20, 0.6, points), (10, 10))
    assert box.as_tuple() == (-5, -5, 20, 20)  # kept as given, not clipped
    assert box.score == 0.6 and box.keypoints == points
    # Touching the image by one pixel is enough.
    assert check_box((-9, -9, 10, 10), (10, 10)).as_tuple() == (-9, -9, 10, 10)


@pytest.mark.parametrize(
    ("box", "match"),
    [
        ((1, 2, 3), r"boxes\[3\] = \(1, 2, 3\); expected a FaceBox or \(x, y, width, height\)"),
        ("abcd", r"boxes\[3\] = 'abcd'; expected"),
        (None, r"boxes\[3\] = None; expected"),
        ((0, 0, math.nan, 5), r"boxes\[3\] = \(0, 0, nan, 5\) is not finite"),
        ((0, math.inf, 5, 5), "not finite"),
        ((1, 1, 0, 5), r"boxes\[3\] = \(1, 1, 0, 5\) has width 0 and height 5"),
        ((1, 1, 5, -2), "height -2"),
        ((1, 1, 0.4, 5), "at least 1 pixel"),
        ((400, 10, 5, 5), r"lies outside the 400x300 image \(x 0..399, y 0..299\)"),
        ((10, -5, 5, 5), "lies outside"),
        ((0, 0, 100000, 100000), r"100000x100000 px on a 400x300 image.*at most 4 times"),
        ((0, 0, 10, 1601), r"\(1600 px\)"),
    ],
)
def test_check_box_errors(box: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_box(box, (300, 400), index=3)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(-2000, 2000), st.just(math.nan), st.just(math.inf)),
        min_size=4,
        max_size=4,
    ),
    st.integers(1, 500),
    st.integers(1, 500),
)
def test_check_box_accepts_only_bounded_overlapping_boxes(
    values: list[float], height: int, width: int
) -> None:
    try:
        box = check_box(values, (height, width))
    except ValueError as error:
        assert "boxes[0]" in str(error)
        return
    assert box.width >= 1 and box.height >= 1
    assert max(box.width, box.height) <= MAX_BOX_SCALE * max(height, width)
    assert box.x < width and box.y < height and box.x + box.width > 0 and box.y + box.height > 0


def test_check_image() -> None:
    grey = np.zeros((4, 6), np.uint8)
    assert check_image(grey).shape == (4, 6, 1)
    rgb = np.zeros((4, 6, 3), np.uint8)
    assert check_image(rgb) is rgb
    for image, match in [
        (np.zeros((32, 32, 4), np.uint8), r"shape \(32, 32, 4\)"),
        (np.zeros((32, 32, 3), np.float32), "dtype float32"),
        (np.zeros((2, 32, 32, 3), np.uint8), "expected"),
        (np.zeros((0, 32, 3), np.uint8), r"shape \(0, 32, 3\)"),
        ([[0, 0], [0, 0]], "NumPy array"),
    ]:
        with pytest.raises(ValueError, match=match):
            check_image(image)
