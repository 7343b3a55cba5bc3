"""The ``fer`` package's side of the comparison benchmarks, run in its own virtualenv.

    ~/venvs/fer/bin/python benchmarks/_fer_peer.py detect PHOTO... --json-out OUT.json
    ~/venvs/fer/bin/python benchmarks/_fer_peer.py latency PHOTO... --json-out OUT.json
    ~/venvs/fer/bin/python benchmarks/_fer_peer.py classify CROPS.npz --out PROBS.npz
    ~/venvs/fer/bin/python benchmarks/_fer_peer.py photos IMAGES.npz --json-out OUT.json
    ~/venvs/fer/bin/python benchmarks/_fer_peer.py folder FOLDER --json-out OUT.json

``fer`` (https://pypi.org/project/fer/) pins its own TensorFlow, OpenCV, moviepy and
facenet-pytorch, so it lives in a virtualenv of its own and emorec's stays clean; the
benchmark scripts (``detection.py``, ``photo_latency.py``, ``fer_peer_accuracy.py``) run this file
with that virtualenv's Python (``--fer-python``, default ``$EMOREC_FER_PYTHON`` or
``~/venvs/fer/bin/python``) and read back its JSON. Set it up with::

    python3 -m venv ~/venvs/fer
    ~/venvs/fer/bin/pip install torch==2.13.0      # CPU wheel; else pip pulls CUDA builds
    ~/venvs/fer/bin/pip install fer "torchvision==0.28.*" "setuptools<81"

``fer`` 25.10.3 needs ``setuptools<81`` (it imports ``pkg_resources``) and no longer exports
``FER`` from its top-level package, so this file imports ``fer.fer.FER`` when ``fer.FER`` is
missing. Its face detector is used as the package sets it up: ``FER(mtcnn=False)``, OpenCV's
frontal-face Haar cascade, ``scaleFactor=1.1, minNeighbors=5, minSize=50x50``. Its emotion
model (mini-Xception, 64x64 grey input in [-1, 1], FER2013's label order) ships inside the
package as ``fer/data/emotion_model.hdf5`` (Keras) and, used by default since 25.10,
``emotion_model_quantized.tflite``; nothing is downloaded.

This module is imported by the benchmark scripts for :func:`run_peer` and
:func:`add_fer_python_argument` (standard library only); the ``fer`` side imports ``fer``
only when run as a script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import median_ms

HERE = Path(__file__).resolve()
DEFAULT_FER_PYTHON = os.environ.get(
    "EMOREC_FER_PYTHON", str(Path.home() / "venvs" / "fer" / "bin" / "python")
)
SETUP_HINT = (
    "python3 -m venv ~/venvs/fer && ~/venvs/fer/bin/pip install torch==2.13.0 && "
    '~/venvs/fer/bin/pip install fer "torchvision==0.28.*" "setuptools<81"'
)


# --------------------------------------------------------------------------------------------
# The caller's side (emorec's virtualenv): standard library only
# --------------------------------------------------------------------------------------------


def add_fer_python_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--fer-python`` (and ``--no-fer``) to a benchmark's argument parser."""
    parser.add_argument(
        "--fer-python",
        default=DEFAULT_FER_PYTHON,
        help="Python of a virtualenv with the fer package (default %(default)s)",
    )
    parser.add_argument("--no-fer", action="store_true", help="leave the fer package out")


def run_peer(fer_python: str | None, *args: str, timeout: float = 1800) -> dict[str, Any] | None:
    """Run this file under ``fer_python`` with ``args`` and return its JSON answer.

    Returns None, after printing why, when ``fer_python`` is None or missing or the run fails.
    """
    if fer_python is None:
        return None
    if not Path(fer_python).exists():
        print(
            f"fer: skipped: no Python at {fer_python}; make the fer virtualenv with\n"
            f"    {SETUP_HINT}\nor pass --fer-python PATH (or --no-fer)"
        )
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peer.json"
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
        done = subprocess.run(
            [fer_python, str(HERE), *args, "--json-out", str(out)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            tail = "\n    ".join(done.stderr.strip().splitlines()[-12:])
            print(f"fer: FAILED ({fer_python}, exit {done.returncode}):\n    {tail}")
            return None
        return json.loads(out.read_text())


# --------------------------------------------------------------------------------------------
# The fer side (fer's virtualenv)
# --------------------------------------------------------------------------------------------


def _import_fer() -> tuple[Any, str]:
    """The ``FER`` class and fer's version (25.10.x no longer exports ``fer.FER``)."""
    import fer

    try:
        from fer import FER
    except ImportError:
        from fer.fer import FER
    return FER, str(getattr(fer, "__version__", "?"))


def _versions(fer_version: str) -> dict[str, str]:
    import cv2
    import numpy as np
    import tensorflow as tf

    return {
        "fer": fer_version,
        "tensorflow": tf.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def _preprocess(crops: Any, size: tuple[int, int]) -> Any:
    """fer's own preprocessing of grey crops: cv2.resize (bilinear) to ``size``, to [-1, 1]."""
    import cv2
    import numpy as np

    faces = np.stack([cv2.resize(np.ascontiguousarray(c), size) for c in crops])
    return (faces.astype("float32") / 255.0 - 0.5) * 2.0


def cmd_detect(args: argparse.Namespace) -> dict[str, Any]:
    """Boxes and per-image time of ``FER(mtcnn=False).find_faces`` (the Haar cascade)."""
    import cv2

    fer_class, version = _import_fer()
    detector = fer_class(mtcnn=False)
    photos = {}
    for path in args.photos:
        bgr = cv2.imread(path)
        if bgr is None:
            raise SystemExit(f"{path}: OpenCV could not read it")
        boxes = [[int(v) for v in box] for box in detector.find_faces(bgr, bgr=True)]
        ms = median_ms(lambda b=bgr: detector.find_faces(b, bgr=True), args.repeat, warmup=1)
        photos[Path(path).name] = {"boxes": boxes, "ms": ms}
    return {
        "versions": _versions(version),
        "detector": "FER(mtcnn=False).find_faces: OpenCV haarcascade_frontalface_default, "
        "scaleFactor=1.1, minNeighbors=5, minSize=50x50",
        "photos": photos,
    }


def cmd_latency(args: argparse.Namespace) -> dict[str, Any]:
    """Import, load, first call, per-photo ``detect_emotions`` and batched classification."""
    import numpy as np

    start = time.perf_counter()
    fer_class, version = _import_fer()
    import cv2
    import tensorflow  # noqa: F401  (imported by fer already; named for clarity)

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    detector = fer_class(mtcnn=False)
    load_s = time.perf_counter() - start
    images = {Path(p).name: cv2.imread(p) for p in args.photos}
    first = next(iter(images.values()))
    start = time.perf_counter()
    detector.detect_emotions(first)
    first_s = time.perf_counter() - start
    photos: dict[str, dict[str, Any]] = {}
    for _ in range(args.rounds):  # best of the rounds' medians, as for emorec
        for name, bgr in images.items():
            faces = len(detector.detect_emotions(bgr))
            ms = median_ms(lambda b=bgr: detector.detect_emotions(b), args.repeat, warmup=3)
            best = photos.get(name, {}).get("ms", ms)
            photos[name] = {"faces": faces, "ms": min(ms, best), "shape": list(bgr.shape)}
    # batched classification of 48x48 grey crops, fer's resize and scaling included
    crops = np.random.default_rng(0).integers(0, 256, (args.batch, 48, 48), dtype=np.uint8)
    start = time.perf_counter()
    keras_fer = fer_class(mtcnn=False, use_tflite=False)
    keras_load_s = time.perf_counter() - start
    rates = {}
    for label, model in (("tflite", detector), ("keras", keras_fer)):

        def classify(m: Any = model) -> Any:
            return np.asarray(m._classify_emotions(_preprocess(crops, (64, 64))))

        classify()
        calls, begin = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() - begin < args.seconds:
            classify()
            calls += 1
        rates[label] = calls * args.batch / (time.perf_counter() - begin)
    return {
        "versions": _versions(version),
        "import_s": import_s,
        "load_s": load_s,
        "keras_load_s": keras_load_s,
        "first_call_s": first_s,
        "first_photo": next(iter(images)),
        "photos": photos,
        "batch": args.batch,
        "crops_per_s": rates,
    }


def cmd_classify(args: argparse.Namespace) -> dict[str, Any]:
    """fer's emotion model on the grey crops of an ``.npz`` (key ``images``), no detection."""
    import numpy as np

    fer_class, version = _import_fer()
    images = np.load(args.crops)["images"]
    if images.ndim == 4:
        images = images[..., 0]
    out: dict[str, Any] = {"versions": _versions(version), "labels": [], "seconds": {}}
    arrays = {}
    for label, kwargs in (("tflite", {}), ("keras", {"use_tflite": False})):
        model = fer_class(mtcnn=False, **kwargs)
        out["labels"] = [model._get_labels()[i] for i in range(7)]
        start = time.perf_counter()
        probs = [
            np.asarray(model._classify_emotions(_preprocess(images[i : i + 256], (64, 64))))
            for i in range(0, len(images), 256)
        ]
        out["seconds"][label] = time.perf_counter() - start
        arrays[label] = np.concatenate(probs).astype("float32")
    np.savez_compressed(args.out, **arrays)
    out["probabilities"] = str(args.out)
    return out


def cmd_photos(args: argparse.Namespace) -> dict[str, Any]:
    """fer's whole pipeline on the RGB images of an ``.npz`` (key ``images``, one array of
    equal-sized photos): ``FER(mtcnn=False).detect_emotions``, boxes and emotion scores."""
    import numpy as np

    fer_class, version = _import_fer()
    model = fer_class(mtcnn=False)
    images = np.load(args.images)["images"]
    labels = [model._get_labels()[i] for i in range(7)]
    faces = []
    start = time.perf_counter()
    for rgb in images:
        found = model.detect_emotions(np.ascontiguousarray(rgb[..., ::-1]))  # fer takes BGR
        faces.append(
            [
                {
                    "box": [int(v) for v in f["box"]],
                    "scores": [float(f["emotions"][name]) for name in labels],
                }
                for f in found
            ]
        )
    return {
        "versions": _versions(version),
        "labels": labels,
        "faces": faces,
        "seconds": time.perf_counter() - start,
    }


def cmd_folder(args: argparse.Namespace) -> dict[str, Any]:
    """fer over a folder as its users loop over one: ``cv2.imread`` and
    ``FER(mtcnn=False).detect_emotions`` for each image file, sorted; faces and seconds."""
    import cv2

    fer_class, version = _import_fer()
    model = fer_class(mtcnn=False)
    paths = sorted(p for p in Path(args.folder).iterdir() if p.suffix.lower() in (".jpg", ".png"))
    model.detect_emotions(cv2.imread(str(paths[0])))  # warm-up, not counted
    faces = 0
    start = time.perf_counter()
    for path in paths:
        faces += len(model.detect_emotions(cv2.imread(str(path))))
    return {
        "versions": _versions(version),
        "photos": len(paths),
        "faces": faces,
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    detect = sub.add_parser("detect")
    detect.add_argument("photos", nargs="+")
    detect.add_argument("--repeat", type=int, default=5)
    latency = sub.add_parser("latency")
    latency.add_argument("photos", nargs="+")
    latency.add_argument("--repeat", type=int, default=20)
    latency.add_argument("--rounds", type=int, default=3)
    latency.add_argument("--batch", type=int, default=256)
    latency.add_argument("--seconds", type=float, default=6.0)
    classify = sub.add_parser("classify")
    classify.add_argument("crops")
    classify.add_argument("--out", required=True)
    photos = sub.add_parser("photos")
    photos.add_argument("images")
    folder = sub.add_parser("folder")
    folder.add_argument("folder")
    for command in (detect, latency, classify, photos, folder):
        command.add_argument("--json-out", required=True)
    args = parser.parse_args()
    commands = {
        "detect": cmd_detect,
        "latency": cmd_latency,
        "classify": cmd_classify,
        "photos": cmd_photos,
        "folder": cmd_folder,
    }
    result = commands[args.command](args)
    Path(args.json_out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
