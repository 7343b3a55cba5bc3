"""A folder of photos of mixed sizes: photos/s and memory of emorec's streaming prediction
against ``fer``'s loop over the same folder, in one run.

    python benchmarks/folder_throughput.py [--model NAME_OR_FILE] [--photos 240]
                                           [--fer-python PATH | --no-fer]

Builds the folder in a temporary directory from ``examples/photos`` (one to two dozen faces
in the group photos, none in ``no_face.jpg``), each photo at three sizes (its long side
512 px, its own size, and 1.6 times it, capped at 2,400 px), saved as JPEG, repeated to
``--photos`` files. Then, timing everything from the file names to the results (decoding
included) after one warm-up photo:

- emorec: ``EmotionClassifier.load(--model).predict_iter(folder)`` (BlazeFace, and by default
  the default model with its default flip TTA; ``--model fer2013_mini_xception`` for the fast
  model, without TTA), photos/s, faces found, and the resident memory after the first
  tenth of the photos and at the end;
- ``fer``: ``cv2.imread`` and ``FER(mtcnn=False).detect_emotions`` over the sorted files
  (``_fer_peer.py folder``, in fer's own virtualenv), photos/s and faces found.

The face counts differ because the detectors do (BlazeFace against OpenCV's Haar cascade);
``benchmarks/detection.py`` measures which is right.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _fer_peer import add_fer_python_argument, run_peer
from _machine import describe_machine
from PIL import Image

from emorec import EmotionClassifier

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "photos"


def rss_mb() -> float:
    """Resident memory now (Linux ``/proc``; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_folder(folder: Path, count: int) -> dict[str, int]:
    """``count`` JPEG photos of mixed sizes in ``folder``; returns how many of each size."""
    sources = sorted(p for p in EXAMPLES.glob("*.jpg"))
    variants = []
    for path in sources:
        image = Image.open(path).convert("RGB")
        long_side = max(image.size)
        for name, side in (
            ("512", 512),
            ("own", long_side),
            ("big", min(2400, int(1.6 * long_side))),
        ):
            scale = side / long_side
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            variants.append((f"{path.stem}_{name}", image.resize(size, Image.Resampling.LANCZOS)))
    sizes: dict[str, int] = {}
    for i in range(count):
        stem, image = variants[i % len(variants)]
        image.save(folder / f"{i:04d}_{stem}.jpg", quality=90)
        kind = stem.rsplit("_", 1)[1]
        sizes[kind] = sizes.get(kind, 0) + 1
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="emorec model (default: the default)")
    parser.add_argument("--photos", type=int, default=240)
    add_fer_python_argument(parser)
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = build_folder(folder, args.photos)
        print(
            f"folder: {args.photos} JPEG photos ({', '.join(f'{v} {k}' for k, v in sizes.items())})"
        )
        clf = EmotionClassifier.load(args.model)
        clf.predict(str(next(folder.glob("*.jpg"))))  # warm-up: model and detector loaded
        start = time.perf_counter()
        faces = 0
        marks = {max(1, args.photos * k // 10): 0.0 for k in (1, 2, 5)}
        for n, (_, found) in enumerate(clf.predict_iter(folder), 1):
            faces += len(found)
            if n in marks:
                marks[n] = rss_mb()
        seconds = time.perf_counter() - start
        marks[args.photos] = rss_mb()
        rate = args.photos / seconds
        memory = ", ".join(f"{mb:.0f} MB after {n}" for n, mb in marks.items())
        first = next(iter(marks.values()))
        print(
            f"  emorec {clf.model.name} predict_iter (tta={clf.tta})  {rate:6.2f} photos/s  "
            f"{faces} faces\n"
            f"    resident memory: {memory} ({marks[args.photos] - first:+.0f} MB after the "
            "first tenth)"
        )
        peer = None if args.no_fer else run_peer(args.fer_python, "folder", str(folder))
        if peer is not None:
            fer_rate = peer["photos"] / peer["seconds"]
            print(
                f"  fer {peer['versions']['fer']} detect_emotions loop  {fer_rate:6.2f} photos/s  "
                f"{peer['faces']} faces"
            )
            print(
                f"emorec against fer: {rate / fer_rate:.2f}x the photos/s (same folder, same run)"
            )


if __name__ == "__main__":
    main()
