"""Fine-tune the bundled model on your own labelled faces (here: a folder this script makes).

    python examples/fine_tune_own_faces.py [WORK_DIR]

Your data is one folder per class; the class names need not be FER2013's. This example writes
a small folder of synthetic faces in three classes of its own ("grin", "frown", "gasp"),
fine-tunes the bundled model on it (a new 3-way head on the trained network), and classifies a
new image with the result. It takes a few seconds on a CPU.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from emorec import EmotionClassifier, EmotionDataset


def draw_face(kind: str, rng: np.random.Generator) -> Image.Image:
    img = Image.new("L", (48, 48), int(rng.integers(160, 230)))
    d = ImageDraw.Draw(img)
    r, cx, cy = int(rng.integers(17, 21)), 24 + int(rng.integers(-2, 3)), 24
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=int(rng.integers(90, 130)))
    for ex in (cx - r // 3, cx + r // 3):
        d.ellipse([ex - 2, cy - 8, ex + 2, cy - 4], fill=10)
    if kind == "grin":
        d.arc([cx - 9, cy - 4, cx + 9, cy + 10], 20, 160, fill=15, width=2)
    elif kind == "frown":
        d.arc([cx - 9, cy + 4, cx + 9, cy + 16], 200, 340, fill=15, width=2)
    else:
        d.ellipse([cx - 4, cy + 3, cx + 4, cy + 12], outline=15, width=2)
    return img


def main(work: Path) -> None:
    rng = np.random.default_rng(0)
    folder = work / "my_faces"
    for kind in ("grin", "frown", "gasp"):
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for i in range(20):
            draw_face(kind, rng).save(folder / kind / f"{i}.png")
    data = EmotionDataset.from_directory(folder)
    print(data.summary())
    clf = EmotionClassifier.load()
    mine = clf.fine_tune(data, output_dir=work / "run", epochs=3, batch_size=16, seed=0, verbose=0)
    print("new labels:", mine.labels)
    [face] = mine.predict(np.asarray(draw_face("gasp", rng)))
    print(f"a new 'gasp' face: {face.label} ({face.score:.0%})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
