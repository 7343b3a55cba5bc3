"""Tests for :mod:`emorec.faces.tiling`: the tile grid and which tile detections are kept
(the detector with tiles is tested in ``test_blazeface.py``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emorec.faces.tiling import box_side, keep_in_tile, keep_in_whole, tile_grid


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
    assert tile_grid(size, tiles, 256) == expected


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
    grid = tile_grid((height, width), tiles, input_size)
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
    keep = keep_in_tile(boxes, tile, (1000, 1600))
    assert keep.tolist() == [True, False, False, False, True, False]


def test_keep_in_whole_leaves_small_faces_to_the_tiles() -> None:
    grid = [(0, 0, 512, 512), (384, 0, 896, 512)]
    boxes = np.array([[0, 0, 63, 40], [0, 0, 64, 40], [10, 10, 20, 300]], dtype=np.float64)
    np.testing.assert_array_equal(box_side(boxes), [63, 64, 290])
    assert keep_in_whole(boxes, grid).tolist() == [False, True, True]  # 1/8 of 512 = 64
