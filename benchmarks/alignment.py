"""Does levelling the eyes (``crop_faces(..., align=True)``) help the classifier on tilted faces?

    python benchmarks/alignment.py [--photos examples/photos] [--fer-images 600]

Two stand-ins for tilted real faces, each rotated by -25, -15, +15 and +25 degrees (OpenCV,
bilinear, edges replicated), detected with the default detector (BlazeFace), cut out with
``emorec.faces.crop_faces(..., align=False)`` and ``align=True`` (the classifier's size, colour
mode and margin) and classified with the bundled classifier's ``predict_proba``:

(a) **Test photos.** The faces of the upright photos in ``examples/photos/faces.json`` (all but
    ``tilted.jpg``). Each whole photo is rotated about its centre (the canvas grows to hold it);
    a face counts as found when a detection's centre lies within half the face's width of the
    rotated ground-truth centre. Reported: faces found, and how often the label equals the
    label of the same face in the upright photo (detected there, ``align=False``, today's
    default), with the mean L1 distance between the two probability vectors.
(b) **FER2013 PublicTest.** ``--fer-images`` crops drawn at random (seed 0) from ``test/`` of
    ``../shared/datasets/fer2013/fer2013.zip``; each rotated 48 px crop is upscaled to 96 px
    and centred on a 192 px canvas (edges replicated) so that BlazeFace can find the face.
    Reported: faces found (the best-scoring face of each image), accuracy with alignment off
    and on over the images where a face was found, and the classifier on the rotated and
    unrotated 48 px crops themselves, without detection.

Not a test: the figures depend on the bundled model. The output in
``benchmarks/results/alignment.txt`` comes from::

    python benchmarks/alignment.py > benchmarks/results/alignment.txt
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
from _machine import FER2013_ZIP, describe_machine

ANGLES = (-25, -15, 15, 25)


def rotate(image: np.ndarray, degrees: float, *, expand: bool) -> tuple[np.ndarray, np.ndarray]:
    """``image`` turned ``degrees`` counter-clockwise about its centre, and the 2x3 matrix that
    maps its points (x, y) to the result's."""
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    out_w, out_h = width, height
    if expand:
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        out_w, out_h = (
            int(np.ceil(width * cos + height * sin)),
            int(np.ceil(width * sin + height * cos)),
        )
        matrix[0, 2] += (out_w - width) / 2
        matrix[1, 2] += (out_h - height) / 2
    turned = cv2.warpAffine(
        image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return turned.reshape(out_h, out_w, *image.shape[2:]), matrix


def classify(clf, image: np.ndarray, faces: list, align: bool) -> np.ndarray:
    from emorec.faces import crop_faces

    crops = crop_faces(
        image, faces, size=clf.input_size, color_mode=clf.color_mode, margin=clf.margin, align=align
    )
    return clf.predict_proba(crops) if len(crops) else np.zeros((0, len(clf.labels)), np.float32)


def photos_part(clf, detector, folder: Path) -> list[str]:
    from emorec import load_image

    truth = json.loads((folder / "faces.json").read_text())["photos"]
    lines = ["(a) test photos, whole photo rotated; reference: the upright photo, align=False"]
    rows: dict[int, dict[str, list]] = {a: {"found": [], "off": [], "on": []} for a in ANGLES}
    upright_agree, total, used = [], 0, 0
    for name, entry in sorted(truth.items()):
        if name == "tilted.jpg" or not entry["faces"]:
            continue
        image = load_image(folder / name)
        used += 1
        found = detector.detect(image)
        refs = []  # (truth box, reference probabilities)
        for box in entry["faces"]:
            x, y, w, h = box
            best = max(found, key=lambda f: _iou(f.as_tuple(), box), default=None)
            if best is None or _iou(best.as_tuple(), box) < 0.3:
                continue
            off, on = classify(clf, image, [best], False)[0], classify(clf, image, [best], True)[0]
            upright_agree.append(off.argmax() == on.argmax())
            refs.append((box, off))
        total += len(refs)
        for angle in ANGLES:
            turned, matrix = rotate(image, angle, expand=True)
            faces = detector.detect(turned)
            centres = np.array([(f.x + f.width / 2, f.y + f.height / 2) for f in faces])
            for (x, y, w, h), ref in refs:
                cx, cy = matrix @ np.array([x + w / 2, y + h / 2, 1.0])
                if not len(faces):
                    rows[angle]["found"].append(False)
                    continue
                distance = np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)
                nearest = int(distance.argmin())
                ok = distance[nearest] <= w / 2
                rows[angle]["found"].append(ok)
                if not ok:
                    continue
                for key, align in (("off", False), ("on", True)):
                    probs = classify(clf, turned, [faces[nearest]], align)[0]
                    rows[angle][key].append(
                        (probs.argmax() == ref.argmax(), np.abs(probs - ref).sum())
                    )
    lines.append(
        f"  {total} faces detected upright in {used} photos; upright, align=True gives "
        f"the same label as align=False for {np.mean(upright_agree):.1%}"
    )
    lines.append("  angle  found       same label off / on    mean L1 off / on")
    all_off, all_on = [], []
    for angle in ANGLES:
        row = rows[angle]
        all_off += row["off"]
        all_on += row["on"]
        lines.append(_row(f"{angle:+d}", row["found"], row["off"], row["on"]))
    lines.append(_row("all", [ok for a in ANGLES for ok in rows[a]["found"]], all_off, all_on))
    return lines


def _row(label: str, found: list, off: list, on: list) -> str:
    same_off = np.mean([s for s, _ in off]) if off else float("nan")
    same_on = np.mean([s for s, _ in on]) if on else float("nan")
    l1_off = np.mean([d for _, d in off]) if off else float("nan")
    l1_on = np.mean([d for _, d in on]) if on else float("nan")
    return (
        f"  {label:>5}  {sum(found):4d}/{len(found):<4d}  {same_off:8.1%} / {same_on:6.1%}"
        f"        {l1_off:.3f} / {l1_on:.3f}"
    )


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def read_fer_test(path: Path, count: int, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``count`` PublicTest crops (uint8 (n, 48, 48)) and their label indices, drawn at random."""
    from PIL import Image

    from emorec.labels import canonical_label

    with zipfile.ZipFile(path) as archive:
        names = sorted(
            n for n in archive.namelist() if n.startswith("test/") and n.endswith(".jpg")
        )
        rng = np.random.default_rng(0)
        chosen = sorted(rng.choice(len(names), size=min(count, len(names)), replace=False))
        images, targets = [], []
        for index in chosen:
            name = names[index]
            with Image.open(io.BytesIO(archive.read(name))) as picture:
                images.append(np.asarray(picture.convert("L")))
            targets.append(labels.index(canonical_label(name.split("/")[1])))
    return np.stack(images), np.array(targets)


def fer_part(clf, detector, count: int) -> list[str]:
    from emorec.pixels import resize

    images, targets = read_fer_test(FER2013_ZIP, count, tuple(clf.labels))
    lines = [
        f"(b) FER2013 PublicTest, {len(images)} crops rotated, upscaled to 96 px on a 192 px "
        "canvas; accuracy over the images where a face was found",
        "  angle  found       acc. off / on      crops without detection",
    ]
    for angle in (0, *ANGLES):
        found, off, on, raw = 0, [], [], []
        for image, target in zip(images, targets):
            turned = rotate(image, angle, expand=False)[0] if angle else image
            raw.append(turned)
            big = np.pad(resize(turned[..., None], (96, 96)), ((48, 48), (48, 48), (0, 0)), "edge")
            faces = detector.detect(big[..., 0])[:1]
            if not faces:
                continue
            found += 1
            off.append(classify(clf, big, faces, False)[0].argmax() == target)
            on.append(classify(clf, big, faces, True)[0].argmax() == target)
        direct = clf.predict_proba(np.stack(raw)[..., None]).argmax(axis=1) == targets
        lines.append(
            f"  {angle:+5d}  {found:4d}/{len(images):<4d}  {np.mean(off):6.1%} / {np.mean(on):6.1%}"
            f"      {direct.mean():6.1%}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--photos", type=Path, default=root / "examples" / "photos")
    parser.add_argument("--fer-images", type=int, default=600)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(describe_machine(timed=False))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 1.0:
        msg = f"load average {load:.2f} > 1.0: other work is running (accuracy is unaffected)"
        warnings.warn(msg, stacklevel=1)
        print(f"WARNING: {msg}")
    import emorec
    from emorec.faces import get_detector

    start = time.perf_counter()
    clf = emorec.EmotionClassifier.load()
    detector = get_detector()
    print(f"classifier: {clf}; detector: {detector}")
    print()
    for line in photos_part(clf, detector, args.photos):
        print(line, flush=True)
    print()
    if FER2013_ZIP.exists():
        for line in fer_part(clf, detector, args.fer_images):
            print(line, flush=True)
    else:
        print(f"(b) skipped: {FER2013_ZIP} not found")
    print()
    print(f"ran in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
