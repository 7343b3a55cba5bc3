"""Draw the tiny synthetic example dataset ``toy_faces.zip`` that ships with the repository.

It is not FER2013 (which may not be redistributed here): 48x48 grey cartoon faces in four
classes, drawn with Pillow, with random size, position, brightness and noise, so that the
README's first command has a real folder-of-classes zip to read. Rerun to regenerate it::

    python examples/data/make_toy_faces.py examples/data/toy_faces.zip
"""

from __future__ import annotations

import io
import sys
import zipfile

import numpy as np
from PIL import Image, ImageDraw

MOUTHS = {
    "happy": lambda d, cx, cy, r: d.arc(
        [cx - r, cy - r, cx + r, cy + r], 20, 160, fill=20, width=2
    ),
    "sad": lambda d, cx, cy, r: d.arc(
        [cx - r, cy + 2, cx + r, cy + 2 * r], 200, 340, fill=20, width=2
    ),
    "surprise": lambda d, cx, cy, r: d.ellipse(
        [cx - r // 2, cy, cx + r // 2, cy + r], outline=20, width=2
    ),
    "neutral": lambda d, cx, cy, r: d.line(
        [cx - r, cy + r // 2, cx + r, cy + r // 2], fill=20, width=2
    ),
}


def face(label: str, rng: np.random.Generator) -> Image.Image:
    img = Image.new("L", (48, 48), int(rng.integers(150, 230)))
    d = ImageDraw.Draw(img)
    cx, cy = 24 + int(rng.integers(-3, 4)), 24 + int(rng.integers(-3, 4))
    r = int(rng.integers(17, 22))
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=int(rng.integers(90, 140)))
    for ex in (cx - r // 3, cx + r // 3):
        d.ellipse([ex - 2, cy - r // 3 - 2, ex + 2, cy - r // 3 + 2], fill=10)
    MOUTHS[label](d, cx, cy + r // 6, r // 2)
    noise = rng.normal(0, 6, (48, 48))
    return Image.fromarray(np.clip(np.asarray(img, float) + noise, 0, 255).astype(np.uint8))


def main(out: str) -> None:
    rng = np.random.default_rng(2026)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for split, n in (("train", 6), ("test", 2)):
            for label in MOUTHS:
                for i in range(n):
                    buf = io.BytesIO()
                    face(label, rng).save(buf, "PNG")
                    zf.writestr(f"{split}/{label}/{label}_{i}.png", buf.getvalue())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "toy_faces.zip")
