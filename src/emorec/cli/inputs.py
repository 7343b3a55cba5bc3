"""What ``emorec predict`` reads: the names given (files, folders, globs, ``-`` for standard
input, pipes), checked before any work, the bytes of those that are streams, and the spelling
a resumed ``--output`` file has for them."""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import images as _images

__all__ = [
    "MAX_STREAM_BYTES",
    "STDIN_NAMES",
    "as_recorded",
    "input_names",
    "is_video_input",
    "photo_sources",
    "segments",
]

#: The most bytes read from standard input or a pipe for one photo (the cap that
#: :func:`emorec.load_image` puts on file objects).
MAX_STREAM_BYTES = _images.MAX_STREAM_BYTES
#: The names that mean standard input.
STDIN_NAMES = ("-", "/dev/stdin")


def input_names(args: argparse.Namespace) -> list[str]:
    """The inputs, folders and globs expanded (never the ``--annotate`` folder's own files),
    with the video options (``--every``, ``--fps``, ``--smooth``) checked against them."""
    from ..images import IMAGE_EXTENSIONS
    from ..sources import expand_sources
    from ..video import VIDEO_EXTENSIONS

    names: list[str] = []
    folder = (  # the --annotate folder: what folders and globs find there is never read back
        Path(args.annotate).resolve() if args.annotate and not Path(args.annotate).suffix else None
    )
    left_out = 0
    for name in args.photos:  # folders and globs become their image and video files
        if name in STDIN_NAMES or Path(name).is_file():  # a file named is a file to do
            names.append(name)
            continue
        found = list(
            expand_sources(
                name, recursive=args.recursive, extensions=IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
            )
        )
        kept = [f for f in map(str, found) if folder not in Path(f).resolve().parents]
        left_out += len(found) - len(kept)
        names.extend(kept)
    if not names:
        inside = f" but the --annotate folder {args.annotate}'s own files" if left_out else ""
        raise ValueError(f"{' '.join(args.photos)}: no image or video files there{inside}")
    if sum(n in STDIN_NAMES for n in names) > 1:
        raise ValueError("standard input ('-' or /dev/stdin) can be read once only")
    videos = [n for n in names if is_video_input(n)]
    if (args.every is not None or args.fps is not None or args.smooth != 1) and not videos:
        raise ValueError("--every, --fps and --smooth apply to videos; no video among the inputs")
    if args.every is not None and args.every < 1:
        raise ValueError(f"--every {args.every}: expected a whole number of frames, 1 or more")
    if args.fps is not None and not 0 < args.fps < float("inf"):
        raise ValueError(f"--fps {args.fps}: expected frames per second, above 0")
    if args.smooth < 1:
        raise ValueError(f"--smooth {args.smooth}: expected a whole number of frames, 1 or more")
    for video in videos:  # checked before any work, as the photos' output files are
        if not Path(video).is_file():
            raise FileNotFoundError(f"{video}: no such video file")
    return names


def is_video_input(name: str) -> bool:
    from ..video import is_video

    return name not in STDIN_NAMES and is_video(name)


def photo_sources(names: Sequence[str]) -> list[Any]:
    """What ``predict`` reads for each name: the path, or the bytes of standard input
    (``-``, ``/dev/stdin``) and of pipes named on the command line (``<(...)``)."""
    sources: list[Any] = []
    for name in names:
        stream = None
        if name in STDIN_NAMES:
            stream = sys.stdin.buffer
        else:
            with contextlib.suppress(OSError):
                if stat.S_ISFIFO(os.stat(name).st_mode):
                    stream = open(name, "rb")  # noqa: SIM115 - closed below
        if stream is None:
            sources.append(name)
            continue
        try:
            sources.append(_images.read_stream(stream, name, MAX_STREAM_BYTES))
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    return sources


def as_recorded(labels: list[str], recorded: set[str]) -> list[str]:
    """``labels``, each spelt as a resumed file has it where it names the same file there
    (``k/a.jpg`` given now as ``/home/me/k/a.jpg`` or ``./k/a.jpg``), so that the job skips it
    and goes on writing the file's spelling.

    A relative name in the file was relative to the working folder of the job that wrote it,
    which may not be this one: where no name matches from here, a recorded relative name
    matches the input whose absolute path ends with it (``photos/a.jpg`` recorded from
    ``/home/me``, given now as ``../me/photos/a.jpg`` from ``/home/other``), when exactly one
    input does and the file records that name once (so two folders with an ``a.jpg`` each are
    never confused)."""
    spelt = {_file_key(r): r for r in recorded if r != "<stdin>"}
    if not spelt:
        return labels
    out = [n if n == "<stdin>" else spelt.get(_file_key(n), n) for n in labels]
    unmatched = [i for i, n in enumerate(out) if n != "<stdin>" and n not in recorded]
    relative = [r for r in recorded if r != "<stdin>" and not os.path.isabs(r)]
    if not unmatched or not relative:
        return out
    by_tail: dict[tuple[str, ...], list[str]] = {}
    for r in relative:
        by_tail.setdefault(_tail(r), []).append(r)
    claims: dict[str, list[int]] = {}
    for i in unmatched:
        parts = Path(_file_key(out[i])).parts
        for length in range(len(parts) - 1, 0, -1):  # the longest recorded tail first
            names = by_tail.get(parts[-length:])
            if names:
                if len(names) == 1:
                    claims.setdefault(names[0], []).append(i)
                break
    taken = set(out)
    for name, inputs in claims.items():
        if len(inputs) == 1 and name not in taken:
            out[inputs[0]] = name
    return out


def _tail(name: str) -> tuple[str, ...]:
    """A relative name's path parts, without the ``.`` and ``..`` it starts with."""
    parts = Path(os.path.normcase(os.path.normpath(name))).parts
    while parts and parts[0] in (".", ".."):
        parts = parts[1:]
    return parts


def _file_key(name: str) -> str:
    """What two spellings of one path have in common (relative to the working folder)."""
    return os.path.normcase(os.path.abspath(name))


def segments(names: Sequence[str], todo: Sequence[int]) -> Iterator[tuple[bool, list[int]]]:
    """The inputs to do in order: runs of photos, and each video alone (``(is_video, ...)``)."""
    run: list[int] = []
    for i in todo:
        if is_video_input(names[i]):
            if run:
                yield False, run
                run = []
            yield True, [i]
        else:
            run.append(i)
    if run:
        yield False, run
