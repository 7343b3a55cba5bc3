"""Tests for :mod:`emorec.faces` (detectors, registry, crops)."""

from __future__ import annotations

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
    assert BlazeFaceDetector("short_range").model == "short"


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
    """Write a real distribution (module + ``*.dist-info`` with ``entry_points.txt``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "emorec_test_face_plugin.py").write_text(PLUGIN_SOURCE)
    info = root / "emorec_test_face_plugin-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: emorec-test-face-plugin\nVersion: 1.0\n"
    )
    lines = ["[emorec.detectors]", "corner = emorec_test_face_plugin:CornerDetector"]
    if broken:
        lines.append("broken_faces = emorec_test_face_plugin_missing:nothing")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return root


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
