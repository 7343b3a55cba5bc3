"""Where ``emorec predict`` writes, checked before any work: the ``--output`` and
``--timeline`` files and the ``--annotate`` file or mirrored folder tree."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .inputs import STDIN_NAMES, is_video_input

__all__ = ["annotation_targets", "check_figure_format", "check_output_path", "check_timeline"]

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def check_output_path(path: str | os.PathLike[str], option: str) -> None:
    """Before any work: refuse an output path that is a folder, and make the output file's
    folder if it is missing (as ``--annotate`` makes its folder), so that no job ends with its
    results unwritable."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{option} {target}: a folder; name a file to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"{option} {target}: cannot make its folder ({exc})") from None


def check_figure_format(path: str) -> None:
    """Refuse a --timeline file whose extension matplotlib cannot write."""
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(
            f"--timeline {path}: cannot draw a .{suffix or '(none)'} file; name a "
            f"{', '.join('.' + f for f in sorted(formats))} file"
        )


def check_timeline(args: argparse.Namespace, videos: int) -> None:
    """Refuse a ``--timeline`` that cannot be drawn (``videos`` inputs are videos; it draws
    one) or written."""
    if args.timeline:
        if videos != 1:
            raise ValueError(f"--timeline {args.timeline}: draws one video; {videos} given")
        check_output_path(args.timeline, "--timeline")
        if Path(args.timeline).exists() and not (args.overwrite or args.resume):
            raise FileExistsError(f"{args.timeline} exists; pass --overwrite to replace it")
        check_figure_format(args.timeline)


def annotation_targets(inputs: list[Path], annotate: str | None) -> list[Path]:
    """Where each annotated input goes: a file (one input), or DIR/<name>_emotions.<ext>
    with the inputs' folders mirrored below DIR, from the deepest folder that holds them all
    (``photos/a/x.jpg`` and ``photos/b/x.jpg`` go to ``DIR/a/x_emotions.jpg`` and
    ``DIR/b/x_emotions.jpg``; the photos of one folder straight into DIR; standard input's
    into DIR). The layout never depends on which names repeat. A video's is a video (``.mp4``
    when its own format cannot be written)."""
    from ..video import VIDEO_EXTENSIONS, WRITABLE_VIDEO_EXTENSIONS

    if not annotate:
        return []
    target = Path(annotate)
    writable = set(_IMAGE_SUFFIXES) | set(WRITABLE_VIDEO_EXTENSIONS)

    def named(p: Path) -> str:
        if is_video_input(str(p)):
            suffix = p.suffix if p.suffix.lower() in WRITABLE_VIDEO_EXTENSIONS else ".mp4"
        else:
            suffix = p.suffix if p.suffix.lower() in _IMAGE_SUFFIXES else ".jpg"
        return f"{'stdin' if str(p) in STDIN_NAMES else p.stem}_emotions{suffix}"

    if target.suffix.lower() in VIDEO_EXTENSIONS - WRITABLE_VIDEO_EXTENSIONS:
        raise ValueError(
            f"--annotate {target}: cannot write {target.suffix} videos; write one of "
            f"{', '.join(sorted(WRITABLE_VIDEO_EXTENSIONS))}, or name a folder"
        )
    if target.suffix.lower() in writable:
        if len(inputs) != 1:
            raise ValueError(f"--annotate {target}: {len(inputs)} inputs need a folder, not a file")
        video_in = is_video_input(str(inputs[0]))
        if video_in != (target.suffix.lower() in WRITABLE_VIDEO_EXTENSIONS):
            kind = "a video" if video_in else "an image"
            raise ValueError(f"--annotate {target}: the annotated copy of {inputs[0]} is {kind}")
        return [target]
    files = [p for p in inputs if str(p) not in STDIN_NAMES]
    root = Path(os.path.commonpath([p.resolve().parent for p in files])) if files else target
    targets = [
        target / named(p)
        if str(p) in STDIN_NAMES
        else target / p.resolve().parent.relative_to(root) / named(p)
        for p in inputs
    ]
    first: dict[Path, Path] = {}
    for source, path in zip(inputs, targets):
        if path in first:
            if first[path].resolve() == source.resolve() or str(source) in STDIN_NAMES:
                raise ValueError(f"--annotate: {source} is given twice; give each input once")
            raise ValueError(
                f"--annotate: {first[path]} and {source} would both be annotated as {path}; "
                "annotate them in separate runs, or rename one"
            )
        first[path] = source
    return targets  # the job checks the ones still to do for clashes
