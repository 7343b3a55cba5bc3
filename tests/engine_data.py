"""What the engine tests share (tests/test_engines_beam.py, tests/test_engines_ray.py): a small
generated folder of photos, a short video's frames and one corrupt file, and the rows that
``EmotionClassifier.predict_iter`` gives for it, to compare an engine's rows with."""

from __future__ import annotations

import importlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from emorec import EmotionClassifier
from emorec.results import result_rows

ASTRONAUT = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"

#: The name of the file that cannot be read (the dead letter's).
CORRUPT = "corrupt.jpg"


def make_folder(folder: Path) -> tuple[list[Path], Path]:
    """Four photos made from the astronaut photo, four frames of a short generated video
    (written with emorec's VideoWriter, read back with read_frames, saved as PNG), and one
    corrupt file; returns the readable files (sorted) and the corrupt one."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.open(ASTRONAUT).convert("RGB")
    for i, (angle, scale) in enumerate([(0, 1.0), (8, 1.0), (-8, 0.8), (0, 0.6)]):
        size = (round(photo.width * scale), round(photo.height * scale))
        photo.rotate(angle).resize(size).save(folder / f"photo_{i}.jpg", quality=92)
    frames = _video_frames(folder.parent / "clip.avi", np.asarray(photo.resize((256, 256))))
    for frame in frames:
        Image.fromarray(frame.image).save(folder / f"frame_{frame.index:03d}.png")
    corrupt = folder / CORRUPT
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    files = sorted(p for p in folder.iterdir() if p.name != CORRUPT)
    return files, corrupt


def _video_frames(path: Path, still: np.ndarray) -> list[Any]:
    """Eight frames of the face drifting across a grey canvas; every second one read back."""
    from emorec.video import VideoWriter, read_frames

    with VideoWriter(path, fps=8) as out:
        for t in range(8):
            canvas = np.full((320, 400, 3), 90, np.uint8)
            x = 20 + round(100 * math.sin(t / 3))
            canvas[32:288, x : x + 256] = still
            out.write(canvas)
    return list(read_frames(path, every=2))


def expected_rows(clf: EmotionClassifier, files: list[Path]) -> list[dict[str, Any]]:
    """The rows of ``predict_iter`` over the files (the CLI's rows, a face each)."""
    return [
        row
        for source, faces in clf.predict_iter([str(p) for p in files])
        for row in result_rows(source, faces, clf.labels)
    ]


def assert_same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """The same rows in any order: sources, faces, boxes and labels equal, probabilities
    within 1e-5; every image exactly once."""

    def key(row: dict[str, Any]) -> tuple[str, int]:
        return str(row["source"]), int(row["face"] or 0)

    got_keys = sorted(key(r) for r in got)
    assert got_keys == sorted(key(r) for r in want)
    assert len(set(got_keys)) == len(got_keys)  # no image (face) twice
    by_key = {key(r): r for r in got}
    for w in want:
        g = by_key[key(w)]
        assert list(g) == list(w)  # the same columns, in the same order
        for c in w:
            if c.startswith("p_") or c in ("score", "face_score"):
                assert (g[c] is None) == (w[c] is None), (key(w), c)
                if w[c] is not None:
                    assert abs(float(g[c]) - float(w[c])) <= 1e-5, (key(w), c, g[c], w[c])
            else:
                assert g[c] == w[c], (key(w), c, g[c], w[c])


def engine_or_skip(module: str, reason: str) -> Any:
    """Import an engine's module, or skip with ``reason`` where it is absent; with
    ``EMOREC_REQUIRE_ENGINES`` set (``nox -s tests-scaling``), a missing engine fails."""
    if os.environ.get("EMOREC_REQUIRE_ENGINES"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=reason)
