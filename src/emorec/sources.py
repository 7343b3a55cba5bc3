"""What a collection of inputs means: files, folders and globs turned into file paths.

:func:`expand_sources` is the one place that reads a folder or a glob for prediction
(:meth:`emorec.EmotionClassifier.predict_iter`, ``emorec predict``). Folders give their image
files (by suffix, :data:`emorec.images.IMAGE_EXTENSIONS`; ``emorec predict`` asks for videos
too), sorted, optionally recursively;
a path with ``*``, ``?`` or ``[`` that is not a file is a glob (``**`` matches folders at any
depth); anything else (a file, bytes, an array, a PIL image) passes through as it is.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any

from .images import IMAGE_EXTENSIONS

__all__ = ["expand_sources", "is_glob", "is_hidden"]


def is_glob(text: str) -> bool:
    """Whether ``text`` has glob characters (``*``, ``?``, ``[``)."""
    return any(c in text for c in "*?[")


def is_hidden(path: PurePath) -> bool:
    """Whether a relative path is hidden: a part starting with ``.``, or macOS's ``__MACOSX``
    (the one rule for folders, zips and globs)."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def _folder(
    path: Path, pattern: str, recursive: bool, extensions: Collection[str]
) -> Iterator[str]:
    found = path.rglob("*") if recursive else path.iterdir()
    files = []
    for p in found:
        relative = p.relative_to(path)
        if (
            p.suffix.lower() in extensions
            and fnmatch.fnmatch(p.name, pattern)
            and not is_hidden(relative)
            and p.is_file()
        ):
            files.append((tuple(part.lower() for part in relative.parts), str(p)))
    for _, name in sorted(files):
        yield name


def _once(paths: list[str]) -> list[str]:
    """Each file once: ``**`` follows links to folders, so a link back up (a loop) would
    give the same files again under ever longer names; the shortest name of each is kept."""
    first: dict[str, str] = {}
    for path in sorted(paths, key=lambda p: (p.count(os.sep), p)):
        first.setdefault(os.path.realpath(path), path)
    kept = set(first.values())
    return [p for p in paths if p in kept]


def expand_sources(
    sources: Any,
    *,
    pattern: str = "*",
    recursive: bool = False,
    extensions: Collection[str] = IMAGE_EXTENSIONS,
) -> Iterator[Any]:
    """Yield the inputs that ``sources`` names, lazily, in order.

    Parameters
    ----------
    sources : path, glob, folder, image, or an iterable of them
        One image (bytes, a file object, a PIL image, an array of up to 3 dimensions) is one
        item; a 4-d array is a batch of images. A str or path-like that is a folder gives its
        image files (hidden ones left out), in sorted order; one that is not an existing file
        but has glob characters gives the image files it matches, sorted (``recursive=True``
        lets ``**`` span folders); other items are yielded unchanged.
    pattern : str
        Shell-style filter on the file names found in folders, e.g. ``"*.jpg"``.
    recursive : bool
        Look into sub-folders of folders (and let ``**`` span folders in globs).
    extensions : collection of str
        The lower-case suffixes of the files that folders and globs give: image files by
        default; ``emorec predict`` adds :data:`emorec.video.VIDEO_EXTENSIONS`.

    Raises
    ------
    FileNotFoundError
        For a glob that matches none of those files (named in the message).

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec.sources import expand_sources
    >>> root = tempfile.mkdtemp()
    >>> for name in ("b.jpg", "a.png", "notes.txt"):
    ...     open(os.path.join(root, name), "wb").close()
    >>> [os.path.basename(p) for p in expand_sources(root)]
    ['a.png', 'b.jpg']
    >>> [os.path.basename(p) for p in expand_sources(os.path.join(root, "*.jpg"))]
    ['b.jpg']
    """
    single = (
        isinstance(sources, str | os.PathLike | bytes | bytearray)
        or getattr(sources, "ndim", 4) < 4  # one image array; a 4-d array is a batch
        or hasattr(sources, "read")  # a file object
        or hasattr(sources, "getpixel")  # a PIL image
    )
    items: Iterable[Any] = [sources] if single else sources
    for item in items:
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            if path.is_dir():
                yield from _folder(path, pattern, recursive, extensions)
                continue
            text = os.fspath(item)
            if isinstance(text, str) and not path.exists() and is_glob(text):
                matches = _once(
                    sorted(
                        m
                        for m in glob.glob(text, recursive=recursive)
                        if Path(m).suffix.lower() in extensions and Path(m).is_file()
                    )
                )
                if not matches:
                    kinds = (
                        "image" if set(extensions) <= set(IMAGE_EXTENSIONS) else "image or video"
                    )
                    raise FileNotFoundError(f"{text}: no {kinds} file matches this pattern")
                yield from matches
                continue
        yield item
