"""Cold start: one photo classified by a new process, emorec beside ``fer``, in one run.

    python benchmarks/cold_start.py [PHOTO] [--repeat 7] [--fer-python PATH]

Each case is a fresh Python process that imports the library, loads its default model and
detector, reads the photo, finds and classifies its faces, and prints the result; the wall
time of the whole process is what a user waits for ``emorec predict photo.jpg``. The cases run
interleaved, ``--repeat`` times, and the median is reported (the minimum beside it):

- ``emorec predict PHOTO`` (the command line, default model on LiteRT: the light path);
- the same through Keras (``EmotionClassifier.load(runtime="keras")``: what every prediction
  cost before issue 24), when TensorFlow is installed;
- ``fer``'s ``FER().detect_emotions(cv2.imread(PHOTO))`` in its own virtualenv (see
  ``_fer_peer.py``), skipped with a note when that virtualenv is absent;
- ``python -c pass`` and ``import numpy``: the floor any Python program pays.

Default photo: ``examples/photos/astronaut.jpg`` (one face; the photo is only an input here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _fer_peer import DEFAULT_FER_PYTHON, SETUP_HINT
from _machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "photos" / "astronaut.jpg"

FER_CODE = """
import sys, cv2
try:
    from fer import FER
except ImportError:
    from fer.fer import FER
faces = FER().detect_emotions(cv2.imread(sys.argv[1]))
print([max(f["emotions"], key=f["emotions"].get) for f in faces])
"""
KERAS_CODE = """
import sys
from emorec import EmotionClassifier
print([f.label for f in EmotionClassifier.load(runtime="keras").predict(sys.argv[1])])
"""


def run_once(command: list[str]) -> tuple[float, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def emorec_command() -> list[str]:
    script = Path(sys.executable).with_name("emorec")
    if script.is_file():
        return [str(script)]
    found = shutil.which("emorec")
    if found is None:
        raise SystemExit("the emorec command is not installed beside this Python")
    return [found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", default=str(PHOTO))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--fer-python", default=DEFAULT_FER_PYTHON)
    args = parser.parse_args()
    print(describe_machine())
    print(f"photo: {args.photo}; {args.repeat} fresh processes a case, interleaved\n")
    cases: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "emorec predict PHOTO (LiteRT, default)": [*emorec_command(), "predict", args.photo],
    }
    try:
        import tensorflow  # noqa: F401  (only asks whether it is installed)
    except ImportError:
        print("(TensorFlow not installed: the Keras case is left out)")
    else:
        cases["emorec through Keras (runtime='keras')"] = [
            sys.executable,
            "-c",
            KERAS_CODE,
            args.photo,
        ]
    if Path(args.fer_python).is_file():
        cases["fer: FER().detect_emotions"] = [args.fer_python, "-c", FER_CODE, args.photo]
    else:
        print(f"(fer's virtualenv {args.fer_python} not found: set it up with {SETUP_HINT})")
    times: dict[str, list[float]] = {name: [] for name in cases}
    answers: dict[str, str] = {}
    for _ in range(args.repeat):
        for name, command in cases.items():
            elapsed, answer = run_once(command)
            times[name].append(elapsed)
            answers[name] = answer
    width = max(map(len, cases))
    print(f"{'case':<{width}}  median    min   answer")
    for name in cases:
        median = statistics.median(times[name])
        print(f"{name:<{width}}  {median:5.2f} s {min(times[name]):5.2f} s  {answers[name][:60]}")
    light = statistics.median(times["emorec predict PHOTO (LiteRT, default)"])
    for other in ("fer: FER().detect_emotions", "emorec through Keras (runtime='keras')"):
        if other in times:
            ratio = statistics.median(times[other]) / light
            print(f"{other}: {ratio:.1f}x emorec's cold start")
    print(f"target (issue 24): emorec <= 1.0 s: {'met' if light <= 1.0 else 'NOT met'}")
    print(describe_machine().splitlines()[1])


if __name__ == "__main__":
    main()
