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
    "FileBusyError",
    "atomic_file",
    "check_free_space",
    "hold_lock",
    "partial_affixes",
    "remove_partials",
    "remove_partials_of",
    "replace_durably",
    "write_atomic",
]

#: What the names of unfinished writes contain (``.best.keras.k2x9_q0z.emorec.partial.keras``):
#: with the hidden dot, the name of the file and mkstemp's eight random characters, a name no
#: user file has by chance (a user's own ``.draft.partial.md`` is never taken for one).
PARTIAL = ".emorec.partial"
#: The whole name of a temporary of :func:`atomic_file`: ``.<name>.<8 random>.emorec.partial``
#: and any suffixes.
_PARTIAL_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}" + re.escape(PARTIAL) + r"(\.[^/]*)?")


@functools.cache
def current_umask() -> int:
    """The process's umask (read once: reading it means setting it)."""
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
            mode = 0o666 & ~current_umask()
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
    """Remove what writes killed half-way left in ``folder`` (the temporaries of
    :func:`atomic_file`, named by :func:`partial_affixes`; no other file, whatever its name
    holds); returns their paths.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from emorec._files import remove_partials
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in (".best.keras.k2x9_q0z.emorec.partial.keras", ".draft.partial.md"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in remove_partials(folder)], os.listdir(folder)
    (['.best.keras.k2x9_q0z.emorec.partial.keras'], ['.draft.partial.md'])
    """
    removed = []
    for leftover in Path(folder).glob(f".*{PARTIAL}*"):
        if (
            _PARTIAL_NAME.fullmatch(leftover.name)
            and leftover.is_file()
            and not leftover.is_symlink()
        ):
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
    >>> for name in (".a.mp4.k2x9_q0z.emorec.partial.mp4", ".b.mp4.k2x9_q0z.emorec.partial.mp4"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in remove_partials_of([folder / "a.mp4"])], sorted(os.listdir(folder))
    (['.a.mp4.k2x9_q0z.emorec.partial.mp4'], ['.b.mp4.k2x9_q0z.emorec.partial.mp4'])
    """
    names: dict[Path, set[str]] = {}
    for path in paths:
        target = Path(path)
        names.setdefault(target.parent, set()).add(target.name)
    pattern = _PARTIAL_NAME
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


class FileBusyError(OSError):
    """Another process holds the lock of a file this one was to write (:func:`hold_lock`)."""


def hold_lock(path: str | os.PathLike[str], what: str) -> int | None:
    """Take an exclusive advisory lock on ``path`` (created empty if missing; never
    truncated), so that two jobs cannot write one file at once; returns the descriptor that
    holds it (close it to release; the system releases it when the process ends, however it
    ends), or None where the platform has no ``flock`` (Windows: no lock is taken).

    Raises
    ------
    FileBusyError
        If another process (or another open of the file in this one) holds the lock: the
        message names the file and ``what`` was to be written.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec._files import FileBusyError, hold_lock
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> fd = hold_lock(path, "rows")
    >>> try:
    ...     hold_lock(path, "rows")
    ... except FileBusyError as error:
    ...     print("refused")
    refused
    >>> os.close(fd)
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise FileBusyError(
            f"{path}: another process is writing {what} to this file (a second emorec job "
            "with the same output?); wait for it to end, or write to another file"
        ) from None
    return fd


#: Free space kept beyond a write's own size (metadata, other files of the run).
SPACE_MARGIN = 16 * 1024 * 1024


def check_free_space(path: str | os.PathLike[str], need: int, what: str) -> None:
    """Refuse a write of about ``need`` bytes to ``path`` when its file system has less free
    (plus :data:`SPACE_MARGIN`): some writers (HDF5, under Keras's ``save_weights``) crash the
    process on a full disk instead of raising an error.

    Raises
    ------
    OSError
        ``errno.ENOSPC``, naming the folder, the space free and needed, and ``what`` to do.

    Examples
    --------
    >>> import tempfile
    >>> from emorec._files import check_free_space
    >>> check_free_space(tempfile.mkdtemp() + "/x.h5", 1024, "run the command again")
    """
    import errno
    import shutil

    folder = Path(path).parent
    free = shutil.disk_usage(folder).free
    if free < need + SPACE_MARGIN:
        raise OSError(
            errno.ENOSPC,
            f"{folder}: {free / 1e6:.1f} MB free, about {(need + SPACE_MARGIN) / 1e6:.1f} MB "
            f"needed to write {Path(path).name}; free some space, then {what}",
        )
