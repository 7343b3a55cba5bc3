"""Long jobs in flat memory: a 10-minute video and 10,000 images through emorec's streams.

    python benchmarks/video_memory.py [--minutes 10] [--fps 5] [--images 10000]
                                      [--figure docs/_static]

- **Video**: generates a ``--minutes`` video (640x360, 25 frames/s, MPEG-4) that pans and
  zooms slowly across ``examples/photos/group_large.jpg`` (six faces), then runs
  ``EmotionClassifier.load().predict_video(video, fps=--fps, smooth=5, annotate=...)`` over it
  (the annotated copy written too), and reports frames/s, faces, tracks, and the resident
  memory after each tenth of the frames.
- **Images**: ``predict_iter`` over ``--images`` images, a small set repeated (the two
  512 px portraits of ``examples/photos`` and eight 48x48 crops of them), reporting images/s
  and the resident memory after each tenth.

The claim checked: after the first tenth (the model, the detector and the buffers warmed up)
resident memory grows by less than 50 MB (``tests/test_video.py`` and
``tests/test_collections.py`` check the same on shorter streams). ``--figure DIR`` also
writes the documentation's pictures from the first 40 s of the video: an annotated frame
(``video_frame.jpg``) and the tracks' timeline (``video_timeline.png``).

The output in ``benchmarks/results/video_memory.txt`` comes from::

    python benchmarks/video_memory.py --figure docs/_static > benchmarks/results/video_memory.txt
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import describe_machine
from folder_throughput import rss_mb
from PIL import Image

from emorec import EmotionClassifier
from emorec.video import VideoWriter, read_frames, video_info

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "photos"
SIZE = (640, 360)
VIDEO_FPS = 25


def make_video(path: Path, minutes: float) -> Path:
    """A slow pan and zoom across the group photo, ``minutes`` long."""
    photo = Image.open(EXAMPLES / "group_large.jpg").convert("RGB")
    frames = round(minutes * 60 * VIDEO_FPS)
    with VideoWriter(path, fps=VIDEO_FPS) as out:
        for i in range(frames):
            t = i / VIDEO_FPS
            zoom = 1.0 + 0.35 * (1 - np.cos(2 * np.pi * t / 47)) / 2  # 1.0 .. 1.35, 47 s period
            w = photo.width / zoom
            h = w * SIZE[1] / SIZE[0]
            h = min(h, photo.height)
            x = (photo.width - w) * (1 - np.cos(2 * np.pi * t / 31)) / 2  # across and back
            y = (photo.height - h) * (1 - np.cos(2 * np.pi * t / 53)) / 2
            out.write(np.asarray(photo.resize(SIZE, Image.BILINEAR, box=(x, y, x + w, y + h))))
    return path


def memory_line(label: str, marks: list[tuple[int, float]], unit: str) -> str:
    first = marks[0][1]
    steps = ", ".join(f"{n:,}: {mb:.0f}" for n, mb in marks)
    growth = marks[-1][1] - first
    verdict = "flat (< 50 MB)" if growth < 50 else "GROWS"
    return (
        f"{label}: resident MB after each tenth of the {unit} ({steps}); growth after the first "
        f"tenth {growth:+.1f} MB, peak step {max(mb for _, mb in marks) - first:+.1f} MB: {verdict}"
    )


def run_video(clf: EmotionClassifier, args: argparse.Namespace, folder: Path) -> None:
    start = time.perf_counter()
    video = make_video(folder / "pan.mp4", args.minutes)
    info = video_info(video)
    print(
        f"video: {info.frames:,} frames of {info.width}x{info.height} at {info.fps:g} fps "
        f"({info.duration / 60:.1f} min, {video.stat().st_size / 2**20:.1f} MB), made in "
        f"{time.perf_counter() - start:.0f} s; predict_video(fps={args.fps:g}, smooth=5, "
        "annotate=...)"
    )
    expected = read_frames(video, fps=args.fps).expected
    marks: list[tuple[int, float]] = []
    faces = 0
    tracks: set[int] = set()
    start = time.perf_counter()
    n = 0
    for n, frame in enumerate(
        clf.predict_video(video, fps=args.fps, smooth=5, annotate=folder / "annotated.mp4"), 1
    ):
        faces += len(frame.faces)
        tracks.update(f.track for f in frame.faces)
        if n % max(1, expected // 10) == 0:
            marks.append((n, rss_mb()))
    seconds = time.perf_counter() - start
    print(
        f"  {n:,} frames in {seconds:.0f} s: {n / seconds:.1f} frames/s "
        f"({n / seconds / args.fps:.2f}x real time), {faces / max(n, 1):.1f} faces a frame, "
        f"{len(tracks)} tracks"
    )
    print("  " + memory_line("video", marks, "frames"))


def run_images(clf: EmotionClassifier, count: int) -> None:
    portraits = [
        np.asarray(Image.open(EXAMPLES / n).convert("RGB")) for n in ("astronaut.jpg", "camera.jpg")
    ]
    crops = []
    for photo in portraits:
        for face in clf.predict(photo):
            x, y, w, h = face.box
            crop = Image.fromarray(photo[y : y + h, x : x + w]).convert("L").resize((48, 48))
            crops.extend(np.asarray(crop.rotate(a)) for a in (-8, -3, 3, 8))
    small_set = [*portraits, *crops]
    print(
        f"images: predict_iter over {count:,} images, {len(small_set)} repeated "
        f"({len(portraits)} photos of 512 px, {len(crops)} crops of 48x48)"
    )
    marks: list[tuple[int, float]] = []
    start = time.perf_counter()
    n = 0
    stream = clf.predict_iter(itertools.islice(itertools.cycle(small_set), count))
    for n, _ in enumerate(stream, 1):
        if n % max(1, count // 10) == 0:
            marks.append((n, rss_mb()))
    seconds = time.perf_counter() - start
    print(f"  {n:,} images in {seconds:.0f} s: {n / seconds:.1f} images/s")
    print("  " + memory_line("images", marks, "images"))


def figures(clf: EmotionClassifier, folder: Path, out: Path) -> None:
    from emorec.plots import annotate, plot_timeline

    video = make_video(folder / "short.mp4", 40 / 60)
    frames = list(clf.predict_video(video, fps=5, smooth=5))
    out.mkdir(parents=True, exist_ok=True)
    title = "pan.mp4, fps=5, smooth=5"
    plot_timeline(frames, out / "video_timeline.png", max_tracks=4, title=title)
    shown = frames[len(frames) // 3]
    image = next(f.image for f in read_frames(video, start=shown.frame))
    annotate(image, shown.faces).save(out / "video_frame.jpg", quality=88)
    print(
        f"figures: {out / 'video_frame.jpg'} (frame {shown.frame}, {shown.time:.1f} s) and "
        f"{out / 'video_timeline.png'} (the 4 longest of the first 40 s's tracks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=5.0, help="frames classified a second")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--figure", metavar="DIR", help="write the docs' pictures into DIR")
    parser.add_argument("--skip", choices=["video", "images"], action="append", default=[])
    args = parser.parse_args()
    print(describe_machine())
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    clf = EmotionClassifier.load()
    print(f"emorec: {clf!r}, detector {clf.detector!r}")
    with tempfile.TemporaryDirectory(prefix="emorec-video-") as tmp:
        if args.figure:
            figures(clf, Path(tmp), Path(args.figure))
        if "video" not in args.skip:
            run_video(clf, args, Path(tmp))
        if "images" not in args.skip:
            run_images(clf, args.images)


if __name__ == "__main__":
    main()
