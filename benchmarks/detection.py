"""Face-detection recall and precision on the test photos, emorec's detectors against ``fer``.

    python benchmarks/detection.py [--photos examples/photos] [--iou 0.5] [--repeat 5]
                                   [--fer-python ~/venvs/fer/bin/python | --no-fer]

Runs every detector on every photo listed in ``examples/photos/faces.json`` (the photos and
their hand-checked ground-truth boxes come from ``examples/photos/make_test_photos.py``; see
``ground_truth.png`` there) and matches its boxes to the ground truth greedily: the pair with
the highest IoU first, each box used once, a pair counting only at IoU >= ``--iou``. A matched
detection is a true positive, an unmatched detection a false positive, an unmatched
ground-truth face a miss. Prints, per photo and over all photos, recall (found / faces),
precision (true / detections), the mean IoU of the matches, and the median time of one
``detect`` call (after a warm-up; the JPEG is decoded beforehand).

Detectors: emorec's ``blazeface`` (the default), ``blazeface_short``, ``haar`` and ``yunet``
(OpenCV's YuNet), each with its default settings, and the ``fer`` package's detector
(``FER(mtcnn=False).find_faces``: OpenCV's Haar cascade with a 50 px minimum face), run by
``benchmarks/_fer_peer.py`` in fer's own virtualenv (``--fer-python``; skipped with a message
when it is absent).

Boxes differ in convention (BlazeFace: squares from the forehead to the chin; Haar: squares
from the forehead to just below the mouth); the ground truth runs from the eyebrows to the chin
and ear to ear, and IoU >= 0.5 tolerates either. The mean IoU column shows how well each
detector's boxes agree with it.

The output in ``benchmarks/results/detection.txt`` comes from::

    python benchmarks/detection.py > benchmarks/results/detection.txt

and the BlazeFace-against-YuNet table in ``benchmarks/results/detectors.txt`` from::

    python benchmarks/detection.py --detectors blazeface yunet --no-fer --repeat 9 \
        > benchmarks/results/detectors.txt
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _fer_peer import add_fer_python_argument, run_peer
from _machine import describe_machine

from emorec import load_image
from emorec.faces import get_detector

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = ROOT / "examples" / "photos"
DETECTORS = ["blazeface", "blazeface_short", "haar", "yunet"]

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, width, height)`` boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match(truth: list[Box], found: list[Box], threshold: float) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching: ``(truth index, found index, IoU)``, highest IoU first."""
    pairs = sorted(
        (
            (iou(t, f), i, j)
            for i, t in enumerate(truth)
            for j, f in enumerate(found)
            if iou(t, f) >= threshold
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_f: set[int] = set()
    matches = []
    for value, i, j in pairs:
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            matches.append((i, j, value))
    return matches


@dataclass
class Score:
    """Counts of one detector on one photo (or summed over photos)."""

    faces: int = 0
    detections: int = 0
    true: int = 0
    ious: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.faces += other.faces
        self.detections += other.detections
        self.true += other.true
        self.ious += other.ious
        self.ms += other.ms
        self.missed += other.missed
        self.false += other.false

    @property
    def recall(self) -> float | None:
        return self.true / self.faces if self.faces else None

    @property
    def precision(self) -> float | None:
        return self.true / self.detections if self.detections else None


def score(
    name: str, truth: list[Box], found: list[Box], threshold: float, ms: float | None
) -> Score:
    matches = match(truth, found, threshold)
    hit_t = {i for i, _, _ in matches}
    hit_f = {j for _, j, _ in matches}
    return Score(
        faces=len(truth),
        detections=len(found),
        true=len(matches),
        ious=[v for _, _, v in matches],
        ms=[] if ms is None else [ms],
        missed=[
            f"{name} #{i} ({int(t[2])} px wide)" for i, t in enumerate(truth) if i not in hit_t
        ],
        false=[
            f"{name} at {tuple(int(v) for v in f)}" for j, f in enumerate(found) if j not in hit_f
        ],
    )


def shown(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def run_emorec(detector_name: str, images: dict[str, np.ndarray], repeat: int) -> dict:
    """Boxes and median ms per photo for one of emorec's detectors."""
    detector = get_detector(detector_name)
    out = {}
    for name, rgb in images.items():
        boxes = [f.as_tuple() for f in detector.detect(rgb)]  # also the warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            detector.detect(rgb)
            times.append(time.perf_counter() - start)
        out[name] = {"boxes": boxes, "ms": 1000 * statistics.median(times)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS), help="folder with faces.json")
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a match needs")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per photo")
    parser.add_argument("--detectors", nargs="+", default=DETECTORS)
    add_fer_python_argument(parser)
    args = parser.parse_args()
    folder = Path(args.photos)
    truth_file = folder / "faces.json"
    if not truth_file.exists():
        sys.exit(f"{truth_file}: not found; run examples/photos/make_test_photos.py first")
    print(describe_machine())
    truth = {
        name: [tuple(box) for box in entry["faces"]]
        for name, entry in json.loads(truth_file.read_text())["photos"].items()
    }
    print(
        f"photos: {shown(folder)} ({len(truth)} photos, {sum(map(len, truth.values()))} faces; "
        f"ground truth {truth_file.name}); match at IoU >= {args.iou}, greedy; time: median "
        f"of {args.repeat} detect calls after a warm-up, decoded image in memory"
    )
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    images = {name: load_image(folder / name, "rgb") for name in truth}
    results = {name: run_emorec(name, images, args.repeat) for name in args.detectors}
    peer = None
    if not args.no_fer:
        photo_paths = [str(folder / name) for name in truth]
        peer = run_peer(args.fer_python, "detect", *photo_paths, "--repeat", str(args.repeat))
    if peer is not None:
        versions = ", ".join(f"{k} {v}" for k, v in peer["versions"].items())
        print(f"fer: {peer['detector']} ({versions})")
        results["fer (haar)"] = peer["photos"]
    print()

    totals = {det: Score() for det in results}
    per_photo: dict[str, dict[str, Score]] = {}
    for photo, boxes in truth.items():
        per_photo[photo] = {}
        for det, found in results.items():
            found_boxes = [tuple(b) for b in found[photo]["boxes"]]
            s = score(photo, boxes, found_boxes, args.iou, found[photo]["ms"])
            per_photo[photo][det] = s
            totals[det].add(s)

    width = max(14, *(len(d) + 2 for d in results))
    print("per photo: found/faces, false positives, ms per detect call")
    print(f"{'photo':<17}{'faces':>6}" + "".join(f"{d:>{width + 6}}" for d in results))
    for photo, scores in per_photo.items():
        cells = "".join(
            f"{f'{s.true}/{s.faces}, {s.detections - s.true} FP, {s.ms[0]:.0f} ms':>{width + 6}}"
            for s in scores.values()
        )
        print(f"{photo:<17}{len(truth[photo]):>6}{cells}")
    print()
    print(f"over all photos (IoU >= {args.iou})")
    print(
        f"{'detector':<{width}}{'faces':>6}{'found':>6}{'FP':>5}{'recall':>8}{'precision':>10}"
        f"{'mean IoU':>9}{'median ms':>10}{'max ms':>8}"
    )
    for det, s in totals.items():
        mean_iou = f"{statistics.mean(s.ious):.2f}" if s.ious else "-"
        print(
            f"{det:<{width}}{s.faces:>6}{s.true:>6}{s.detections - s.true:>5}"
            f"{pct(s.recall):>8}{pct(s.precision):>10}{mean_iou:>9}"
            f"{statistics.median(s.ms):>10.1f}{max(s.ms):>8.1f}"
        )
    print()
    for det, s in totals.items():
        print(f"{det}: missed {len(s.missed)}: {'; '.join(s.missed) or '-'}")
        print(f"{' ' * len(det)}  false positives {len(s.false)}: {'; '.join(s.false) or '-'}")


if __name__ == "__main__":
    main()
