"""Tests for :mod:`emorec.faces` (detectors, registry, crops)."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import write_distribution
from emorec.faces import (
    BlazeFaceDetector,
    FaceBox,
    FaceDetector,
    HaarDetector,
    crop_faces,
    detectors,
    get_detector,
    list_detectors,
    register_detector,
)

# The astronaut's face in the astronaut photo (512x512), as (x, y, width, height).
ASTRONAUT_FACE = (175, 72, 100, 100)
# The tile cut from the astronaut for the group image: face and some context.
TILE = (125, 30, 200, 200)
# (face size in px, tile x, tile y) on a 512x384 background; the faces are 44..110 px.
GROUP_SPOTS = ((110, 5, 5), (84, 222, 12), (64, 386, 20), (52, 40, 250), (44, 250, 280))
# (face size, face x, face y) on a 1600x1000 background: eight 40..50 px faces, four of them
# across inner edges of the default tiles (x = 363, 512, 725; y = 244, 488, 512), and a
# 150 px face (more than the tiles' 128 px overlap) across x = 875 and y = 244.
BIG_SIZE = (1000, 1600)
BIG_SPOTS = (
    (44, 100, 100),
    (46, 489, 150),  # x = 512
    (46, 1000, 489),  # y = 488 and 512
    (46, 340, 221),  # x = 363 and y = 244: a corner of four tiles
    (50, 1300, 800),
    (40, 700, 700),  # x = 725
    (48, 1450, 300),
    (42, 200, 850),
    (150, 840, 230),
)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def assert_matches(found: list[FaceBox], truth: list[tuple[float, ...]], min_iou: float) -> None:
    """Every true face is found (IoU >= min_iou) and every detection is a true face."""
    matrix = np.array([[iou(f.as_tuple(), t) for t in truth] for f in found]).reshape(
        len(found), len(truth)
    )
    assert len(found) == len(truth), (found, truth)
    assert (matrix.max(axis=0) >= min_iou).all(), matrix
    assert (matrix.max(axis=1) >= min_iou).all(), matrix


ASTRONAUT_JPG = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """skimage.data.astronaut() as shipped in examples/photos (so tests need no scikit-image)."""
    return np.asarray(Image.open(ASTRONAUT_JPG).convert("RGB"))


@pytest.fixture(scope="module")
def group(astronaut: np.ndarray) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """Five copies of the astronaut's head, 44..110 px faces, on a smooth colour gradient."""
    x, y, w, h = TILE
    tile = Image.fromarray(astronaut[y : y + h, x : x + w])
    height, width = 384, 512
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack([90 + 60 * xx / width, 110 + 40 * yy / height, 140 - 30 * xx / width])
    canvas = Image.fromarray(np.moveaxis(background, 0, -1).astype(np.uint8))
    truth: list[tuple[float, ...]] = []
    fx, fy, fw, _ = ASTRONAUT_FACE
    for face, px, py in GROUP_SPOTS:
        scale = face / fw
        side = round(w * scale)
        canvas.paste(tile.resize((side, side), Image.Resampling.BILINEAR), (px, py))
        truth.append((px + (fx - x) * scale, py + (fy - y) * scale, face, face))
    return np.asarray(canvas), truth


def gradient(height: int, width: int) -> Image.Image:
    """A smooth colour gradient, the background of the composed group images."""
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack([90 + 60 * xx / width, 110 + 40 * yy / height, 140 - 30 * xx / width])
    return Image.fromarray(np.moveaxis(background, 0, -1).astype(np.uint8))


def paste_faces(
    canvas: Image.Image, astronaut: np.ndarray, spots: tuple[tuple[int, int, int], ...]
) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """Paste the astronaut's head with its face (``size`` px) at each ``(size, x, y)``."""
    x, y, w, h = TILE
    tile = Image.fromarray(astronaut[y : y + h, x : x + w])
    fx, fy, fw, _ = ASTRONAUT_FACE
    canvas = canvas.copy()
    for face, px, py in spots:
        scale = face / fw
        side = round(w * scale)
        corner = (round(px - (fx - x) * scale), round(py - (fy - y) * scale))
        canvas.paste(tile.resize((side, side), Image.Resampling.BILINEAR), corner)
    return np.asarray(canvas), [(px, py, face, face) for face, px, py in spots]


@pytest.fixture(scope="module")
def big_group(astronaut: np.ndarray) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """Nine copies of the astronaut's head on a 1600x1000 gradient (see BIG_SPOTS)."""
    return paste_faces(gradient(*BIG_SIZE), astronaut, BIG_SPOTS)


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    return BlazeFaceDetector()


@pytest.fixture(scope="module")
def blazeface_short() -> BlazeFaceDetector:
    return BlazeFaceDetector("short")


# --------------------------------------------------------------------------------------------
# Anchors, decoding, NMS (no model needed)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["back", "short"])
def test_anchors(model: str) -> None:
    spec = detectors._BLAZEFACE_MODELS[model]
    anchors = detectors._ssd_anchors(spec.input_size, spec.strides)
    assert anchors.shape == (896, 2)
    assert not anchors.flags.writeable
    # First grid 16x16 cells, 2 anchors each; then one 8x8 grid (3 layers) with 6 each.
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])  # x moves first
    np.testing.assert_allclose(anchors[32], [0.5 / 16, 1.5 / 16])
    np.testing.assert_allclose(anchors[511], [15.5 / 16, 15.5 / 16])
    np.testing.assert_allclose(anchors[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_decode_synthetic_outputs() -> None:
    anchors = detectors._ssd_anchors(128, (8, 16, 16, 16))
    regressors = np.zeros((1, 896, 16), np.float32)
    logits = np.full((1, 896, 1), -100.0, np.float32)  # clipped to -80: no overflow
    # Anchor 600 (centre (x, y) in 0..1); box 32x16 input px, shifted by (+8, -4) px.
    regressors[0, 600, :4] = [8, -4, 32, 16]
    regressors[0, 600, 4:6] = [-10, 2]  # first keypoint relative to the anchor
    logits[0, 600, 0] = 2.0
    logits[0, 601, 0] = -1.0  # sigmoid 0.27: below min_score
    boxes, keypoints, scores = detectors._decode(regressors, logits, anchors, 128, 0.5)
    cx, cy = anchors[600]
    np.testing.assert_allclose(
        boxes, [[cx + (8 - 16) / 128, cy + (-4 - 8) / 128, cx + 24 / 128, cy + 4 / 128]], atol=1e-6
    )
    np.testing.assert_allclose(keypoints[0, 0], [cx - 10 / 128, cy + 2 / 128], atol=1e-6)
    np.testing.assert_allclose(keypoints[0, 1:], np.tile(anchors[600], (5, 1)), atol=1e-6)
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(-2.0))])
    assert detectors._decode(regressors, logits, anchors, 128, 0.95)[0].shape == (0, 4)


def test_weighted_nms_merges_overlaps_and_keeps_the_best_score() -> None:
    boxes = np.array(
        [[0.1, 0.1, 0.3, 0.3], [0.12, 0.1, 0.32, 0.3], [0.6, 0.6, 0.8, 0.8], [0.1, 0.1, 0.3, 0.3]]
    )
    keypoints = np.zeros((4, 6, 2))
    keypoints[:, 0, 0] = [1.0, 2.0, 5.0, 4.0]
    scores = np.array([0.9, 0.6, 0.7, 0.5])
    out_boxes, out_points, out_scores = detectors._weighted_nms(boxes, keypoints, scores, 0.3)
    np.testing.assert_allclose(out_scores, [0.9, 0.7])
    weights = np.array([0.9, 0.6, 0.5])
    np.testing.assert_allclose(out_boxes[0], weights @ boxes[[0, 1, 3]] / weights.sum())
    np.testing.assert_allclose(out_boxes[1], boxes[2])
    np.testing.assert_allclose(out_points[:, 0, 0], [(0.9 + 1.2 + 2.0) / 2.0, 5.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.01, 0.3), st.floats(0.01, 0.3)),
        min_size=1,
        max_size=25,
    ),
    st.floats(0.0, 0.9),
)
def test_weighted_nms_properties(raw: list[tuple[float, ...]], threshold: float) -> None:
    xywh = np.array(raw)
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    scores = np.linspace(0.99, 0.5, len(boxes))
    out_boxes, _, out_scores = detectors._weighted_nms(
        boxes, np.zeros((len(boxes), 6, 2)), scores, threshold
    )
    assert 1 <= len(out_scores) <= len(boxes)
    assert out_scores[0] == scores.max()
    assert (np.diff(out_scores) <= 0).all()
    assert (out_boxes[:, :2] >= boxes[:, :2].min(axis=0) - 1e-9).all()
    assert (out_boxes[:, 2:] <= boxes[:, 2:].max(axis=0) + 1e-9).all()


# --------------------------------------------------------------------------------------------
# BlazeFace on real pixels
# --------------------------------------------------------------------------------------------


def test_blazeface_finds_the_astronaut(
    astronaut: np.ndarray, blazeface: BlazeFaceDetector, blazeface_short: BlazeFaceDetector
) -> None:
    for detector in (blazeface, blazeface_short):
        (face,) = detector.detect(astronaut)
        assert iou(face.as_tuple(), ASTRONAUT_FACE) >= 0.7, face
        assert 0.5 <= face.score <= 1.0
        # Keypoints: the eye on the image's left first, then the other eye, nose, mouth.
        (lx, ly), (rx, ry), (nx, ny), (mx, my) = face.keypoints[:4]
        assert len(face.keypoints) == 6
        assert face.x < lx < nx < rx < face.x + face.width
        assert lx < mx < rx
        assert max(ly, ry) < ny < my < face.y + face.height


def test_blazeface_group_photo(
    group: tuple[np.ndarray, list], blazeface: BlazeFaceDetector
) -> None:
    image, truth = group
    faces = blazeface.detect(image)
    assert_matches(faces, truth, 0.5)
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    assert len(BlazeFaceDetector(max_faces=2).detect(image)) == 2


def test_blazeface_undoes_the_letterbox(
    astronaut: np.ndarray, blazeface: BlazeFaceDetector
) -> None:
    # The same face in a tall and a wide frame: the boxes move with the face.
    tall = np.full((900, 600, 3), 128, np.uint8)
    tall[300:812, 40:552] = astronaut
    wide = np.full((500, 1000, 3), 128, np.uint8)
    wide[:, 400:912] = astronaut[6:506]
    x, y, w, h = ASTRONAUT_FACE
    (face,) = blazeface.detect(tall)
    assert iou(face.as_tuple(), (x + 40, y + 300, w, h)) >= 0.7, face
    (face,) = blazeface.detect(wide)
    assert iou(face.as_tuple(), (x + 400, y - 6, w, h)) >= 0.7, face


def test_boxes_are_clipped_to_the_image(
    astronaut: np.ndarray, blazeface: BlazeFaceDetector
) -> None:
    cut = np.ascontiguousarray(astronaut[120:, 220:])  # the face's top-left part is cut off
    for face in blazeface.detect(cut):
        assert face.x >= 0 and face.y >= 0
        assert face.x + face.width <= cut.shape[1] and face.y + face.height <= cut.shape[0]


@pytest.mark.parametrize("kind", ["blank", "noise", "tiny"])
def test_no_face(
    kind: str, blazeface: BlazeFaceDetector, blazeface_short: BlazeFaceDetector
) -> None:
    rng = np.random.default_rng(0)
    image = {
        "blank": np.full((300, 400, 3), 200, np.uint8),
        "noise": rng.integers(0, 256, (300, 400, 3), dtype=np.uint8),
        "tiny": rng.integers(0, 256, (15, 400, 3), dtype=np.uint8),
    }[kind]
    assert blazeface.detect(image) == []
    assert blazeface_short.detect(image) == []


def test_grey_input(astronaut: np.ndarray, blazeface: BlazeFaceDetector) -> None:
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    for image in (grey, grey[:, :, np.newaxis]):
        (face,) = blazeface.detect(image)
        assert iou(face.as_tuple(), ASTRONAUT_FACE) >= 0.7


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((32, 32, 4), np.uint8), r"shape \(32, 32, 4\)"),
        (np.zeros((32, 32, 3), np.float32), "dtype float32"),
        (np.zeros((2, 32, 32, 3), np.uint8), "expected"),
        ([[0, 0], [0, 0]], "NumPy array"),
    ],
)
def test_bad_input(image: object, match: str, blazeface: BlazeFaceDetector) -> None:
    with pytest.raises(ValueError, match=match):
        blazeface.detect(image)  # type: ignore[arg-type]


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="unknown BlazeFace model 'front'"):
        BlazeFaceDetector("front")
    with pytest.raises(ValueError, match="min_score"):
        BlazeFaceDetector(min_score=1.5)
    with pytest.raises(ValueError, match="max_faces"):
        BlazeFaceDetector(max_faces=0)
    for tiles in ("yes", 0, -2, True, 2.5):
        with pytest.raises(ValueError, match="tiles="):
            BlazeFaceDetector(tiles=tiles)  # type: ignore[arg-type]
    assert BlazeFaceDetector("short_range").model == "short"
    assert BlazeFaceDetector(tiles=np.int64(3)).tiles == 3
    assert repr(BlazeFaceDetector(tiles=None)).endswith("max_faces=None, tiles=None)")


def test_detect_is_thread_safe_and_pickles(group: tuple[np.ndarray, list]) -> None:
    image, _ = group
    detector = BlazeFaceDetector(min_score=0.6)
    expected = detector.detect(image)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detector.detect(image), range(8)))
    assert all(r == expected for r in results)
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.detect(image) == expected
    assert isinstance(detector, FaceDetector)
    # The same with tiles (several inferences a call, one interpreter).
    tiled = BlazeFaceDetector(tiles=2)
    expected = tiled.detect(image)
    interpreter = tiled._interpreter
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: tiled.detect(image), range(6)))
    assert all(r == expected for r in results)
    assert tiled._interpreter is interpreter
    copy = pickle.loads(pickle.dumps(tiled))
    assert copy.tiles == 2 and copy.detect(image) == expected


# --------------------------------------------------------------------------------------------
# Tiles: small faces in large images
# --------------------------------------------------------------------------------------------


def single_pass(detector: BlazeFaceDetector, image: np.ndarray) -> list[FaceBox]:
    """The detector's whole-image pass alone, from its parts (what detect did before tiles)."""
    size = detector.input_size
    tensor, box = detectors._letterbox(image, size)
    regressors, logits = detector._infer(tensor)
    boxes, points, scores = detectors._decode(
        regressors, logits, detector._anchors, size, detector.min_score
    )
    if len(scores) == 0:
        return []
    boxes, points, scores = detectors._weighted_nms(boxes, points, scores, detector.iou_threshold)
    return detectors._to_face_boxes(boxes, points, scores, box, image.shape[:2])


def inner_edges(grid: list[tuple[int, int, int, int]], size: tuple[int, int]) -> tuple[set, set]:
    """x and y of the tile edges that are not on the image's border."""
    height, width = size
    xs = {x for x0, _, x1, _ in grid for x in (x0, x1) if 0 < x < width}
    ys = {y for _, y0, _, y1 in grid for y in (y0, y1) if 0 < y < height}
    return xs, ys


@pytest.mark.parametrize(
    ("size", "tiles", "expected"),
    [
        ((512, 512), "auto", []),  # not longer than twice the model input: no tiles
        ((384, 512), "auto", []),
        ((480, 640), "auto", [(0, 0, 512, 480), (128, 0, 640, 480)]),
        ((800, 1280), "auto", [(x, y, x + 512, y + 512) for y in (0, 288) for x in (0, 384, 768)]),
        (
            (1000, 1600),
            "auto",
            [(x, y, x + 512, y + 512) for y in (0, 244, 488) for x in (0, 363, 725, 1088)],
        ),
        (
            (3000, 4000),
            "auto",
            [(x, y, x + 1231, y + 1231) for y in (0, 884, 1769) for x in (0, 923, 1846, 2769)],
        ),  # 4 along the longer side at most
        ((900, 900), 3, [(x, y, x + 360, y + 360) for y in (0, 270, 540) for x in (0, 270, 540)]),
        ((512, 512), 2, [(x, y, x + 293, y + 293) for y in (0, 219) for x in (0, 219)]),
        ((2000, 3000), 1, []),
        ((2000, 3000), None, []),
    ],
)
def test_tile_grid(size: tuple[int, int], tiles: str | int | None, expected: list) -> None:
    assert detectors._tile_grid(size, tiles, 256) == expected


@settings(max_examples=80, deadline=None)
@given(
    st.integers(16, 5000),
    st.integers(16, 5000),
    st.one_of(st.just("auto"), st.integers(2, 12)),
    st.sampled_from([128, 256]),
)
def test_tile_grid_covers_the_image_with_overlap(
    height: int, width: int, tiles: str | int, input_size: int
) -> None:
    longer = max(height, width)
    grid = detectors._tile_grid((height, width), tiles, input_size)
    if tiles == "auto" and longer <= 2 * input_size:
        assert grid == []
        return
    if isinstance(tiles, int) and longer / (tiles - 0.25 * (tiles - 1)) < 16:
        return  # tiles would be under 16 px: fewer, larger ones (or none)
    side = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in grid)
    xs = sorted({(x0, x1) for x0, _, x1, _ in grid})
    ys = sorted({(y0, y1) for _, y0, _, y1 in grid})
    assert len(grid) == len(xs) * len(ys)
    if isinstance(tiles, int):
        assert len(xs if width >= height else ys) == tiles
    else:
        assert side >= 2 * input_size and max(len(xs), len(ys)) <= 4
    for spans, length in ((xs, width), (ys, height)):
        assert spans[0][0] == 0 and spans[-1][1] == length  # covered, inside the image
        assert all(b - a == min(side, length) for a, b in spans)  # square unless clipped
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end - start >= 0.25 * side - 1  # overlap, up to rounding


def test_tile_keep_drops_cut_and_large_faces() -> None:
    tile = (363, 0, 875, 512)  # a tile of the 1600x1000 grid: inner edges left, right, bottom
    boxes = np.array(
        [
            [400, 100, 460, 160],  # inside: kept
            [370, 100, 430, 160],  # within 8 px (1/64 of 512) of the left edge: dropped
            [840, 100, 880, 140],  # across the right edge: dropped
            [500, 470, 540, 510],  # near the bottom edge: dropped
            [500, 0, 560, 60],  # on the image's top border: kept
            [500, 200, 630, 300],  # 130 px wide, more than the 128 px overlap: dropped
        ],
        dtype=np.float64,
    )
    keep = detectors._tile_keep(boxes, tile, BIG_SIZE)
    assert keep.tolist() == [True, False, False, False, True, False]


def test_tiles_find_small_faces(big_group: tuple[np.ndarray, list]) -> None:
    image, truth = big_group
    detector = BlazeFaceDetector()
    faces = detector.detect(image)
    assert_matches(faces, truth, 0.5)  # all nine, one box each
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    assert all(len(f.keypoints) == 6 for f in faces)
    # The whole image at 256 px leaves 7 px faces: the single pass misses the small ones.
    single = BlazeFaceDetector(tiles=None).detect(image)
    found = [t for t in truth if any(iou(f.as_tuple(), t) >= 0.5 for f in single)]
    assert all(t[2] >= 100 for t in found), single
    # The interpreter keeps its (1, 256, 256, 3) input: one inference per tile.
    (details,) = detector._interpreter.get_input_details()
    assert details["shape"].tolist() == [1, 256, 256, 3]


def test_a_face_across_tile_edges_gives_one_box(big_group: tuple[np.ndarray, list]) -> None:
    image, truth = big_group
    xs, ys = inner_edges(detectors._tile_grid(image.shape[:2], "auto", 256), image.shape[:2])
    across = [
        t
        for t in truth
        if any(t[0] < x < t[0] + t[2] for x in xs) or any(t[1] < y < t[1] + t[3] for y in ys)
    ]
    assert len(across) == 5  # the fixture does put faces across edges
    faces = BlazeFaceDetector().detect(image)
    for face in across:
        overlapping = [f for f in faces if iou(f.as_tuple(), face) > 0]
        assert len(overlapping) == 1, (face, overlapping)
        assert iou(overlapping[0].as_tuple(), face) >= 0.6, (face, overlapping)


@pytest.mark.parametrize("face", [46, 80, 140])
def test_a_face_moving_across_a_tile_corner(astronaut: np.ndarray, face: int) -> None:
    # 1024x683: tiles (0, 0, 512, 512) and (256, 0, 768, 512), (0, 171, 512, 683)...; the face
    # slides diagonally across the corner (512, 512) of the first tile.
    background = gradient(683, 1024)
    detector = BlazeFaceDetector()
    assert detectors._tile_grid((683, 1024), "auto", 256)[0] == (0, 0, 512, 512)
    for t in np.linspace(-1.0, 0.0, 5):
        spot = (face, round(512 + t * face), round(512 + 0.6 * t * face))
        image, (truth,) = paste_faces(background, astronaut, (spot,))
        faces = detector.detect(image)
        assert len(faces) == 1 and iou(faces[0].as_tuple(), truth) >= 0.5, (spot, faces)


def test_tiles_none_is_the_single_pass(
    big_group: tuple[np.ndarray, list], group: tuple[np.ndarray, list], astronaut: np.ndarray
) -> None:
    for model in ("back", "short"):
        untiled = BlazeFaceDetector(model, tiles=None)
        for image in (big_group[0], group[0], astronaut):
            expected = single_pass(untiled, image)
            faces = untiled.detect(image)
            assert faces == expected
            assert [f.keypoints for f in faces] == [f.keypoints for f in expected]
    # "auto" is the single pass up to 512 px, and always with the close-up model.
    auto = BlazeFaceDetector()
    for image in (group[0], astronaut):
        assert auto.detect(image) == single_pass(auto, image)
    short = BlazeFaceDetector("short")
    assert short.detect(big_group[0]) == single_pass(short, big_group[0])


def test_import_is_light() -> None:
    code = (
        "import sys, emorec.faces; "
        "print(sorted(m for m in ('tensorflow', 'cv2', 'keras') if m in sys.modules))"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------
# Haar
# --------------------------------------------------------------------------------------------


def test_haar_finds_the_astronaut(astronaut: np.ndarray) -> None:
    pytest.importorskip("cv2")
    detector = get_detector("haar")
    assert isinstance(detector, HaarDetector)
    (face,) = detector.detect(astronaut)
    assert iou(face.as_tuple(), ASTRONAUT_FACE) >= 0.7, face
    assert 0.5 < face.score <= 1.0
    assert face.keypoints == ()
    assert detector.detect(np.full((100, 100), 30, np.uint8)) == []


# --------------------------------------------------------------------------------------------
# Registry and plugins
# --------------------------------------------------------------------------------------------


class Fixed:
    """A detector that always finds the same box."""

    def __init__(self, box: tuple[int, int, int, int] = (1, 2, 3, 4)) -> None:
        self.box = box

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        return [FaceBox(*self.box, 1.0)]


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch):
    """Let a test load entry points again, and forget what it registered afterwards."""
    monkeypatch.setattr(detectors, "_registry", dict(detectors._registry))
    monkeypatch.setattr(detectors, "_entry_points_loaded", False)
    return detectors


def test_builtin_names_and_default(fresh_registry) -> None:
    assert {"blazeface", "blazeface_short", "haar"} <= set(list_detectors())
    default = get_detector()
    assert isinstance(default, BlazeFaceDetector) and default.model == "back"
    short = get_detector("blazeface_short", min_score=0.7)
    assert isinstance(short, BlazeFaceDetector)
    assert (short.model, short.min_score) == ("short", 0.7)


def test_register_by_call_and_decorator(fresh_registry) -> None:
    assert register_detector("fixed", Fixed) is Fixed
    assert get_detector("fixed", box=(5, 6, 7, 8)).detect(np.zeros((20, 20, 3), np.uint8)) == [
        FaceBox(5, 6, 7, 8, 1.0)
    ]

    @register_detector("fixed_fn")
    def make(**kwargs: object) -> Fixed:
        return Fixed()

    assert make.__name__ == "make"
    assert isinstance(get_detector("fixed_fn"), Fixed)
    assert list_detectors("fixed*") == ["fixed", "fixed_fn"]


def test_duplicate_override_and_unknown(fresh_registry) -> None:
    register_detector("fixed", Fixed)
    register_detector("fixed", Fixed)  # the same factory again is fine
    with pytest.raises(ValueError, match="'fixed' is registered already.*override=True"):
        register_detector("fixed", lambda: Fixed())
    with pytest.raises(ValueError, match="'blazeface' is registered already"):
        register_detector("blazeface")(Fixed)
    register_detector("blazeface", Fixed, override=True)
    assert isinstance(get_detector(), Fixed)
    with pytest.raises(KeyError, match=r"'blazefase'; did you mean blazeface.*haar"):
        get_detector("blazefase")
    with pytest.raises(ValueError, match="non-empty"):
        register_detector("", Fixed)
    with pytest.raises(ValueError, match="reserved"):
        register_detector("default", Fixed)


def test_get_detector_objects(fresh_registry) -> None:
    fixed = Fixed()
    assert get_detector(fixed) is fixed
    with pytest.raises(TypeError, match="ready detector object"):
        get_detector(fixed, min_score=0.3)
    with pytest.raises(TypeError, match="expected a registered name"):
        get_detector(42)  # type: ignore[arg-type]
    register_detector("not_a_detector", lambda: object())
    with pytest.raises(TypeError, match="no detect"):
        get_detector("not_a_detector")


PLUGIN_SOURCE = '''
from emorec.faces import FaceBox


class CornerDetector:
    """Finds a "face" in the top-left corner."""

    def __init__(self, size=8):
        self.size = size

    def detect(self, image):
        return [FaceBox(0, 0, self.size, self.size, 0.5)]
'''


def install_detector_plugin(root: Path, *, broken: bool = False) -> Path:
    """A face detector plugin (``corner``), with a broken entry point if ``broken``."""
    entries = {"corner": "emorec_test_face_plugin:CornerDetector"}
    if broken:
        entries["broken_faces"] = "emorec_test_face_plugin_missing:nothing"
    return write_distribution(
        root, "emorec_test_face_plugin", PLUGIN_SOURCE, "emorec.detectors", entries
    )


def test_entry_point_plugin_and_broken_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry
) -> None:
    monkeypatch.syspath_prepend(str(install_detector_plugin(tmp_path / "site", broken=True)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = list_detectors()
        list_detectors()  # loaded once: no second warning
    assert "corner" in names and "broken_faces" not in names
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert "broken_faces" in messages[0] and "emorec_test_face_plugin_missing" in messages[0]
    assert "emorec-test-face-plugin" in messages[0]
    assert get_detector("corner", size=5).detect(np.zeros((9, 9, 3), np.uint8)) == [
        FaceBox(0, 0, 5, 5, 0.5)
    ]
    monkeypatch.delitem(sys.modules, "emorec_test_face_plugin", raising=False)


# --------------------------------------------------------------------------------------------
# FaceBox and crop_faces
# --------------------------------------------------------------------------------------------


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
    with pytest.raises(AttributeError):
        box.x = 5  # type: ignore[misc]


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
    # Past the bottom-right corner, and entirely outside the image.
    (crop,) = crop_faces(coded, [(26, 16, 6, 6)], size=(6, 6), margin=0.0, color_mode="rgb")
    np.testing.assert_array_equal(crop, np.pad(coded[16:, 26:], ((0, 2), (0, 2), (0, 0)), "edge"))
    (crop,) = crop_faces(coded, [(100, -50, 4, 4)], size=(4, 4), margin=0.0, color_mode="rgb")
    assert (crop == coded[0, -1]).all()


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
        crop_faces(coded, [(1, 2, 3)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="color_mode"):
        crop_faces(coded, [], color_mode="bgr")
    with pytest.raises(ValueError, match="size"):
        crop_faces(coded, [], size=(0, 48))
    with pytest.raises(ValueError, match="margin"):
        crop_faces(coded, [], margin=-0.5)
    with pytest.raises(ValueError, match="dtype float64"):
        crop_faces(coded.astype(float), [])


def test_detect_then_crop(astronaut: np.ndarray, blazeface: BlazeFaceDetector) -> None:
    faces = blazeface.detect(astronaut)
    crops = crop_faces(astronaut, faces)
    assert crops.shape == (1, 48, 48, 1)
    assert 60 < crops.mean() < 200  # a face, not padding
