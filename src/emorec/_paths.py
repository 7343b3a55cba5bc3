"""Paths as users give them, checked where they enter emorec.

A path with a NUL byte cannot name a file on any system emorec runs on; the operating system
refuses it with a bare ``ValueError: embedded null byte`` that names neither the argument nor
the path (and ``pathlib`` answers "does not exist"). :func:`check_path` says which argument
held it, with the NUL shown.
"""

from __future__ import annotations

import os

__all__ = ["check_path"]


def check_path(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    argument: str,
    error: type[ValueError] = ValueError,
) -> None:
    """Refuse ``path`` if it holds a NUL byte, naming ``argument`` and the path.

    Raises
    ------
    ValueError
        (or ``error``, a subclass) If the path contains ``"\\x00"``.

    Examples
    --------
    >>> from emorec._paths import check_path
    >>> check_path("faces/happy.jpg", "path")
    >>> check_path("faces/\\x00.jpg", "path")
    Traceback (most recent call last):
    ValueError: path='faces/\\x00.jpg': a path cannot contain a NUL byte ('\\x00'); ...
    """
    text = os.fspath(path)
    if (isinstance(text, str) and "\0" in text) or (isinstance(text, bytes) and b"\0" in text):
        raise error(
            f"{argument}={text!r}: a path cannot contain a NUL byte ('\\x00'); check how "
            "the path was made (a string read from a file or built by a program)"
        )
