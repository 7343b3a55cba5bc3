"""Overlapping square tiles of a large photo, so that a detector with a small input finds small
faces, and the rules that merge what the tiles and the whole image find.

A large photo shrunk to BlazeFace's 256 px input leaves its small faces a few pixels wide; run
on tiles, the model sees them at a larger scale. :func:`tile_grid` lays the tiles out;
:func:`keep_in_tile` and :func:`keep_in_whole` drop the detections that would not merge into one
box a face (see :class:`~emorec.faces.BlazeFaceDetector` for the whole procedure).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from .boxes import MIN_IMAGE_SIZE

__all__ = [
    "AUTO_MAX_TILES",
    "AUTO_TILE_INPUTS",
    "CLOSE_UP_FACE",
    "TILE_EDGE_MARGIN",
    "TILE_MAX_FACE",
    "TILE_OVERLAP",
    "WHOLE_MIN_FACE",
    "Tile",
    "box_side",
    "is_close_up",
    "keep_in_tile",
    "keep_in_whole",
    "tile_grid",
]

#: Neighbouring tiles overlap by at least this fraction of the tile side.
TILE_OVERLAP: Final[float] = 0.25
#: ``tiles="auto"``: tile side = this many model inputs; images longer than that get tiles.
AUTO_TILE_INPUTS: Final[int] = 2
#: ``tiles="auto"``: at most this many tiles along the longer side (larger tiles beyond).
AUTO_MAX_TILES: Final[int] = 4
#: A tile detection reaching this close (fraction of the tile side) to an edge the tile shares
#: with a neighbour is dropped: the face may be cut there, and the overlap shows it whole in
#: another tile (or the whole-image pass finds it).
TILE_EDGE_MARGIN: Final[float] = 1 / 64
#: Tile detections larger than this fraction of the tile side are dropped: a face that large
#: may not lie whole in any tile, and it is large enough for the whole-image pass, which sees
#: it in context (zoomed-in tiles otherwise add large false faces, e.g. a cat's).
TILE_MAX_FACE: Final[float] = TILE_OVERLAP
#: With tiles, whole-image detections narrower than this fraction of the tile side are dropped:
#: the tiles see such faces at least twice as large, and the whole image, shrunk, gives them
#: boxes too small or off (one inside a tile's box of the same face would be a second face).
WHOLE_MIN_FACE: Final[float] = TILE_MAX_FACE / 2

#: ``tiles="auto"``: a photo is a close-up, searched without tiles, when the whole-image pass
#: finds faces and every one is at least this fraction of the photo's shorter side (a
#: portrait, a couple, a selfie): faces small enough to need tiles would be far behind them.
CLOSE_UP_FACE: Final[float] = 0.2

#: A tile ``(x0, y0, x1, y1)`` in image pixels (``x1``, ``y1`` exclusive).
Tile = tuple[int, int, int, int]


def _starts(length: int, side: int, overlap: float) -> list[int]:
    """Offsets of tiles of ``side`` px covering ``length`` px, evenly spread, overlap >= given."""
    if length <= side:
        return [0]
    count = math.ceil((length - side) / (side * (1.0 - overlap)) - 1e-9) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def tile_grid(image_size: tuple[int, int], tiles: str | int | None, input_size: int) -> list[Tile]:
    """The square tiles ``(x0, y0, x1, y1)`` of an image of ``(height, width)``; [] for none.

    ``tiles="auto"``: none up to ``2 * input_size`` px on the longer side; beyond, tiles of
    ``2 * input_size`` px (a 40 px face is 20 px at the model input), or larger ones where more
    than 4 would be needed along the longer side. An int ``k`` (>= 2): ``k`` tiles along the
    longer side, as many of the same size as needed along the shorter one (``1``: none).
    ``None``: none. Neighbours overlap by at least :data:`TILE_OVERLAP` of the side; a tile is
    clipped to the image where it is longer than the image's shorter side.

    Examples
    --------
    >>> from emorec.faces.tiling import tile_grid
    >>> tile_grid((480, 640), "auto", 256)
    [(0, 0, 512, 480), (128, 0, 640, 480)]
    >>> tile_grid((512, 512), "auto", 256)
    []
    """
    height, width = image_size
    longer = max(height, width)
    if tiles is None:
        return []
    if tiles == "auto":
        if longer <= AUTO_TILE_INPUTS * input_size:
            return []
        per_side = AUTO_MAX_TILES - (AUTO_MAX_TILES - 1) * TILE_OVERLAP
        side = max(AUTO_TILE_INPUTS * input_size, math.ceil(longer / per_side))
    else:
        count = int(tiles)
        if count < 2:
            return []
        side = math.ceil(longer / (count - (count - 1) * TILE_OVERLAP))
    side = max(side, MIN_IMAGE_SIZE)
    if side >= longer:
        return []  # one tile, the whole image
    xs = _starts(width, side, TILE_OVERLAP)
    ys = _starts(height, side, TILE_OVERLAP)
    return [(x, y, min(x + side, width), min(y + side, height)) for y in ys for x in xs]


def is_close_up(boxes: npt.NDArray[np.float64], image_size: tuple[int, int]) -> bool:
    """Whether the whole-image pass's boxes ``(xmin, ymin, xmax, ymax)`` (all candidates,
    before merging) make an image of ``(height, width)`` a close-up: at least one, and every
    one at least :data:`CLOSE_UP_FACE` of the shorter side.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.tiling import is_close_up
    >>> is_close_up(np.array([[100.0, 80.0, 400.0, 420.0]]), (600, 800))  # a portrait
    True
    >>> is_close_up(np.array([[100.0, 80.0, 400.0, 420.0], [600, 50, 650, 100]]), (600, 800))
    False
    """
    if len(boxes) == 0:
        return False
    return bool(box_side(boxes).min() >= CLOSE_UP_FACE * min(image_size))


def box_side(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The longer side of each ``(xmin, ymin, xmax, ymax)`` box.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.tiling import box_side
    >>> box_side(np.array([[0.0, 0.0, 4.0, 9.0]]))
    array([9.])
    """
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def keep_in_tile(
    boxes: npt.NDArray[np.float64], tile: Tile, image_size: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Which image-pixel boxes ``(xmin, ymin, xmax, ymax)`` found in ``tile`` to keep.

    Kept: those no larger than :data:`TILE_MAX_FACE` of the tile side and at least
    :data:`TILE_EDGE_MARGIN` of it clear of the tile's inner edges (those it shares with a
    neighbour, not the image's border).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.tiling import keep_in_tile
    >>> boxes = np.array([[100.0, 100, 140, 140], [500, 100, 520, 140]])
    >>> keep_in_tile(boxes, (0, 0, 512, 512), (1000, 1000)).tolist()
    [True, False]
    """
    height, width = image_size
    x0, y0, x1, y1 = tile
    side = max(x1 - x0, y1 - y0)
    margin = TILE_EDGE_MARGIN * side
    keep = box_side(boxes) <= TILE_MAX_FACE * side
    if x0 > 0:
        keep &= boxes[:, 0] >= x0 + margin
    if y0 > 0:
        keep &= boxes[:, 1] >= y0 + margin
    if x1 < width:
        keep &= boxes[:, 2] <= x1 - margin
    if y1 < height:
        keep &= boxes[:, 3] <= y1 - margin
    return keep


def keep_in_whole(boxes: npt.NDArray[np.float64], grid: list[Tile]) -> npt.NDArray[np.bool_]:
    """Which whole-image boxes to keep when ``grid`` tiles are searched too: those at least
    :data:`WHOLE_MIN_FACE` of the tile side (smaller faces are the tiles' to find).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces.tiling import keep_in_whole
    >>> keep_in_whole(np.array([[0.0, 0, 40, 40], [0, 0, 90, 90]]), [(0, 0, 512, 512)]).tolist()
    [False, True]
    """
    tile_side = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in grid)
    return box_side(boxes) >= WHOLE_MIN_FACE * tile_side
