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


def separable_dataset(n: int = 60, size: int = 48, labels=("a", "b", "c"), seed: int = 0):
    """A tiny dataset a model can learn: each class has its own brightness band."""
    from emorec import EmotionDataset

    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(labels)
    base = (y * (200 // max(1, len(labels) - 1))).astype(np.int64)
    images = np.clip(base[:, None, None] + rng.integers(0, 40, (n, size, size)), 0, 255)
    return EmotionDataset.from_arrays(images.astype(np.uint8), y, list(labels))


@pytest.fixture
def tiny_ds():
    return separable_dataset()


PLUGIN_SOURCE = '''
import keras
from emorec.models import register_model


@keras.saving.register_keras_serializable(package="emorec_test_plugin")
class Brighten(keras.layers.Layer):
    """A custom layer: adds a learned offset (tests the round trip of custom layers)."""

    def build(self, input_shape):
        self.offset = self.add_weight(shape=(), initializer="zeros", name="offset")

    def call(self, x):
        return x + self.offset


def plugin_net(*, input_shape, num_classes, width=8):
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = Brighten()(x)
    x = keras.layers.Conv2D(width, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
'''


def write_distribution(
    root: Path, module: str, source: str, group: str, entries: dict[str, str]
) -> Path:
    """Write a real distribution (module + ``*.dist-info`` with ``entry_points.txt``) to root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{module}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    name = module.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [f"[{group}]", *(f"{key} = {value}" for key, value in entries.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return root


def install_plugin(root: Path, *, broken: bool = False) -> Path:
    """An architecture plugin (``plugin_net``), with a broken entry point if ``broken``."""
    entries = {"plugin_net": "emorec_test_plugin:plugin_net"}
    if broken:
        entries["broken_net"] = "emorec_test_plugin_missing:nothing"
    return write_distribution(root, "emorec_test_plugin", PLUGIN_SOURCE, "emorec.models", entries)


@pytest.fixture
def fresh_registry(monkeypatch):
    """Let a test load entry points again, and forget what it registered afterwards."""
    from emorec.models import registry

    monkeypatch.setattr(registry, "MODELS", registry.MODELS.copy())
    return registry


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Seed Python, numpy and TensorFlow for every test, so a run is the same on any machine.

    A test whose outcome a seed decides is a flaky test; this keeps CI from flickering while
    tests are written so that no seed can fail them.
    """
    import keras

    keras.utils.set_random_seed(1234)


def rss_mb() -> float:
    """This process's resident memory in MB (Linux ``/proc``)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
