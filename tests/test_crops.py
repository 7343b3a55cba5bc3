"""Tests for :mod:`emorec.faces.crops`: square crops, edges, the pixel contract, alignment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emorec.faces import BlazeFaceDetector, FaceBox, crop_faces
from emorec.faces.crops import eye_angle
from emorec.pixels import InputSpec, to_model_input

ASTRONAUT_JPG = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT_JPG).convert("RGB"))


@pytest.fixture
def coded() -> np.ndarray:
    """A 20x30 RGB image whose pixels say where they are: R = row, G = column, B = 7."""
    rows, cols = np.mgrid[0:20, 0:30]
    return np.stack([rows * 10, cols * 8, np.full_like(rows, 7)], axis=-1).astype(np.uint8)


def test_crop_margin_and_square(coded: np.ndarray) -> None:
    # Box 6 wide, 4 high at (10, 8): centre (13, 10); side 6 * 1.5 = 9 -> rows 6..14, cols 8..16.
    (crop,) = crop_faces(coded, [(10, 8, 6, 4)], size=(9, 9), margin=0.25, color_mode="rgb")
    np.testing.assert_array_equal(crop, coded[6:15, 8:17])
    (crop,) = crop_faces(
        coded, [FaceBox(10, 8, 6, 4, 0.9)], size=(6, 6), margin=0.0, color_mode="rgb"
    )
    np.testing.assert_array_equal(crop, coded[7:13, 10:16])


def test_crop_outside_the_image_replicates_the_edge(coded: np.ndarray) -> None:
    # Box (0, 0, 4, 4) with margin 0.5: side 8 from (-2, -2) to (5, 5).
    (crop,) = crop_faces(coded, [(0, 0, 4, 4)], size=(8, 8), margin=0.5, color_mode="rgb")
    np.testing.assert_array_equal(crop, np.pad(coded[:6, :6], ((2, 0), (2, 0), (0, 0)), "edge"))
    # Past the bottom-right corner.
    (crop,) = crop_faces(coded, [(26, 16, 6, 6)], size=(6, 6), margin=0.0, color_mode="rgb")
    np.testing.assert_array_equal(crop, np.pad(coded[16:, 26:], ((0, 2), (0, 2), (0, 0)), "edge"))


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb"])
@pytest.mark.parametrize("size", [(48, 48), (64, 40), (20, 20)])
def test_crops_are_the_pixel_contract_of_the_square(
    astronaut: np.ndarray, color_mode: str, size: tuple[int, int]
) -> None:
    # Box (175, 72, 100, 100), margin 0.2: the 140 px square from (155, 52).
    crops = crop_faces(
        astronaut, [(175, 72, 100, 100)], size=size, color_mode=color_mode, margin=0.2
    )
    square = astronaut[52:192, 155:295]
    expected = to_model_input(square[np.newaxis], InputSpec.from_mode(size, color_mode))
    np.testing.assert_array_equal(crops, expected)
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    from_grey = crop_faces(
        grey, [(175, 72, 100, 100)], size=size, color_mode=color_mode, margin=0.2
    )
    if color_mode == "grayscale":
        np.testing.assert_array_equal(from_grey, crops)  # luma first or after: the same


def test_crop_grey_matches_pillow(coded: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    (crop,) = crop_faces(image, [(10, 5, 20, 20)], size=(20, 20), margin=0.0)
    expected = np.asarray(Image.fromarray(image[5:25, 10:30]).convert("L"))
    np.testing.assert_array_equal(crop[:, :, 0], expected)
    pure = np.zeros((10, 30, 3), np.uint8)
    pure[:, :10], pure[:, 10:20], pure[:, 20:] = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    grey = crop_faces(
        pure, [(0, 0, 10, 10), (10, 0, 10, 10), (20, 0, 10, 10)], size=(4, 4), margin=0
    )
    assert grey.shape == (3, 4, 4, 1)
    assert [int(v) for v in grey[:, 2, 2, 0]] == [76, 150, 29]  # ITU-R 601-2 luma


def test_crop_resize_shapes_and_modes(coded: np.ndarray) -> None:
    flat = np.full((60, 80, 3), (10, 20, 30), np.uint8)
    crops = crop_faces(flat, [(5, 5, 30, 20), (40, 10, 8, 8)], size=(48, 32), color_mode="rgb")
    assert crops.shape == (2, 48, 32, 3) and crops.dtype == np.uint8
    assert (crops == (10, 20, 30)).all()
    grey = np.arange(60 * 80, dtype=np.uint32).reshape(60, 80).astype(np.uint8)
    as_rgb = crop_faces(grey, [(5, 5, 30, 20)], color_mode="rgb")
    assert as_rgb.shape == (1, 48, 48, 3)
    assert (as_rgb[..., 0] == as_rgb[..., 2]).all()
    np.testing.assert_array_equal(
        crop_faces(grey[:, :, np.newaxis], [(5, 5, 30, 20)]), as_rgb[..., :1]
    )
    assert crop_faces(coded, []).shape == (0, 48, 48, 1)
    assert crop_faces(coded, [], size=(8, 6), color_mode="rgb").shape == (0, 8, 6, 3)


def test_crop_errors(coded: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"boxes\[1\] = \(1, 1, 0, 5\).*width 0"):
        crop_faces(coded, [(0, 0, 5, 5), (1, 1, 0, 5)])
    with pytest.raises(ValueError, match=r"boxes\[0\]"):
        crop_faces(coded, [(1, 2, 3)])
    with pytest.raises(ValueError, match=r"boxes\[0\] = \(100, -50, 4, 4\) lies outside the 30x20"):
        crop_faces(coded, [(100, -50, 4, 4)])
    with pytest.raises(ValueError, match="color_mode"):
        crop_faces(coded, [], color_mode="bgr")
    with pytest.raises(ValueError, match="size"):
        crop_faces(coded, [], size=(0, 48))
    with pytest.raises(ValueError, match="margin"):
        crop_faces(coded, [], margin=-0.5)
    with pytest.raises(ValueError, match="dtype float64"):
        crop_faces(coded.astype(float), [])
    with pytest.raises(ValueError, match=r"boxes\[0\].*margin=100.*use a smaller margin"):
        crop_faces(coded, [(0, 0, 20, 20)], margin=100)


def test_a_huge_box_is_refused_not_allocated() -> None:
    photo = np.zeros((300, 400, 3), np.uint8)
    with pytest.raises(ValueError, match=r"boxes\[0\] = \(0, 0, 100000, 100000\).*400x300"):
        crop_faces(photo, [(0, 0, 100000, 100000)])
    with pytest.raises(ValueError, match=r"boxes\[0\].*at most 4 times"):
        crop_faces(photo, [FaceBox(0, 0, 100000, 100000, 0.9)], align=True)


def test_eye_angle() -> None:
    assert eye_angle(None) is None
    assert eye_angle(((1.0, 2.0),)) is None
    assert eye_angle(((1.0, 2.0), (1.0, 2.0))) is None
    assert eye_angle(((0.0, 0.0), (math.nan, 1.0))) is None
    assert eye_angle(((0.0, 0.0), (10.0, 0.0), (5.0, 5.0))) == 0.0
    # Either order of the eyes: the angle of the line from the image's left to its right.
    assert eye_angle(((10.0, 10.0), (0.0, 0.0))) == pytest.approx(math.pi / 4)
    assert eye_angle(((0.0, 10.0), (10.0, 0.0))) == pytest.approx(-math.pi / 4)


def test_align_geometry(coded: np.ndarray) -> None:
    box = (10, 5, 9, 9)  # margin 0: the 9 px square at (10, 5), inside the image
    plain = crop_faces(coded, [box], size=(9, 9), margin=0.0, color_mode="rgb")
    np.testing.assert_array_equal(plain[0], coded[5:14, 10:19])
    # Level eyes, no keypoints, or align=False: the plain crop, exactly.
    level = FaceBox(*box, 1.0, keypoints=((11.0, 8.0), (17.0, 8.0), (14.0, 11.0)))
    tilted = FaceBox(*box, 1.0, keypoints=((14.0, 6.0), (14.0, 12.0)))  # eyes one above other
    for face, align in ((level, True), (FaceBox(*box, 1.0), True), (tilted, False)):
        crop = crop_faces(coded, [face], size=(9, 9), margin=0.0, color_mode="rgb", align=align)
        np.testing.assert_array_equal(crop, plain)
    # Eyes on a vertical line: the square is sampled turned by 90 degrees about its centre.
    crop = crop_faces(coded, [tilted], size=(9, 9), margin=0.0, color_mode="rgb", align=True)
    np.testing.assert_array_equal(crop[0], np.rot90(plain[0]))


def test_align_replicates_edges_and_keeps_the_contract(coded: np.ndarray) -> None:
    face = FaceBox(0, 0, 8, 8, 1.0, keypoints=((1.0, 1.0), (6.0, 4.0)))
    crops = crop_faces(coded, [face, face.as_tuple()], size=(12, 12), align=True)
    assert crops.shape == (2, 12, 12, 1) and crops.dtype == np.uint8
    assert not np.array_equal(crops[0], crops[1])  # the first is turned, the second is not
    flat = np.full((50, 50, 3), (10, 200, 30), np.uint8)
    turned = FaceBox(40, 40, 20, 20, 1.0, keypoints=((42.0, 41.0), (55.0, 49.0)))
    (crop,) = crop_faces(flat, [turned], margin=0.5, align=True, color_mode="rgb")
    assert (crop == (10, 200, 30)).all()  # outside the image: edge pixels, no black corners


def rotate(image: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """``image`` turned ``degrees`` counter-clockwise about ``centre``, edges replicated."""
    picture = Image.fromarray(image)
    padded = np.pad(image, ((200, 200), (200, 200), (0, 0)), mode="edge")
    turned = Image.fromarray(padded).rotate(
        degrees, Image.Resampling.BILINEAR, center=(centre[0] + 200, centre[1] + 200)
    )
    return np.asarray(turned)[200 : 200 + picture.height, 200 : 200 + picture.width]


def test_align_undoes_a_tilted_face(astronaut: np.ndarray) -> None:
    detector = BlazeFaceDetector()
    (upright,) = detector.detect(astronaut)
    reference = crop_faces(astronaut, [upright]).astype(np.float64)
    centre = (upright.x + upright.width / 2, upright.y + upright.height / 2)
    for degrees in (20, -20):
        tilted = rotate(astronaut, degrees, centre)
        (face,) = detector.detect(tilted)
        angle = eye_angle(face.keypoints)
        assert angle is not None and math.degrees(angle) == pytest.approx(-degrees, abs=6)
        plain = crop_faces(tilted, [face], align=False).astype(np.float64)
        aligned = crop_faces(tilted, [face], align=True).astype(np.float64)
        plain_error = np.abs(plain - reference).mean()
        aligned_error = np.abs(aligned - reference).mean()
        assert aligned_error < 0.7 * plain_error, (degrees, aligned_error, plain_error)
