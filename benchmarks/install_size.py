"""What ``pip install emorec`` costs: a fresh virtualenv's size on disk, pip included.

    python benchmarks/install_size.py [--extra train] [--keep DIR]

Makes a new virtualenv with this Python (``python -m venv``, its own pip), installs this
source tree into it (``pip install .``, or ``.[EXTRA]``) from the package index, and reports
the folder's size (every file, as ``du`` counts apparent sizes), the number of installed
distributions, the largest ones, and whether TensorFlow came with it. Then it runs the
installed ``emorec predict`` on the bundled example photo in that venv, to show the install
works, and times it. Needs the package index (PyPI) to be reachable. Issue 24's target for the
core install: at most 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "photos" / "astronaut.jpg"
TARGET_MB = 300


def folder_bytes(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())


def site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def largest(venv: Path, count: int = 8) -> list[tuple[str, int]]:
    sizes = [
        (p.name, folder_bytes(p) if p.is_dir() else p.stat().st_size)
        for p in site_packages(venv).iterdir()
        if not p.name.endswith((".dist-info", ".pth")) and p.name != "__pycache__"
    ]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", help="install emorec[EXTRA] instead of the core")
    parser.add_argument("--keep", help="make the virtualenv here and keep it")
    args = parser.parse_args()
    print(describe_machine(timed=False))
    spec = f"{ROOT}[{args.extra}]" if args.extra else str(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(args.keep) if args.keep else Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        empty = folder_bytes(venv)
        python = venv / "bin" / "python"
        start = time.perf_counter()
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
            check=True,
        )
        install_s = time.perf_counter() - start
        size = folder_bytes(venv)
        listed = subprocess.run(
            [str(python), "-m", "pip", "list", "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        )
        dists = {d["name"].lower(): d["version"] for d in json.loads(listed.stdout)}
        start = time.perf_counter()
        predicted = subprocess.run(
            [str(venv / "bin" / "emorec"), "predict", str(PHOTO)],
            capture_output=True,
            text=True,
        )
        predict_s = time.perf_counter() - start
        label = "emorec" if not args.extra else f"emorec[{args.extra}]"
        print(f"\n$ python -m venv V && V/bin/pip install {'.' if not args.extra else spec}")
        print(f"empty venv (pip included): {empty / 1e6:6.0f} MB")
        print(
            f"with {label}:{' ' * max(1, 18 - len(label))}{size / 1e6:6.0f} MB, "
            f"{len(dists)} distributions (pip included), installed in {install_s:.0f} s"
        )
        print("largest:", ", ".join(f"{name} {b / 1e6:.0f} MB" for name, b in largest(venv)))
        print("tensorflow installed:", "tensorflow" in dists or "tensorflow-cpu" in dists)
        print("keras installed:", "keras" in dists)
        print(
            f"first emorec predict in it: {predict_s:.2f} s, exit {predicted.returncode}: "
            f"{(predicted.stdout or predicted.stderr).strip().splitlines()[-1][:100]}"
        )
        if not args.extra:
            verdict = "met" if size / 1e6 <= TARGET_MB else "NOT met"
            print(f"target (issue 24): core install <= {TARGET_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
