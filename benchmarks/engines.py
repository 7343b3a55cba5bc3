"""A folder of photos scored on Apache Beam and on Ray Data, with 1 and 2 workers, beside
``predict_iter`` on the same folder, in one run: images/s and faces found.

    python benchmarks/engines.py [--photos 200] [--model NAME_OR_FILE] [--no-beam] [--no-ray]

Needs ``pip install "emorec[beam,ray]"``; an engine that is not installed is left out, and
the line says so. Builds the folder as ``folder_throughput.py`` does (``examples/photos`` at
three sizes, repeated to ``--photos`` JPEG files), then times, from the file names to every
row in hand:

- ``EmotionClassifier.load(--model).predict_iter(folder)`` (its worker threads, after one
  warm-up photo), the reference;
- ``emorec.beam.predict_pipeline`` on Beam's in-process Python runner (``FnApiRunner``): one
  worker in this process, then two worker processes (``direct_running_mode=
  "multi_processing"``), rows written as JSON Lines;
- ``emorec.ray.predict_images`` on a local Ray (``ray.init(num_cpus=<the cores>)``) with one
  actor, then two (``ActorPoolStrategy``), rows collected with ``take_all``. The actors share
  all the cores but one, which Ray's read task needs (with none left, reading waits for ever).

The engines' times include their start-up (worker processes, actors, each loading the model),
which a collection of 200 photos does not hide: on a few cores, an engine's figures say what it
costs on one machine, not what it gains on many. Every run's faces are checked to be the same.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _machine import describe_machine
from folder_throughput import build_folder

from emorec import EmotionClassifier


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    """Seconds of ``fn()`` and the faces it found."""
    start = time.perf_counter()
    faces = fn()
    return time.perf_counter() - start, faces


def run_beam(folder: Path, out: Path, model: str | None, workers: int) -> int:
    import logging

    from emorec.beam import pipeline_options, predict_pipeline

    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    prefix = str(out / f"beam{workers}")
    predict_pipeline(
        str(folder / "*.jpg"), prefix, model=model, options=pipeline_options(workers=workers)
    )
    rows = [
        json.loads(line)
        for f in glob.glob(f"{prefix}-0*.jsonl")
        for line in Path(f).read_text().splitlines()
    ]
    return sum(r["face"] is not None for r in rows)


def run_ray(folder: Path, model: str | None, workers: int) -> int:
    from emorec.ray import predict_images

    rows = predict_images(
        str(folder),
        model=model,
        concurrency=workers,
        num_cpus=max(0.25, ((os.cpu_count() or 2) - 1) / workers),
    ).take_all()
    return sum(r["face"] is not None for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--model", default=None, help="emorec model (default: the default)")
    parser.add_argument("--no-beam", action="store_true", help="leave Apache Beam out")
    parser.add_argument("--no-ray", action="store_true", help="leave Ray out")
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "photos", Path(tmp) / "out"
        folder.mkdir()
        sizes = build_folder(folder, args.photos)
        print(
            f"folder: {args.photos} JPEG photos ({', '.join(f'{v} {k}' for k, v in sizes.items())})"
        )
        clf = EmotionClassifier.load(args.model)
        clf.predict(str(next(folder.glob("*.jpg"))))  # warm-up: model and detector loaded
        seconds, faces = timed(lambda: sum(len(f) for _, f in clf.predict_iter(folder)))
        base = args.photos / seconds
        name = f"predict_iter ({clf.model.name}, tta={clf.tta})"
        print(f"  {name:<40} {base:6.2f} images/s  {faces} faces")

        def report(name: str, fn: Callable[[], int]) -> None:
            took, found = timed(fn)
            rate = args.photos / took
            same = "" if found == faces else f"  (predict_iter found {faces}!)"
            print(
                f"  {name:<40} {rate:6.2f} images/s  {found} faces  "
                f"{rate / base:.2f}x predict_iter{same}"
            )

        for engine, flag, module in (
            ("Beam", args.no_beam, "apache_beam"),
            ("Ray", args.no_ray, "ray"),
        ):
            if flag:
                continue
            try:
                __import__(module)
            except ImportError:
                print(f'  {engine}: not installed (pip install "emorec[{engine.lower()}]")')
                continue
            if engine == "Beam":
                report(
                    "Beam FnApiRunner, 1 worker (in-process)",
                    lambda: run_beam(folder, out, args.model, 1),
                )
                report(
                    "Beam FnApiRunner, 2 worker processes",
                    lambda: run_beam(folder, out, args.model, 2),
                )
            else:
                import ray

                ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
                try:
                    report("Ray Data, 1 actor", lambda: run_ray(folder, args.model, 1))
                    report("Ray Data, 2 actors", lambda: run_ray(folder, args.model, 2))
                finally:
                    ray.shutdown()


if __name__ == "__main__":
    main()
