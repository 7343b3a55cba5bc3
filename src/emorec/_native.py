"""Native log lines kept off the terminal: what TensorFlow's and TFLite's C++ code writes to
the process's stdout and stderr (oneDNN and CUDA probes at import, the XNNPACK "INFO" line
of every interpreter, the converter's quantization summary) bypasses Python and
``TF_CPP_MIN_LOG_LEVEL``, so :func:`quiet_native` points the file descriptors at
``os.devnull`` for the native call only.

They are shown when :data:`SHOW` is true (the CLI's ``--debug`` sets it) or when the user
asks TensorFlow for everything with ``TF_CPP_MIN_LOG_LEVEL=0``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["SHOW", "quiet_native"]

#: Show the native lines (``emorec --debug``).
SHOW = False


def _wanted() -> bool:
    return not SHOW and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() != "0"


@contextlib.contextmanager
def quiet_native(stdout: bool = False, stderr: bool = True) -> Iterator[None]:
    """Run the block with the process's stderr (and stdout, if asked) pointed at
    ``os.devnull``; Python exceptions raised in it surface as usual once they are back.

    File descriptors 2 and 1 are redirected (native code writes there whatever
    ``sys.stderr`` is); Python's own buffers are flushed first.

    Examples
    --------
    >>> from emorec._native import quiet_native
    >>> with quiet_native():
    ...     _ = os.write(2, b"a native line nobody sees")
    """
    streams = [s for s, chosen in ((sys.stdout, stdout), (sys.stderr, stderr)) if chosen]
    fds = [fd for fd, chosen in ((1, stdout), (2, stderr)) if chosen]
    saved: list[tuple[int, int]] = []
    if _wanted():
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.flush()
        for fd in fds:
            with contextlib.suppress(OSError):  # a closed descriptor stays closed
                saved.append((fd, os.dup(fd)))
    devnull = os.open(os.devnull, os.O_WRONLY) if saved else None
    try:
        for fd, _ in saved:
            os.dup2(devnull, fd)  # type: ignore[arg-type]
        yield
    finally:
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        if devnull is not None:
            os.close(devnull)
