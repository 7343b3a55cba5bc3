"""Which tiles of a large photo BlazeFace must search: every tile, or only those that the
whole-image pass proposes (a cheaper strategy, measured here and not adopted).

    python benchmarks/tile_search.py [PATH_TO_fer2013.zip] [--photos 240] [--seed 7]
                                     [--fer-share 0.9] [--proposal-scores 0.02 0.05 0.1]

Needs scikit-image (``pip install scikit-image``) for the textures and its two faces.

Strategies:

- ``tiles='auto'``: what ``BlazeFaceDetector()`` does: the whole image, then every tile of
  :func:`emorec.faces.tiling.tile_grid` unless the photo is a close-up.
- ``proposals >= p, then tiles`` (:class:`ProposalDetector`, here only): the whole-image pass
  keeps anchors down to score ``p``; those the whole image cannot settle (below ``min_score``,
  or too small for it) propose where small faces may be, and only the tiles holding a
  proposal are searched: a cascade, "tiles only where small faces can be".
- ``tiles=None``: the whole image only.

The photos are made here, not taken from ``examples/photos`` (the test photos no rule may be
tuned to): ``--photos`` photos of 800x600 to 2560x1600 (three in ten portrait), each with 0
to 20 faces 24 to 240 px wide (log-uniform), not overlapping, turned up to 8 degrees,
mirrored at random, brightness 45 to 120 %, on scikit-image textures or on a collage of its
scenes (a cat, coffee, a rocket: faceless clutter), saved as JPEG quality 85. A share
``--fer-share`` of the faces are FER2013 Training faces (48x48 grey, thousands of people,
upscaled: as blurred as small faces in web photos, but cut without hair or ears), the rest
the two faces of scikit-image's data with hair and neck (the people of the test photos, in new
sizes and places); both planted with ``examples/photos/make_test_photos.py``'s feathered
ellipse. A face counts as found when a detection's centre lies in its ground-truth box and the
detection's side is 0.5 to 2 times the box's width (each detection used once).

Prints, per strategy and photo size: recall, false detections per photo, model passes per
photo and the median milliseconds of one ``detect`` (the decoded photo in memory), then the
recall by face width.

The output in ``benchmarks/results/tile_search.txt`` comes from::

    python benchmarks/tile_search.py --fer-share 0.9 > benchmarks/results/tile_search.txt
    python benchmarks/tile_search.py --fer-share 0 >> benchmarks/results/tile_search.txt
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import FER2013_ZIP, describe_machine
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "photos"))
from make_test_photos import Source, plant, sources, texture

from emorec.faces import BlazeFaceDetector
from emorec.faces.blazeface import _iou
from emorec.faces.tiling import Tile, is_close_up, keep_in_whole

SIZES = [(800, 600), (1024, 683), (1280, 800), (1600, 1067), (2048, 1365), (2560, 1600)]
TEXTURES = {
    "grass": ((40, 70, 25), (150, 190, 110)),
    "gravel": ((60, 55, 50), (200, 190, 175)),
    "brick": ((70, 40, 35), (210, 150, 130)),
    "moon": ((30, 30, 35), (190, 190, 200)),
}
SCENES = ("chelsea", "coffee", "rocket", "astronaut", "hubble_deep_field", "colorwheel")


def fer_sources(path: Path, count: int, seed: int) -> list[Source]:
    """``count`` FER2013 Training faces as plantable sources (the whole crop is the patch)."""
    from emorec import EmotionDataset

    ds = EmotionDataset.from_directory(path, progress_bar=None)
    images = np.asarray(ds["train"].images)
    images = images[..., 0] if images.ndim == 4 else images
    chosen = np.random.default_rng(seed).choice(len(images), count, replace=False)
    out = []
    for i in chosen:
        rgb = np.repeat(images[i][:, :, np.newaxis], 3, axis=2)
        # the crops run from the forehead to the chin: the face box is most of the crop
        out.append(Source(f"fer{i}", rgb, (5, 4, 38, 42), (0, 0, 48, 48)))
    return out


def background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A textured or cluttered (scene collage) canvas of ``size`` (w, h)."""
    from skimage import data

    if rng.random() < 0.5:
        name = str(rng.choice(list(TEXTURES)))
        low, high = TEXTURES[name]
        return texture(name, size, low, high)
    canvas = Image.new("RGB", size)
    w, h = size
    cols, rows = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    for r in range(rows):
        for c in range(cols):
            scene = getattr(data, str(rng.choice(SCENES)))()
            if scene.ndim == 2:
                scene = np.repeat(scene[:, :, np.newaxis], 3, axis=2)
            box = (c * w // cols, r * h // rows, (c + 1) * w // cols, (r + 1) * h // rows)
            part = Image.fromarray(scene[..., :3]).resize((box[2] - box[0], box[3] - box[1]))
            canvas.paste(part, box[:2])
    return canvas


def make_photo(
    rng: np.random.Generator, fer: list[Source], skimage_faces: list[Source], fer_share: float
) -> tuple[np.ndarray, list[list[int]]]:
    """One photo (RGB uint8, JPEG round trip) and its face boxes ``[x, y, w, h]``."""
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    if rng.random() < 0.3:
        w, h = h, w  # portrait
    canvas = background(rng, (w, h))
    taken: list[tuple[float, float, float, float]] = []
    boxes = []
    for _ in range(int(rng.integers(0, 21))):
        width = math.exp(rng.uniform(math.log(24), math.log(240)))
        width = min(width, 0.45 * min(w, h))
        for _attempt in range(30):
            cx, cy = rng.uniform(width, w - width), rng.uniform(width, h - width)
            pad = 0.8 * width
            if all(
                abs(cx - ox) > pad + ow * 0.8 or abs(cy - oy) > pad + ow * 0.8
                for ox, oy, ow, _ in taken
            ):
                break
        else:
            continue
        taken.append((cx, cy, width, width))
        if rng.random() < fer_share:
            src = fer[int(rng.integers(len(fer)))]
        else:
            src = skimage_faces[int(rng.integers(len(skimage_faces)))]
        boxes.append(
            plant(
                canvas,
                src,
                face_width=width,
                centre=(cx, cy),
                mirror=bool(rng.integers(2)),
                angle=float(rng.uniform(-8, 8)),
                brightness=float(rng.uniform(0.45, 1.2)),
            )
        )
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=85)
    return np.asarray(Image.open(buffer).convert("RGB")), boxes


WIDTHS = (24, 40, 64, 100, 160, 10_000)


def match(found: list, truth: list[list[int]]) -> tuple[list[bool], int]:
    """(per face, whether found; false detections): a detection finds a face when its centre
    lies in the face's box and its side is 0.5 to 2 times the box's width; each detection once."""
    used: set[int] = set()
    hits = []
    for x, y, bw, bh in truth:
        hits.append(False)
        for i, face in enumerate(found):
            if i in used:
                continue
            fx, fy, fw, fh = face.x, face.y, face.width, face.height
            cx, cy = fx + fw / 2, fy + fh / 2
            if x <= cx <= x + bw and y <= cy <= y + bh and 0.5 <= max(fw, fh) / bw <= 2:
                used.add(i)
                hits[-1] = True
                break
    return hits, len(found) - len(used)


def tiles_to_search(grid: list[Tile], proposals: np.ndarray) -> list[Tile]:
    """For each proposal box ``(xmin, ymin, xmax, ymax)``, the tile whose centre is nearest
    the box's among those holding the box whole (else its centre, else all); each tile once."""
    tiles = np.array(grid, dtype=np.float64).reshape(-1, 4)
    tile_centres = (tiles[:, :2] + tiles[:, 2:]) / 2
    chosen: set[int] = set()
    for box in proposals:
        centre = (box[:2] + box[2:]) / 2
        whole = np.all(tiles[:, :2] <= box[:2], axis=1) & np.all(tiles[:, 2:] >= box[2:], axis=1)
        inside = np.all(tiles[:, :2] <= centre, axis=1) & np.all(tiles[:, 2:] > centre, axis=1)
        candidates = np.flatnonzero(whole if whole.any() else inside)
        if len(candidates) == 0:
            candidates = np.arange(len(tiles))
        distance = np.hypot(*(tile_centres[candidates] - centre).T)
        chosen.add(int(candidates[np.argmin(distance)]))
    return [grid[i] for i in sorted(chosen)]


class ProposalDetector:
    """The strategy measured against every tile: the whole image proposes, tiles verify.

    The whole-image pass keeps anchors down to ``proposal_score``; those at ``min_score``
    and large enough for the whole image (``keep_in_whole``) are settled, and so are the
    weaker anchors overlapping a settled one (IoU >= the NMS threshold); only the tiles that
    hold an unsettled anchor are searched, then everything merges as ``detect`` merges it.
    """

    def __init__(self, proposal_score: float) -> None:
        self.detector = BlazeFaceDetector()
        self.proposer = BlazeFaceDetector(min_score=proposal_score, tiles=None)
        self.passes = 0

    def detect(self, image: np.ndarray) -> list:
        detector = self.detector
        size = (image.shape[0], image.shape[1])
        whole: Tile = (0, 0, size[1], size[0])
        boxes, points, scores = self.proposer._pass(image, whole)
        sure = scores >= detector.min_score
        passes = [(boxes[sure], points[sure], scores[sure])]
        grid = detector.tile_grid(size)
        if grid and is_close_up(boxes[sure], size):
            grid = []
        if grid:
            settled = sure & keep_in_whole(boxes, grid)
            open_ = ~settled
            for box in boxes[settled]:
                open_ &= _iou(box, boxes) < detector.iou_threshold
            grid = tiles_to_search(grid, boxes[open_])
        if grid:
            passes += detector._passes(image, grid)
        self.passes = len(passes)
        return detector._merge(passes, [whole, *grid], size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=FER2013_ZIP)
    parser.add_argument("--photos", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fer-share", type=float, default=0.9)
    parser.add_argument("--proposal-scores", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data}: not found; pass the path of FER2013's fer2013.zip")

    print(describe_machine())
    print(f"command: python benchmarks/tile_search.py {' '.join(sys.argv[1:])}".rstrip())
    rng = np.random.default_rng(args.seed)
    fer = fer_sources(args.data, 2000, args.seed)
    skimage_faces = list(sources().values())
    photos = [make_photo(rng, fer, skimage_faces, args.fer_share) for _ in range(args.photos)]
    total = sum(len(b) for _, b in photos)
    print(
        f"photos: {len(photos)} generated (seed {args.seed}), {total} faces "
        f"({sum(1 for _, b in photos if not b)} photos without a face), "
        f"{args.fer_share:.0%} of the faces from FER2013 Training; see the docstring"
    )
    strategies: list[tuple[str, object]] = [("tiles='auto' (every tile)", BlazeFaceDetector())]
    strategies += [
        (f"proposals >= {p:g}, then tiles", ProposalDetector(p)) for p in args.proposal_scores
    ]
    strategies += [("tiles=None (whole image)", BlazeFaceDetector(tiles=None))]
    print()
    header = f"{'strategy':28s} {'size':>10s} {'photos':>6s} {'faces':>6s} {'recall':>7s}"
    print(header + f" {'false/photo':>11s} {'passes':>6s} {'ms':>7s}")
    for label, detector in strategies:
        calls: list[int] = []
        if isinstance(detector, BlazeFaceDetector):
            infer = detector._infer_each

            def counting(tensors, infer=infer, calls=calls):
                calls.append(len(tensors))
                return infer(tensors)

            detector._infer_each = counting  # type: ignore[method-assign]
        detector.detect(photos[0][0])
        rows: dict[str, list[tuple[int, int, int, int, float]]] = {}
        by_width: dict[int, list[bool]] = {}
        for image, truth in photos:
            calls.clear()
            start = time.perf_counter()
            found = detector.detect(image)
            ms = 1000 * (time.perf_counter() - start)
            hits, false = match(found, truth)
            size = "x".join(map(str, sorted(image.shape[:2], reverse=True)))
            passes = sum(calls) or getattr(detector, "passes", 0)
            rows.setdefault(size, []).append((len(truth), sum(hits), false, passes, ms))
            for (_, _, width, _), hit in zip(truth, hits):
                band = next(i for i, top in enumerate(WIDTHS[1:]) if width < top)
                by_width.setdefault(band, []).append(hit)
        rows = dict(sorted(rows.items(), key=lambda kv: int(kv[0].split("x")[0])))
        rows["all sizes"] = [r for v in list(rows.values()) for r in v]
        for size, items in rows.items():
            faces = sum(r[0] for r in items)
            hits = sum(r[1] for r in items)
            print(
                f"{label:28s} {size:>10s} {len(items):6d} {faces:6d} "
                f"{100 * hits / max(faces, 1):6.1f}% {sum(r[2] for r in items) / len(items):11.2f}"
                f" {sum(r[3] for r in items) / len(items):6.2f}"
                f" {statistics.median(r[4] for r in items):7.1f}"
            )
        bands = [
            f"{WIDTHS[b]}-{WIDTHS[b + 1] - 1 if b + 2 < len(WIDTHS) else ''} px "
            f"{100 * sum(h) / len(h):.0f}% of {len(h)}"
            for b, h in sorted(by_width.items())
        ]
        print(f"{label:28s} recall by face width: {'; '.join(bands)}")
        print()


if __name__ == "__main__":
    main()
