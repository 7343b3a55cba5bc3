"""Tests for :mod:`emorec.faces.blazeface`: anchors, decoding, NMS, letterbox, the detector on
real pixels, tiles of large photos, keypoints, threads and pickling."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from emorec.faces import BlazeFaceDetector, FaceBox, FaceDetector
from emorec.faces import blazeface as blazeface_module
from emorec.faces.blazeface import (
    BLAZEFACE_MODELS,
    KEYPOINT_NAMES,
    Letterbox,
    decode,
    face_boxes,
    letterbox,
    ssd_anchors,
    to_image_pixels,
    weighted_nms,
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


@pytest.mark.parametrize("model", ["back", "short"])
def test_anchors(model: str) -> None:
    spec = BLAZEFACE_MODELS[model]
    anchors = ssd_anchors(spec.input_size, spec.strides)
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
    anchors = ssd_anchors(128, (8, 16, 16, 16))
    regressors = np.zeros((1, 896, 16), np.float32)
    logits = np.full((1, 896, 1), -100.0, np.float32)  # clipped to -80: no overflow
    # Anchor 600 (centre (x, y) in 0..1); box 32x16 input px, shifted by (+8, -4) px.
    regressors[0, 600, :4] = [8, -4, 32, 16]
    regressors[0, 600, 4:6] = [-10, 2]  # first keypoint relative to the anchor
    logits[0, 600, 0] = 2.0
    logits[0, 601, 0] = -1.0  # sigmoid 0.27: below min_score
    boxes, keypoints, scores = decode(regressors, logits, anchors, 128, 0.5)
    cx, cy = anchors[600]
    np.testing.assert_allclose(
        boxes, [[cx + (8 - 16) / 128, cy + (-4 - 8) / 128, cx + 24 / 128, cy + 4 / 128]], atol=1e-6
    )
    np.testing.assert_allclose(keypoints[0, 0], [cx - 10 / 128, cy + 2 / 128], atol=1e-6)
    np.testing.assert_allclose(keypoints[0, 1:], np.tile(anchors[600], (5, 1)), atol=1e-6)
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(-2.0))])
    assert decode(regressors, logits, anchors, 128, 0.95)[0].shape == (0, 4)


def test_weighted_nms_merges_overlaps_and_keeps_the_best_score() -> None:
    boxes = np.array(
        [[0.1, 0.1, 0.3, 0.3], [0.12, 0.1, 0.32, 0.3], [0.6, 0.6, 0.8, 0.8], [0.1, 0.1, 0.3, 0.3]]
    )
    keypoints = np.zeros((4, 6, 2))
    keypoints[:, 0, 0] = [1.0, 2.0, 5.0, 4.0]
    scores = np.array([0.9, 0.6, 0.7, 0.5])
    out_boxes, out_points, out_scores = weighted_nms(boxes, keypoints, scores, 0.3)
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
    out_boxes, _, out_scores = weighted_nms(boxes, np.zeros((len(boxes), 6, 2)), scores, threshold)
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


def test_keypoints_of_the_astronaut(astronaut: np.ndarray, blazeface: BlazeFaceDetector) -> None:
    (face,) = blazeface.detect(astronaut)
    assert face.keypoints is not None and len(face.keypoints) == len(KEYPOINT_NAMES) == 6
    points = dict(zip(KEYPOINT_NAMES, face.keypoints))
    for name in ("right_eye", "left_eye", "nose_tip", "mouth_centre"):
        px, py = points[name]
        assert face.x <= px <= face.x + face.width and face.y <= py <= face.y + face.height, name
    mouth_y = points["mouth_centre"][1]
    assert points["right_eye"][1] < mouth_y and points["left_eye"][1] < mouth_y
    # The subject's right eye is on the image's left; the ears are outside the eyes.
    assert points["right_ear_tragion"][0] < points["right_eye"][0] < points["left_eye"][0]
    assert points["left_eye"][0] < points["left_ear_tragion"][0]
    # Keypoints move with the face: shift the photo in a larger frame.
    frame = np.full((700, 800, 3), 128, np.uint8)
    frame[100:612, 250:762] = astronaut
    (moved,) = blazeface.detect(frame)
    assert moved.keypoints is not None
    np.testing.assert_allclose(
        np.array(moved.keypoints) - (250, 100), np.array(face.keypoints), atol=4.0
    )


def test_letterbox_round_trip() -> None:
    tensor, box = letterbox(np.full((100, 200, 3), 255, np.uint8), 128)
    assert box == Letterbox(size=128, pad_x=0, pad_y=32, scale_x=0.64, scale_y=0.64)
    assert tensor.shape == (1, 128, 128, 3) and tensor.dtype == np.float32
    assert (tensor[0, :32] == -1).all() and (tensor[0, 32:96] == 1).all()  # black pad, white
    # The model-input point (0.5, 0.5) is the image's centre; a tile origin shifts it.
    corners = np.array([[0.0, 0.25, 1.0, 0.75]])
    points = np.array([[[0.5, 0.5]] * 6])
    boxes, pixels = to_image_pixels(corners, points, box, origin=(10, 20))
    np.testing.assert_allclose(boxes, [[10, 20, 210, 120]])
    np.testing.assert_allclose(pixels[0], [[110, 70]] * 6)


@pytest.mark.parametrize("shape", [(601, 901), (1601, 2563), (683, 1024), (257, 1031)])
def test_letterbox_large_shrink_matches_one_area_resize(shape: tuple[int, int]) -> None:
    """Halvings then one area resize: the picture of one area resize, and positions that map
    back to the source within a pixel of the model input, odd sides included."""
    import cv2

    rng = np.random.default_rng(0)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (0, 0), 6)
    height, width = shape
    x0, y0, side = width * 3 // 4, height * 3 // 4, max(24, min(shape) // 6)
    rgb[y0 : y0 + side, x0 : x0 + side] = 255
    tensor, box = letterbox(rgb, 256)
    new_w, new_h = (min(256, round(side_px * 256 / max(shape))) for side_px in (width, height))
    reference = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA)
    window = tensor[0, box.pad_y : box.pad_y + new_h, box.pad_x : box.pad_x + new_w]
    pixels = (window + 1) * 255 / 2
    assert np.abs(pixels - reference).mean() < 3  # 0..255 levels
    # the bright square's centre, found in the model input, maps back to the source's
    bright = np.argwhere(pixels.min(axis=2) > 250)
    cy, cx = (bright.mean(axis=0) + 0.5 + (box.pad_y, box.pad_x)) / 256
    _, points = to_image_pixels(np.zeros((1, 4)), np.array([[[cx, cy]] * 6]), box)
    np.testing.assert_allclose(points[0, 0], (x0 + side / 2, y0 + side / 2), atol=1 / box.scale_x)


def test_face_boxes_clip_boxes_and_keep_keypoints() -> None:
    corners = np.array([[-5.2, 3.0, 20.4, 30.0], [50.0, 50.0, 60.0, 60.0]])
    points = np.full((2, 6, 2), -3.0)
    (face,) = face_boxes(corners, points, np.array([0.8, 0.7]), (25, 40))  # second: outside
    assert face == FaceBox(0, 3, 20, 22, 0.8)
    assert face.keypoints == ((-3.0, -3.0),) * 6


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


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every interpreter the detectors load from now on (the real ones, recorded)."""
    loaded: list[Any] = []
    real = blazeface_module.load_tflite_interpreter

    def recording(model_content: bytes, num_threads: int | None) -> Any:
        loaded.append(real(model_content, num_threads))
        return loaded[-1]

    monkeypatch.setattr(blazeface_module, "load_tflite_interpreter", recording)
    return loaded


def test_detect_is_thread_safe_and_pickles(group: tuple[np.ndarray, list], loads: list) -> None:
    image, _ = group
    detector = BlazeFaceDetector(min_score=0.6)
    expected = detector.detect(image)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detector.detect(image), range(8)))
    assert all(r == expected for r in results)
    assert len(loads) == 1  # one interpreter, loaded on the first detect
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.detect(image) == expected
    assert len(loads) == 2  # the copy loads its own
    assert isinstance(detector, FaceDetector)
    # The same with tiles (several inferences a call, one interpreter).
    tiled = BlazeFaceDetector(tiles=2)
    expected = tiled.detect(image)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: tiled.detect(image), range(6)))
    assert all(r == expected for r in results)
    assert all([f.keypoints for f in r] == [f.keypoints for f in expected] for r in results)
    assert len(loads) == 3
    copy = pickle.loads(pickle.dumps(tiled))
    assert copy.tiles == 2 and copy.detect(image) == expected


# --------------------------------------------------------------------------------------------
# Tiles: small faces in large images
# --------------------------------------------------------------------------------------------


def inner_edges(grid: list[tuple[int, int, int, int]], size: tuple[int, int]) -> tuple[set, set]:
    """x and y of the tile edges that are not on the image's border."""
    height, width = size
    xs = {x for x0, _, x1, _ in grid for x in (x0, x1) if 0 < x < width}
    ys = {y for _, y0, _, y1 in grid for y in (y0, y1) if 0 < y < height}
    return xs, ys


def test_tiles_find_small_faces(big_group: tuple[np.ndarray, list], loads: list) -> None:
    image, truth = big_group
    detector = BlazeFaceDetector()
    assert len(detector.tile_grid(image.shape[:2])) == 12
    faces = detector.detect(image)
    assert_matches(faces, truth, 0.5)  # all nine, one box each
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    assert all(len(f.keypoints) == 6 for f in faces)
    # The whole image at 256 px leaves 7 px faces: the single pass misses the small ones.
    single = BlazeFaceDetector(tiles=None).detect(image)
    found = [t for t in truth if any(iou(f.as_tuple(), t) >= 0.5 for f in single)]
    assert all(t[2] >= 100 for t in found), single
    # The interpreter keeps its (1, 256, 256, 3) input: one inference per tile.
    (details,) = loads[0].get_input_details()
    assert details["shape"].tolist() == [1, 256, 256, 3]


def test_a_face_across_tile_edges_gives_one_box(big_group: tuple[np.ndarray, list]) -> None:
    image, truth = big_group
    xs, ys = inner_edges(BlazeFaceDetector().tile_grid(image.shape[:2]), image.shape[:2])
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
    assert detector.tile_grid((683, 1024))[0] == (0, 0, 512, 512)
    for t in np.linspace(-1.0, 0.0, 5):
        spot = (face, round(512 + t * face), round(512 + 0.6 * t * face))
        image, (truth,) = paste_faces(background, astronaut, (spot,))
        faces = detector.detect(image)
        assert len(faces) == 1 and iou(faces[0].as_tuple(), truth) >= 0.5, (spot, faces)


def test_tiles_none_is_the_single_pass(
    big_group: tuple[np.ndarray, list], group: tuple[np.ndarray, list], astronaut: np.ndarray
) -> None:
    def same(a: list[FaceBox], b: list[FaceBox]) -> bool:
        return a == b and [f.keypoints for f in a] == [f.keypoints for f in b]

    for model in ("back", "short"):
        untiled = BlazeFaceDetector(model, tiles=None)
        one = BlazeFaceDetector(model, tiles=1)  # one tile: the whole image
        assert untiled.tile_grid(big_group[0].shape[:2]) == []
        for image in (big_group[0], group[0], astronaut):
            assert same(untiled.detect(image), one.detect(image))
    # "auto" is the single pass up to 512 px, and always with the close-up model.
    auto, untiled = BlazeFaceDetector(), BlazeFaceDetector(tiles=None)
    for image in (group[0], astronaut):
        assert same(auto.detect(image), untiled.detect(image))
    short, short_untiled = BlazeFaceDetector("short"), BlazeFaceDetector("short", tiles=None)
    assert same(short.detect(big_group[0]), short_untiled.detect(big_group[0]))


def test_a_close_up_is_one_pass_whatever_its_size(astronaut: np.ndarray) -> None:
    """A large photo whose faces are all large (a portrait) skips the tiles; one with a
    smaller face among them, which the whole-image pass sees, keeps them."""
    detector = BlazeFaceDetector()
    passes: list[int] = []
    real = detector._infer_each

    def counting(tensors: list[Any]) -> Any:
        passes.append(len(tensors))
        return real(tensors)

    detector._infer_each = counting  # type: ignore[method-assign]
    portrait, truth = paste_faces(gradient(1200, 1600), astronaut, ((320, 600, 350),))
    faces = detector.detect(portrait)
    assert len(detector.tile_grid(portrait.shape[:2])) > 1 and passes == [1]
    assert_matches(faces, truth, 0.5)
    passes.clear()
    two, truth = paste_faces(gradient(1200, 1600), astronaut, ((320, 300, 350), (200, 1150, 450)))
    faces = detector.detect(two)
    assert passes == [1, len(detector.tile_grid(two.shape[:2]))]  # the whole image, then tiles
    assert all(any(iou(f.as_tuple(), t) >= 0.5 for f in faces) for t in truth), faces
    # an int forces the tiles on a close-up too
    assert len(BlazeFaceDetector(tiles=3).detect(portrait)) == 1


def test_without_opencv_pillow_resizes_to_the_same_detections(monkeypatch):
    """The core install has no OpenCV: BlazeFace's input is resized by Pillow, by the same
    steps (halvings, then an area resize), and finds the same faces."""
    from pathlib import Path

    from emorec import load_image
    from emorec.faces import blazeface

    photos = sorted((Path(__file__).resolve().parents[1] / "examples" / "photos").glob("*.jpg"))
    assert len(photos) >= 5
    detector = blazeface.BlazeFaceDetector()
    with_cv2 = {p.name: detector.detect(load_image(p)) for p in photos}
    for size in (128, 256):
        image = load_image(photos[0])
        a, box_a = blazeface.letterbox(image, size)
        monkeypatch.setattr(blazeface, "_opencv", lambda: None)
        b, box_b = blazeface.letterbox(image, size)
        monkeypatch.undo()
        assert box_a == box_b
        assert np.abs(a - b).mean() < 0.01  # of the [-1, 1] range
    monkeypatch.setattr(blazeface, "_opencv", lambda: None)
    for photo in photos:
        found = detector.detect(load_image(photo))
        expected = with_cv2[photo.name]
        assert len(found) == len(expected), photo.name
        for f in found:  # each face is one OpenCV's resize found (tiles merge a little apart)
            assert max(_iou(f.as_tuple(), e.as_tuple()) for e in expected) >= 0.8, photo.name


def _iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)
