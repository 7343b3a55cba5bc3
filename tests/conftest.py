"""Shared fixtures: tiny datasets made on the fly (never FER2013 itself)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_FER = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fer2013"


def png_bytes(value: int, size: tuple[int, int] = (48, 48), mode: str = "L") -> bytes:
    """A PNG whose pixels all equal ``value`` (a simple marker to check labels and order)."""
    buf = io.BytesIO()
    Image.new(mode, size, value if mode == "L" else (value,) * len(mode)).save(buf, "PNG")
    return buf.getvalue()


def make_tree(root: Path, layout: dict[str, int], splits: tuple[str, ...] = ()) -> Path:
    """Write ``<split>/<class>/<i>.png`` (or ``<class>/<i>.png``) with ``n`` images per class."""
    for split in splits or ("",):
        for c, (klass, n) in enumerate(layout.items()):
            folder = root / split / klass
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                (folder / f"{i}.png").write_bytes(png_bytes(10 * c + i))
    return root


def zip_tree(root: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
    return out


@pytest.fixture
def tiny_tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "faces", {"happy": 3, "sad": 2, "anger": 2}, ("train", "test"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
