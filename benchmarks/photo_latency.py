"""End-to-end latency of ``EmotionClassifier.load().predict(photo)``, against the ``fer`` package.

    python benchmarks/photo_latency.py [--model NAME_OR_FILE] [--runtime auto|litert|keras]
                                 [--repeat 20] [--seconds 6] [--batch 256] [--iou 0.5]
                                 [--fer-python ~/venvs/fer/bin/python | --no-fer]

emorec, in this process, with ``EmotionClassifier.load(--model)`` (default: the bundled
default model; ``--model fer2013_mini_xception`` measures the fast one):

- import time of emorec and its runtime (LiteRT for a bundled model; Keras and TensorFlow
  with ``--runtime keras``), the time of ``EmotionClassifier.load()`` and of the first
  ``predict`` (detector start-up and graph tracing);
- ``predict(photo)`` on a portrait, ``examples/photos/astronaut.jpg`` (one face, 512x512), a
  couple, ``couple.jpg`` (two faces, 640x480), and the group photos ``group_large.jpg`` (6
  faces) and ``group_small.jpg`` (10 faces, 1024x683) and ``group_class.jpg`` (24 faces in
  rows, 1280x800; see ``examples/photos/make_test_photos.py``), ``dark.jpg`` (4 faces in dim
  light, 900x600), and two large photos made from them (there is no 2000 px photo among
  the examples): ``couple.jpg`` enlarged 3.5 times (2240x1680, two large faces) and
  ``group_class.jpg`` enlarged twice (2560x1600, 24 faces), Lanczos-resampled and saved as
  JPEG (quality 92) in a temporary folder, their ground-truth boxes scaled alike: the best
  of ``--rounds`` medians of ``--repeat`` calls after three warm-up calls (this shared
  2-core VM's speed drifts by up to a third between minutes; fer is measured the same way),
  the photo decoded beforehand, with the classifier's default
  test-time augmentation (the card's: ``flip`` for the default model) and with ``tta="none"``;
- ``predict_proba`` throughput on a batch of ``--batch`` random 48x48 grey crops, with
  ``tta="none"`` and with the default TTA, in images per second (time-boxed to ``--seconds``).

The ``fer`` package (``FER(mtcnn=False)``: OpenCV's Haar cascade, then its mini-Xception, by
default the quantized TFLite model it classifies face by face) in the same run, through
``benchmarks/_fer_peer.py`` in fer's own virtualenv: import, ``FER()``, first call,
``detect_emotions(photo)`` on the same photos (BGR array, as fer expects), and its classifier
on the same kind of batch (48x48 crops resized to 64x64 and scaled as fer does, both with its
default TFLite model and its Keras model). The two sides find different numbers of faces on the
group photos (fer's detector skips faces under 50 px); the table says how many.

A second table scores, per photo and over all of them, the faces each side's ``predict`` /
``detect_emotions`` returned against the ground-truth boxes of ``examples/photos/faces.json``:
recall (found / faces) and precision (true / detections), matched at IoU >= ``--iou`` by the
greedy matching of ``benchmarks/detection.py`` (imported from it). fer's boxes come from one
more call of the peer, ``_fer_peer.py detect`` (``FER.find_faces``, which ``detect_emotions``
calls with the same settings and whose boxes it returns unchanged).

The output in ``benchmarks/results/photo_latency.txt`` comes from::

    python benchmarks/photo_latency.py > benchmarks/results/photo_latency.txt
    python benchmarks/photo_latency.py --model fer2013_mini_xception \
        > benchmarks/results/photo_latency_fast.txt
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _fer_peer import add_fer_python_argument, run_peer
from _machine import describe_machine, median_ms, rate
from detection import Score, pct, score

ROOT = Path(__file__).resolve().parents[1]
#: a portrait, a couple, groups of 6, 10 and 24 faces, a dim photo of 4; then (photo, scale):
#: the large photos, made by enlarging examples
PHOTOS = [
    "astronaut.jpg",
    "couple.jpg",
    "group_large.jpg",
    "group_small.jpg",
    "group_class.jpg",
    "dark.jpg",
]
ENLARGED = [("couple.jpg", 3.5), ("group_class.jpg", 2.0)]


def enlarged(source: Path, scale: float, folder: Path) -> Path:
    """``source`` enlarged ``scale`` times (Lanczos), saved as JPEG quality 92 in ``folder``."""
    from PIL import Image

    with Image.open(source) as im:
        size = (round(im.width * scale), round(im.height * scale))
        out = folder / f"{source.stem}_x{scale:g}.jpg"
        im.convert("RGB").resize(size, Image.LANCZOS).save(out, quality=92)
    return out


def fresh_import_seconds(runtime: str) -> float:
    """Seconds a new Python process takes to import emorec and the runtime it will use (the
    fer side is timed the same way, in its own new process)."""
    import subprocess

    runtime_import = (
        "import keras" if runtime == "keras" else "from ai_edge_litert import interpreter"
    )
    code = (
        "import time; start = time.perf_counter(); import emorec; "
        f"{runtime_import}; print(time.perf_counter() - start)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def runtime_versions() -> str:
    """The versions of the runtimes imported in this process."""
    from importlib.metadata import PackageNotFoundError, version

    names = {"ai_edge_litert": "ai-edge-litert", "keras": "keras", "tensorflow": "tensorflow"}
    found = []
    for module, dist in names.items():
        if module in sys.modules:
            try:
                found.append(f"{dist} {version(dist)}")
            except PackageNotFoundError:
                found.append(dist)
    return ", ".join(found) or "no runtime imported yet"


def ratio(emorec_value: float | None, fer_value: float | None, higher_is_better: bool) -> str:
    """How many times better emorec is (``>1``: emorec faster)."""
    if not emorec_value or not fer_value:
        return "-"
    value = emorec_value / fer_value if higher_is_better else fer_value / emorec_value
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="emorec model (default: the default)")
    parser.add_argument("--photos", default=str(ROOT / "examples" / "photos"))
    parser.add_argument("--repeat", type=int, default=20, help="timed predict calls per photo")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times each side measures every photo; the best median is reported",
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="time box of each rate")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a match needs")
    parser.add_argument(
        "--runtime",
        choices=("auto", "litert", "keras"),
        default="auto",
        help="EmotionClassifier.load(runtime=): auto runs a bundled model on LiteRT",
    )
    add_fer_python_argument(parser)
    args = parser.parse_args()
    paths = [Path(args.photos) / name for name in PHOTOS]
    truth_file = Path(args.photos) / "faces.json"
    missing = [str(p) for p in [*paths, truth_file] if not p.exists()]
    if missing:
        sys.exit(f"{', '.join(missing)}: not found; run examples/photos/make_test_photos.py")
    truth_photos = json.loads(truth_file.read_text())["photos"]
    truth = {p.name: [tuple(box) for box in truth_photos[p.name]["faces"]] for p in paths}
    made = Path(tempfile.mkdtemp(prefix="emorec-latency-"))
    for name, scale in ENLARGED:
        big = enlarged(Path(args.photos) / name, scale, made)
        paths.append(big)
        truth[big.name] = [
            tuple(round(v * scale) for v in box) for box in truth_photos[name]["faces"]
        ]
    print(describe_machine())
    shown = [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name for p in paths]
    print(
        f"photos: {', '.join(shown)}; predict: best of "
        f"{args.rounds} rounds of the median of {args.repeat} calls after 3 warm-ups, decoded "
        f"photo in memory; rates: batch "
        f"{args.batch} of random 48x48 grey crops, {args.seconds:g} s each"
    )
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())

    import_s = fresh_import_seconds(args.runtime)
    from emorec import EmotionClassifier, __version__, load_image

    start = time.perf_counter()
    clf = EmotionClassifier.load(args.model, runtime=args.runtime)
    default_tta = clf.tta
    modes = [default_tta] if default_tta == "none" else [default_tta, "none"]
    load_s = time.perf_counter() - start
    images = {p.name: load_image(p, "rgb") for p in paths}
    start = time.perf_counter()
    clf.predict(images[paths[0].name])
    first_s = time.perf_counter() - start
    print(
        f"emorec {__version__} ({runtime_versions()}; TensorFlow imported: "
        f"{'tensorflow' in sys.modules}): {clf!r} on {type(clf.model).__name__}, "
        f"detector {clf.detector!r}, default tta={default_tta}"
    )
    ours: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, rgb in images.items():
            found = clf.predict(rgb)
            ms = median_ms(lambda r=rgb: clf.predict(r), args.repeat)
            ms_none = (
                ms
                if default_tta == "none"
                else median_ms(lambda r=rgb: clf.predict(r, tta="none"), args.repeat)
            )
            before = ours.get(name, {"ms": ms, "ms_none": ms_none})
            ours[name] = {
                "faces": len(found),
                "boxes": [tuple(face.box) for face in found],
                "ms": min(ms, before["ms"]),
                "ms_none": min(ms_none, before["ms_none"]),
            }
    crops = np.random.default_rng(0).integers(0, 256, (args.batch, 48, 48, 1), dtype=np.uint8)
    rates = {
        mode: rate(lambda m=mode: clf.predict_proba(crops, tta=m), args.batch, args.seconds)
        for mode in modes
    }

    peer = None
    if not args.no_fer:
        peer = run_peer(
            args.fer_python,
            "latency",
            *map(str, paths),
            "--repeat",
            str(args.repeat),
            "--rounds",
            str(args.rounds),
            "--batch",
            str(args.batch),
            "--seconds",
            str(args.seconds),
        )
    peer_boxes = None
    if peer is not None:
        # detect_emotions returns find_faces' boxes; one more pass for them (its time unused)
        peer_boxes = run_peer(args.fer_python, "detect", *map(str, paths), "--repeat", "1")
    if peer is not None:
        versions = ", ".join(f"{k} {v}" for k, v in peer["versions"].items())
        print(
            f"fer: FER(mtcnn=False) (Haar cascade, min face 50 px; quantized TFLite "
            f"mini-Xception by default) ({versions})"
        )
    fer = peer or {}
    fer_photos = fer.get("photos", {})
    fer_rates = fer.get("crops_per_s", {})

    def fmt(value: float | None, unit: str, digits: int = 0) -> str:
        return "-" if value is None else f"{value:,.{digits}f} {unit}"

    rows: list[tuple[str, float | None, float | None, str, int, bool]] = []

    def row(
        label: str,
        mine: float | None,
        theirs: float | None,
        unit: str,
        digits: int = 1,
        higher_is_better: bool = False,
    ) -> None:
        rows.append((label, mine, theirs, unit, digits, higher_is_better))

    row(
        f"import emorec + {args.runtime} runtime / fer (TF, cv2), new process",
        import_s,
        fer.get("import_s"),
        "s",
        2,
    )
    row("load model (EmotionClassifier.load / FER())", load_s, fer.get("load_s"), "s", 2)
    row(f"first predict, {PHOTOS[0]}", first_s, fer.get("first_call_s"), "s", 2)
    for name, mine in ours.items():
        theirs = fer_photos.get(name, {})
        faces = f"{mine['faces']:.0f} / {theirs.get('faces', '-')} faces"
        row(f"predict {name} ({faces}), tta={default_tta}", mine["ms"], theirs.get("ms"), "ms")
        if default_tta != "none":
            row(f"predict {name} ({faces}), tta=none", mine["ms_none"], theirs.get("ms"), "ms")
    batch = f"predict_proba, {args.batch} crops"
    row(
        f"{batch}, tta=none (fer: Keras model, batched)",
        rates["none"],
        fer_rates.get("keras"),
        "img/s",
        0,
        True,
    )
    row(
        f"{batch}, tta={default_tta} (fer: default TFLite)",
        rates[default_tta],
        fer_rates.get("tflite"),
        "img/s",
        0,
        True,
    )
    if fer:
        row("load fer's Keras model (FER(use_tflite=False))", None, fer.get("keras_load_s"), "s", 2)
    print()
    print("faces: emorec / fer; ratio: how many times faster emorec is (fer / emorec for times)")
    print(f"{'what':<64}{'emorec':>13}{'fer':>13}{'ratio':>8}")
    for label, mine_value, fer_value, unit, digits, higher in rows:
        print(
            f"{label:<64}{fmt(mine_value, unit, digits):>13}{fmt(fer_value, unit, digits):>13}"
            f"{ratio(mine_value, fer_value, higher):>8}"
        )

    # faces found on the same photos, scored against the ground truth
    sides = {"emorec": {name: mine["boxes"] for name, mine in ours.items()}}
    if peer_boxes is not None:
        sides["fer"] = {
            name: [tuple(b) for b in entry["boxes"]] for name, entry in peer_boxes["photos"].items()
        }
        for name, boxes in sides["fer"].items():
            if len(boxes) != fer_photos.get(name, {}).get("faces", len(boxes)):
                print(
                    f"note: fer's find_faces gave {len(boxes)} boxes on {name}, "
                    f"detect_emotions {fer_photos[name]['faces']} faces"
                )
    times = {
        "emorec": {name: mine["ms"] for name, mine in ours.items()},
        "fer": {name: entry.get("ms") for name, entry in fer_photos.items()},
    }
    print()
    print(
        f"faces found by predict (emorec, tta={default_tta}) and detect_emotions (fer) against "
        f"{truth_file.name} (IoU >= {args.iou}); ms: median per photo, as above"
    )
    header = "".join(
        f"{f'{side} ms':>11}{'found':>7}{'recall':>8}{'precision':>10}" for side in sides
    )
    print(f"{'photo':<17}{'size':>10}{'faces':>7}{header}")
    totals = {side: Score() for side in sides}
    for name, rgb in images.items():
        cells = ""
        for side, side_boxes in sides.items():
            ms = times[side].get(name)
            s = score(name, truth[name], side_boxes[name], args.iou, ms)
            totals[side].add(s)
            cells += (
                f"{'-' if ms is None else f'{ms:.1f}':>11}{s.detections:>7}"
                f"{pct(s.recall):>8}{pct(s.precision):>10}"
            )
        size = f"{rgb.shape[1]}x{rgb.shape[0]}"
        print(f"{name:<17}{size:>10}{len(truth[name]):>7}{cells}")
    cells = ""
    for s in totals.values():
        total_ms = f"{sum(s.ms):.1f}" if len(s.ms) == len(images) else "-"
        cells += f"{total_ms:>11}{s.detections:>7}{pct(s.recall):>8}{pct(s.precision):>10}"
    print(f"{f'all {len(images)} (ms: sum)':<27}{totals['emorec'].faces:>7}{cells}")
    for side, s in totals.items():
        print(f"{side}: missed {len(s.missed)}: {'; '.join(s.missed) or '-'}")
        print(f"{' ' * len(side)}  false positives {len(s.false)}: {'; '.join(s.false) or '-'}")


if __name__ == "__main__":
    main()
