"""Every script in examples/ runs, on tiny data, in seconds (CI runs them through pytest)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


def test_fine_tune_own_faces(tmp_path):
    out = run(ROOT / "examples" / "fine_tune_own_faces.py", str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "new labels: ('frown', 'gasp', 'grin')" in out.stdout
    assert (tmp_path / "run" / "best.keras").exists()


def test_make_toy_faces_reproduces_the_bundled_zip(tmp_path):
    out = run(ROOT / "examples" / "data" / "make_toy_faces.py", str(tmp_path / "toy.zip"))
    assert out.returncode == 0, out.stderr[-2000:]
    with (
        zipfile.ZipFile(tmp_path / "toy.zip") as new,
        zipfile.ZipFile(ROOT / "examples" / "data" / "toy_faces.zip") as shipped,
    ):
        assert new.namelist() == shipped.namelist()
        for name in new.namelist():
            assert new.read(name) == shipped.read(name), name


def test_make_test_photos_reproduces_the_bundled_photos(tmp_path):
    pytest.importorskip("skimage", reason="the photo generator composes scikit-image's images")
    out = run(ROOT / "examples" / "photos" / "make_test_photos.py", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    shipped = ROOT / "examples" / "photos"
    # astronaut.jpg is skimage's photo saved as it is (quality 90), not composed by the script
    made = sorted(p.name for p in tmp_path.glob("*.jpg") if p.name != "astronaut.jpg")
    assert made and set(made) <= {p.name for p in shipped.glob("*.jpg")}
    for name in [*made, "faces.json"]:
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
