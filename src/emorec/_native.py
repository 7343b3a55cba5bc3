"""Native log lines kept off the terminal: what TensorFlow's and TFLite's C++ code writes to
the process's stdout and stderr (oneDNN and CUDA probes at import, the XNNPACK "INFO" line
of every interpreter, the converter's quantization summary) bypasses Python and
``TF_CPP_MIN_LOG_LEVEL``, so :func:`quiet_native` points the file descriptors at
``os.devnull`` for the native call only.

TensorFlow's start-up lines (oneDNN, the CUDA probes on a machine without a GPU) come from
its import and its first device probe, which may happen anywhere in emorec (or in the
user's code after ``import emorec``): :func:`install` (run by ``import emorec``) wraps the
first import of ``tensorflow`` in :func:`quiet_native`, probe included, once.

They are shown when :data:`SHOW` is true (the CLI's ``--debug`` sets it) or when the user
asks TensorFlow for everything with ``TF_CPP_MIN_LOG_LEVEL=0``.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

__all__ = ["SHOW", "install", "quiet_ffmpeg", "quiet_native"]

#: Show the native lines (``emorec --debug``).
SHOW = False


def _wanted() -> bool:
    return not SHOW and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() != "0"


#: Per file descriptor: how many quiet blocks hold it, and the copy of the real one. The
#: descriptors are the process's, so blocks on several threads share one redirection: the
#: first to enter redirects, the last to leave restores.
_held: dict[int, list[int]] = {}
_lock = threading.Lock()


@contextlib.contextmanager
def quiet_native(stdout: bool = False, stderr: bool = True) -> Iterator[None]:
    """Run the block with the process's stderr (and stdout, if asked) pointed at
    ``os.devnull``; Python exceptions raised in it surface as usual once they are back.

    File descriptors 2 and 1 are redirected (native code writes there whatever
    ``sys.stderr`` is); Python's own buffers are flushed first. Safe across threads and
    nested blocks: the descriptor is restored when the last block holding it ends (what
    other threads write meanwhile is lost too).

    Examples
    --------
    >>> from emorec._native import quiet_native
    >>> with quiet_native():
    ...     _ = os.write(2, b"a native line nobody sees")
    """
    fds = [fd for fd, chosen in ((1, stdout), (2, stderr)) if chosen] if _wanted() else []
    taken: list[int] = []
    with _lock:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd in fds:
            if fd in _held:
                _held[fd][0] += 1
                taken.append(fd)
                continue
            try:
                copy = os.dup(fd)
            except OSError:  # a closed descriptor stays closed
                continue
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
            _held[fd] = [1, copy]
            taken.append(fd)
    try:
        yield
    finally:
        with _lock:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd in taken:
                entry = _held[fd]
                entry[0] -= 1
                if entry[0] == 0:
                    os.dup2(entry[1], fd)
                    os.close(entry[1])
                    del _held[fd]


def quiet_ffmpeg() -> None:
    """Keep FFmpeg's own lines (OpenCV's video backend) off stderr while frames are read.

    A video cut short makes FFmpeg print lines such as ``[mjpeg @ 0x...] overread 8`` as each
    damaged frame is decoded; emorec says what they mean (a warning naming the last frame
    read). OpenCV reads ``OPENCV_FFMPEG_LOGLEVEL`` when its FFmpeg backend starts, at the
    process's first video, so this sets it (to -8, FFmpeg's "quiet") before emorec opens a
    video: a value the user set is kept, and ``--debug`` or ``TF_CPP_MIN_LOG_LEVEL=0`` leave
    it unset. Unlike :func:`quiet_native`, it touches no file descriptor, so it costs nothing
    per frame and hides nothing of other threads.
    """
    if _wanted():
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` and its device probe under :func:`quiet_native`;
    everything else (resources, source, ``is_package``) is the real loader's."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with quiet_native():
            self.real.exec_module(module)
            with contextlib.suppress(Exception):  # the CUDA probe prints on first use
                module.config.list_physical_devices()


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, the usual way, and hands it a :class:`_QuietLoader`."""

    used = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow" or self.used:
            return None
        # once; it stays in sys.meta_path, inert (removing it while the import system walks
        # the list could make another thread's import skip a finder)
        self.used = True
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not _wanted():
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Quiet TensorFlow's start-up lines, if it is not imported yet (see the module's text)."""
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _QuietTensorFlow) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlow())
