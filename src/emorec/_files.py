"""Atomic file writes: every file emorec writes for a user goes through :func:`atomic_file`.

The write goes to a temporary file in the target's folder; when it is complete the file is
flushed to disk and renamed over the target (``os.replace``, atomic on POSIX and Windows), as
SQLite and git write. A kill at any instant leaves either the old file or the new one, never a
torn one; a failed write removes the temporary and leaves the target untouched. The new file
gets the old one's permissions, or the usual ones for a new file (``0o666`` less the umask),
not ``mkstemp``'s owner-only ``0o600``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = [
    "PARTIAL",
    "atomic_file",
    "partial_affixes",
    "remove_partials",
    "remove_partials_of",
    "replace_durably",
    "write_atomic",
]

#: What the names of unfinished writes contain (``.best.keras.x1y2.partial.keras``).
PARTIAL = ".partial"


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # read it the only portable way, once
    os.umask(mask)
    return mask


def partial_affixes(path: str | os.PathLike[str], suffix: str | None = None) -> tuple[str, str]:
    """The ``prefix`` and ``suffix`` for :func:`tempfile.mkstemp` of a temporary that will be
    renamed over ``path``: hidden, named after it, ending in ``.partial`` and ``suffix`` (by
    default ``path``'s own suffixes, for writers that go by the name)."""
    target = Path(path)
    return f".{target.name}.", f"{PARTIAL}{''.join(target.suffixes) if suffix is None else suffix}"


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a file atomically: yields a temporary path in the same folder, ending in the same
    suffixes (``.keras``, ``.weights.h5``: writers that go by the name pick the right format
    or insist on it); when the block ends the
    file is flushed to disk and renamed over ``path``; if it raises, the temporary is removed
    and ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec.training.run_folder import atomic_file
    >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_file(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read(), os.listdir(os.path.dirname(target))
    ('done', ['notes.txt'])
    """
    target = Path(path)
    prefix, suffix = partial_affixes(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        replace_durably(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def replace_durably(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Flush the complete file ``src`` to disk, rename it over ``dst`` (same file system) and
    flush the folder's entry, so that after a crash ``dst`` is either the old file or ``src``."""
    with open(src, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(src, dst)
    if os.name == "posix":  # the rename itself, as SQLite does; not possible on Windows
        with contextlib.suppress(OSError):
            fd = os.open(Path(dst).parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8, line ends as given) to ``path`` with
    :func:`atomic_file`."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def remove_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove what writes killed half-way left in ``folder`` (hidden ``.*.partial*`` files of
    :func:`atomic_file`); returns their paths."""
    removed = []
    for leftover in Path(folder).glob(f".*{PARTIAL}*"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def remove_partials_of(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Remove the temporaries that writes of ``paths`` killed half-way left beside them (named
    by :func:`partial_affixes`, with any suffix); returns their paths. Files of other names
    are never touched, and each folder is listed once however many paths it holds.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from emorec._files import remove_partials_of
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in (".out.mp4.k2x9_q0z.partial.mp4", ".other.mp4.k2x9_q0z.partial.mp4"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in remove_partials_of([folder / "out.mp4"])], sorted(os.listdir(folder))
    (['.out.mp4.k2x9_q0z.partial.mp4'], ['.other.mp4.k2x9_q0z.partial.mp4'])
    """
    names: dict[Path, set[str]] = {}
    for path in paths:
        target = Path(path)
        names.setdefault(target.parent, set()).add(target.name)
    # ".<name>." + mkstemp's random part (8 characters of [a-z0-9_]) + ".partial<suffixes>"
    pattern = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}" + re.escape(PARTIAL) + r"(\.[^/]*)?")
    removed = []
    for folder, wanted in names.items():
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for leftover in folder.iterdir():
                match = pattern.fullmatch(leftover.name)
                if (
                    match is not None
                    and match["name"] in wanted
                    and leftover.is_file()
                    and not leftover.is_symlink()
                ):
                    leftover.unlink(missing_ok=True)
                    removed.append(leftover)
    return removed
