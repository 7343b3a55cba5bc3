"""Compose the face-detection test photos and their ground truth from scikit-image's data.

    python examples/photos/make_test_photos.py [--out examples/photos] [--sheet-only]

There is no photo collection we may ship, so the test photos are built from the two
scikit-image data images that show a person, both free of copyright restrictions:

- ``skimage.data.astronaut()``: Eileen Collins, NASA, public domain; a frontal, smiling face.
- ``skimage.data.camera()``: the "cameraman", CC0 (Lav Varshney); a grey three-quarter
  profile, partly hidden by the camera.

Their faces are cut out with a feathered elliptical mask and planted, scaled, mirrored,
slightly rotated (at most 10 degrees) and brightened or darkened, onto scikit-image textures
(grass, gravel, brick, moon). Everything is seeded, so a rerun writes the same pixels.

Written into ``--out``:

- ``couple.jpg``: 2 faces side by side at portrait scale (122 and 153 pixels wide), one
  mirrored, turned by -3 and +6 degrees, each in front of another background (brick, grass).
- ``group_small.jpg``: 10 faces (2 profiles), 30 to 70 pixels wide, turned up to 4 degrees,
  on grass.
- ``group_large.jpg``: 6 faces (2 profiles), 80 to 150 pixels wide, on brick.
- ``group_class.jpg``: 24 faces (3 profiles) in three rows of 9, 8 and 7 like a class
  photo, 45 to 90 pixels wide (smaller at the back), 5 turned by 3 to 8 degrees, brightness
  70 to 125 %, some mirrored, on a blue-grey brick wall (1280x800).
- ``tilted.jpg``: 5 faces (1 profile), 100 to 125 pixels wide, turned by -10 to +10 degrees,
  on gravel.
- ``dark.jpg``: 4 faces (1 profile) at 25 to 55 % of their brightness, one lit from the side,
  with noise.
- ``camera.jpg``: the cameraman photo itself (one profile face).
- ``no_face.jpg``: no person: the cat ``chelsea``, ``coffee``, ``rocket`` and the left
  view of ``stereo_motorcycle``, tiled 2 x 2.
- ``faces.json``: the ground-truth boxes of every photo, including the existing
  ``astronaut.jpg`` (``skimage.data.astronaut()`` as a JPEG; this script writes it only into
  a folder that lacks it, and never rewrites the one in the repository).
- ``ground_truth.png``: every photo with its ground-truth boxes drawn, on one contact sheet.

Box convention (``faces.json``): ``[x, y, width, height]`` in the photo's pixels, from the
top of the eyebrows to the bottom of the chin and from ear to ear (for the profile face: from
the visible ear to the tip of the nose). The two source boxes were placed by eye on 5x
enlargements; a planted face inherits its box through the same scaling, mirroring and
translation. A turned face's box is the axis-aligned box of the ellipse inscribed in the
source box, turned with the face (for 10 degrees it is within 2 % of the unturned size).
Photos are JPEG quality 85.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

SEED = 2026
QUALITY = 85

#: Face boxes (x, y, width, height) in the skimage originals, set by eye (see the docstring).
ASTRONAUT_FACE = (172, 88, 103, 90)
CAMERA_FACE = (180, 138, 73, 55)

CONVENTION = (
    "[x, y, width, height] in pixels; top of the eyebrows to the bottom of the chin, ear to ear "
    "(profile: visible ear to nose tip); planted faces inherit the source box through the same "
    "scale, mirror and shift; a turned face gets the axis-aligned box of the turned ellipse "
    "inscribed in its box"
)


@dataclass(frozen=True)
class Source:
    """A face to plant: its image, the face box and the patch cut around it (x0, y0, x1, y1)."""

    name: str
    image: npt.NDArray[np.uint8]
    face: tuple[int, int, int, int]
    patch: tuple[int, int, int, int]


def sources() -> dict[str, Source]:
    """The two faces of scikit-image's data, with a patch that holds hair and neck."""
    from skimage import data

    camera = np.repeat(data.camera()[:, :, np.newaxis], 3, axis=2)
    return {
        "astronaut": Source("astronaut", data.astronaut(), ASTRONAUT_FACE, (118, 22, 330, 240)),
        "camera": Source("camera", camera, CAMERA_FACE, (134, 86, 290, 232)),
    }


def texture(name: str, size: tuple[int, int], low: tuple, high: tuple) -> Image.Image:
    """A grey skimage texture tiled to ``size`` (w, h) and coloured from ``low`` to ``high``."""
    from skimage import data

    grey = getattr(data, name)().astype(np.float32) / 255.0
    reps = (math.ceil(size[1] / grey.shape[0]), math.ceil(size[0] / grey.shape[1]))
    tiled = np.tile(grey, reps)[: size[1], : size[0], np.newaxis]
    lo, hi = np.array(low, np.float32), np.array(high, np.float32)
    return Image.fromarray(np.clip(lo + (hi - lo) * tiled, 0, 255).astype(np.uint8))


def feathered_ellipse(size: tuple[int, int], soft: float = 0.18) -> Image.Image:
    """An ``L`` mask: opaque inside the inscribed ellipse, fading out over its outer ``soft``."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xs + 0.5 - w / 2) / (w / 2), (ys + 0.5 - h / 2) / (h / 2))
    alpha = np.clip((1.0 - r) / soft, 0.0, 1.0)
    return Image.fromarray((alpha * 255).astype(np.uint8))


def plant(
    canvas: Image.Image,
    src: Source,
    *,
    face_width: float,
    centre: tuple[float, float],
    mirror: bool = False,
    angle: float = 0.0,
    brightness: float = 1.0,
    side_light: float = 0.0,
) -> list[int]:
    """Paste a scaled, mirrored, turned copy of ``src``'s face with its centre at ``centre``.

    ``angle`` turns counter-clockwise in degrees; ``brightness`` multiplies the pixels;
    ``side_light`` darkens the patch linearly from one side (0: none, 1: black at the left).
    Returns the face's ground-truth box ``[x, y, w, h]`` in ``canvas`` pixels.
    """
    x0, y0, x1, y1 = src.patch
    fx, fy, fw, fh = src.face
    scale = face_width / fw
    pw, ph = round((x1 - x0) * scale), round((y1 - y0) * scale)
    sx, sy = pw / (x1 - x0), ph / (y1 - y0)
    patch = Image.fromarray(src.image[y0:y1, x0:x1]).resize((pw, ph), Image.Resampling.LANCZOS)
    # the face box in patch pixels
    bx, by, bw, bh = (fx - x0) * sx, (fy - y0) * sy, fw * sx, fh * sy
    if mirror:
        patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        bx = pw - (bx + bw)
    pixels = np.asarray(patch, np.float32) * brightness
    if side_light:
        ramp = 1.0 - side_light * (1.0 - np.linspace(0.0, 1.0, pw, dtype=np.float32))
        pixels *= ramp[np.newaxis, :, np.newaxis]
    rgba = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGBA")
    rgba.putalpha(feathered_ellipse((pw, ph)))
    # face centre relative to the patch centre, then turned with the patch (PIL turns CCW)
    dx, dy = bx + bw / 2 - pw / 2, by + bh / 2 - ph / 2
    if angle:
        rgba = rgba.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        t = math.radians(angle)
        dx, dy = dx * math.cos(t) + dy * math.sin(t), -dx * math.sin(t) + dy * math.cos(t)
        c, s = math.cos(t), math.sin(t)
        bw, bh = (
            2 * math.hypot(bw / 2 * c, bh / 2 * s),
            2 * math.hypot(bw / 2 * s, bh / 2 * c),
        )
    left = round(centre[0] - (rgba.width / 2 + dx))
    top = round(centre[1] - (rgba.height / 2 + dy))
    canvas.paste(rgba, (left, top), rgba)
    cx, cy = left + rgba.width / 2 + dx, top + rgba.height / 2 + dy
    return [round(cx - bw / 2), round(cy - bh / 2), round(bw), round(bh)]


def grid_centres(
    rng: np.random.Generator, size: tuple[int, int], cols: int, rows: int, jitter: float
) -> list[tuple[float, float]]:
    """Cell centres of a ``cols x rows`` grid over ``size``, each moved by up to ``jitter``
    of a cell, in a shuffled order."""
    w, h = size
    cw, ch = w / cols, h / rows
    centres = [
        (
            (i + 0.5 + rng.uniform(-jitter, jitter)) * cw,
            (j + 0.5 + rng.uniform(-jitter, jitter)) * ch,
        )
        for j in range(rows)
        for i in range(cols)
    ]
    order = rng.permutation(len(centres))
    return [centres[k] for k in order]


def add_noise(image: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    pixels = np.asarray(image, np.float32) + rng.normal(0.0, sigma, (image.height, image.width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def group_small(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    size = (1024, 683)
    canvas = texture("grass", size, (40, 70, 25), (150, 190, 110))
    widths = [30, 34, 38, 42, 46, 50, 55, 60, 65, 70]
    names = ["astronaut"] * 8 + ["camera"] * 2
    order = rng.permutation(len(widths))
    centres = grid_centres(rng, size, 4, 3, 0.18)
    boxes = []
    for k, centre in zip(order, centres):
        boxes.append(
            plant(
                canvas,
                src[names[k]],
                face_width=widths[k],
                centre=centre,
                mirror=bool(rng.integers(2)),
                angle=float(rng.uniform(-4, 4)),
                brightness=float(rng.uniform(0.75, 1.2)),
            )
        )
    return canvas, boxes


def group_large(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    size = (1024, 683)
    canvas = texture("brick", size, (70, 40, 30), (200, 150, 120))
    specs = [  # face width, source, mirrored
        (80, "astronaut", False),
        (95, "camera", True),
        (105, "astronaut", True),
        (120, "astronaut", False),
        (135, "camera", False),
        (150, "astronaut", True),
    ]
    order = rng.permutation(len(specs))
    centres = grid_centres(rng, size, 3, 2, 0.08)
    boxes = []
    for k, centre in zip(order, centres):
        width, name, mirror = specs[k]
        boxes.append(
            plant(
                canvas,
                src[name],
                face_width=width,
                centre=centre,
                mirror=mirror,
                brightness=float(rng.uniform(0.8, 1.15)),
            )
        )
    return canvas, boxes


def couple(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    size = (640, 480)
    # a different background behind each face: brick on the left, grass on the right, with a
    # soft seam between them
    left = np.asarray(texture("brick", size, (80, 50, 40), (205, 160, 130)), np.float32)
    right = np.asarray(texture("grass", size, (45, 75, 35), (160, 195, 120)), np.float32)
    ramp = np.clip((np.arange(size[0], dtype=np.float32) - 300) / 40, 0.0, 1.0)
    ramp = ramp[np.newaxis, :, np.newaxis]
    canvas = Image.fromarray((left * (1 - ramp) + right * ramp).astype(np.uint8))
    specs = [  # face width, centre, mirrored, angle, brightness
        (150, (185, 235), False, -3.0, 1.0),
        (125, (460, 250), True, 6.0, 0.9),
    ]
    boxes = []
    for width, (cx, cy), mirror, angle, level in specs:
        boxes.append(
            plant(
                canvas,
                src["astronaut"],
                face_width=width + float(rng.uniform(-5, 5)),
                centre=(cx + rng.uniform(-10, 10), cy + rng.uniform(-10, 10)),
                mirror=mirror,
                angle=angle,
                brightness=level * float(rng.uniform(0.95, 1.05)),
            )
        )
    return canvas, boxes


def group_class(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    """A class photo: rows of 9, 8 and 7 faces, smaller at the back, the front row last."""
    size = (1280, 800)
    canvas = texture("brick", size, (45, 55, 75), (150, 160, 185))
    rows = [  # faces, row centre y, face widths (low, high)
        (9, 200, (45, 58)),
        (8, 400, (56, 72)),
        (7, 620, (72, 90)),
    ]
    count = sum(n for n, _, _ in rows)
    # three profiles, one in each row, and five faces turned by 3 to 8 degrees either way
    profiles = {int(rng.integers(0, 9)), 9 + int(rng.integers(0, 8)), 17 + int(rng.integers(0, 7))}
    turned = set(rng.choice([i for i in range(count) if i not in profiles], 5, replace=False))
    boxes = []
    index = 0
    for n, cy, (low, high) in rows:
        cell = size[0] / n
        for i in range(n):
            angle = float(rng.uniform(3, 8) * rng.choice([-1, 1])) if index in turned else 0.0
            boxes.append(
                plant(
                    canvas,
                    src["camera" if index in profiles else "astronaut"],
                    face_width=float(rng.uniform(low, high)),
                    centre=(
                        (i + 0.5) * cell + rng.uniform(-0.06, 0.06) * cell,
                        cy + rng.uniform(-10, 10),
                    ),
                    mirror=bool(rng.integers(2)),
                    angle=angle,
                    brightness=float(rng.uniform(0.7, 1.25)),
                )
            )
            index += 1
    return canvas, boxes


def tilted(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    size = (960, 640)
    canvas = texture("gravel", size, (60, 60, 70), (190, 185, 175))
    specs = [(-10, "astronaut", False), (-5, "astronaut", True), (5, "camera", False)]
    specs += [(8, "astronaut", False), (10, "astronaut", True)]
    centres = [(170, 170), (480, 150), (790, 180), (300, 470), (680, 460)]
    boxes = []
    for (angle, name, mirror), (cx, cy) in zip(specs, centres):
        centre = (cx + rng.uniform(-20, 20), cy + rng.uniform(-15, 15))
        boxes.append(
            plant(
                canvas,
                src[name],
                face_width=float(rng.uniform(100, 125)),
                centre=centre,
                mirror=mirror,
                angle=angle,
                brightness=float(rng.uniform(0.85, 1.1)),
            )
        )
    return canvas, boxes


def dark(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    size = (900, 600)
    canvas = texture("moon", size, (4, 4, 8), (40, 38, 45))
    specs = [  # face width, brightness, side light, source, mirrored
        (110, 0.45, 0.0, "astronaut", False),
        (90, 0.30, 0.0, "astronaut", True),
        (120, 0.55, 0.9, "astronaut", False),
        (85, 0.25, 0.0, "camera", True),
    ]
    centres = [(210, 190), (660, 170), (280, 450), (690, 430)]
    boxes = []
    for (width, level, side, name, mirror), (cx, cy) in zip(specs, centres):
        boxes.append(
            plant(
                canvas,
                src[name],
                face_width=width,
                centre=(cx + rng.uniform(-25, 25), cy + rng.uniform(-20, 20)),
                mirror=mirror,
                brightness=level,
                side_light=side,
            )
        )
    return add_noise(canvas, rng, 4.0), boxes


def camera(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    return Image.fromarray(src["camera"].image), [list(CAMERA_FACE)]


def no_face(src: dict[str, Source], rng: np.random.Generator) -> tuple[Image.Image, list]:
    from skimage import data

    tiles = [data.chelsea(), data.coffee(), data.rocket(), data.stereo_motorcycle()[0]]
    canvas = Image.new("RGB", (800, 600))
    for i, tile in enumerate(tiles):
        picture = Image.fromarray(tile)
        # centre-crop to 4:3, then 400x300
        w, h = picture.size
        cw, ch = min(w, round(h * 4 / 3)), min(h, round(w * 3 / 4))
        left, top = (w - cw) // 2, (h - ch) // 2
        picture = picture.crop((left, top, left + cw, top + ch))
        canvas.paste(
            picture.resize((400, 300), Image.Resampling.LANCZOS), (400 * (i % 2), 300 * (i // 2))
        )
    return canvas, []


PHOTOS = {
    "couple.jpg": (
        couple,
        "2 planted faces, 120-155 px wide, one mirrored, turned -3 and +6 degrees, "
        "on brick (left) and grass (right)",
    ),
    "group_small.jpg": (
        group_small,
        "10 planted faces (2 profiles), 30-70 px wide, turned up to 4 degrees, on grass",
    ),
    "group_large.jpg": (group_large, "6 planted faces (2 profiles), 80-150 px wide, on brick"),
    "group_class.jpg": (
        group_class,
        "24 planted faces (3 profiles) in rows of 9, 8 and 7 like a class photo, 45-90 px wide, "
        "5 turned 3-8 degrees, brightness 70-125 %, on blue-grey brick",
    ),
    "tilted.jpg": (
        tilted,
        "5 planted faces (1 profile), 100-125 px wide, turned -10..+10 degrees, on gravel",
    ),
    "dark.jpg": (
        dark,
        "4 planted faces (1 profile) at 25-55 % brightness, one lit from the side, noise",
    ),
    "camera.jpg": (camera, "skimage.data.camera(): one grey three-quarter profile face (CC0)"),
    "no_face.jpg": (no_face, "no person: skimage chelsea (a cat), coffee, rocket, motorcycle"),
}


def contact_sheet(folder: Path, truth: dict, out: Path, thumb: int = 480) -> None:
    """Every photo scaled to ``thumb`` pixels wide with its boxes, three to a row, as PNG."""
    cells = []
    for name, entry in truth["photos"].items():
        photo = Image.open(folder / name).convert("RGB")
        scale = thumb / photo.width
        small = photo.resize((thumb, round(photo.height * scale)), Image.Resampling.LANCZOS)
        draw = ImageDraw.Draw(small)
        for i, (x, y, w, h) in enumerate(entry["faces"]):
            draw.rectangle(
                [x * scale, y * scale, (x + w) * scale, (y + h) * scale],
                outline=(255, 0, 0),
                width=2,
            )
            draw.text((x * scale + 2, (y + h) * scale + 1), str(i), fill=(255, 255, 0))
        cell = Image.new("RGB", (thumb, small.height + 18), (255, 255, 255))
        cell.paste(small, (0, 18))
        ImageDraw.Draw(cell).text(
            (4, 3), f"{name}: {len(entry['faces'])} faces, {photo.width}x{photo.height}", fill=0
        )
        cells.append(cell)
    cols = 3
    rows = math.ceil(len(cells) / cols)
    heights = [max(c.height for c in cells[r * cols : (r + 1) * cols]) for r in range(rows)]
    sheet = Image.new("RGB", (cols * (thumb + 6), sum(heights) + 6 * rows), (255, 255, 255))
    y = 0
    for r in range(rows):
        for c, cell in enumerate(cells[r * cols : (r + 1) * cols]):
            sheet.paste(cell, (c * (thumb + 6), y))
        y += heights[r] + 6
    sheet.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def format_truth(truth: dict) -> str:
    """``faces.json`` text: indented, one box per line."""
    lines = ["{", f' "convention": {json.dumps(truth["convention"])},', ' "photos": {']
    photos = list(truth["photos"].items())
    for i, (name, entry) in enumerate(photos):
        boxes = ",\n".join(f"    {json.dumps(box)}" for box in entry["faces"])
        lines += [
            f"  {json.dumps(name)}: {{",
            f'   "description": {json.dumps(entry["description"])},',
            f'   "faces": [\n{boxes}\n   ]' if boxes else '   "faces": []',
            "  }" + ("," if i < len(photos) - 1 else ""),
        ]
    lines += [" }", "}", ""]
    text = "\n".join(lines)
    assert json.loads(text) == truth
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--sheet-only", action="store_true", help="only redraw ground_truth.png")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.sheet_only:
        src = sources()
        if not (out / "astronaut.jpg").exists():
            Image.fromarray(src["astronaut"].image).save(out / "astronaut.jpg", quality=QUALITY)
        truth: dict = {
            "convention": CONVENTION,
            "photos": {
                "astronaut.jpg": {
                    "description": "skimage.data.astronaut(): Eileen Collins, NASA, public domain",
                    "faces": [list(ASTRONAUT_FACE)],
                }
            },
        }
        for name, (make, description) in PHOTOS.items():
            # one generator per photo, so that changing one photo leaves the others alone
            rng = np.random.default_rng([SEED, sum(name.encode())])
            image, boxes = make(src, rng)
            image = image.filter(ImageFilter.GaussianBlur(0.4)) if name != "camera.jpg" else image
            image.convert("RGB").save(out / name, quality=QUALITY, optimize=True)
            truth["photos"][name] = {"description": description, "faces": boxes}
            print(f"wrote {out / name}: {image.width}x{image.height}, {len(boxes)} faces")
        (out / "faces.json").write_text(format_truth(truth))
        print(f"wrote {out / 'faces.json'}")
    truth = json.loads((out / "faces.json").read_text())
    contact_sheet(out, truth, out / "ground_truth.png")
    print(f"wrote {out / 'ground_truth.png'}")


if __name__ == "__main__":
    main()
