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
from collections.abc import Iterator, Sequence
from types import ModuleType

__all__ = ["SHOW", "install", "quiet_native"]

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


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` and its device probe under :func:`quiet_native`."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with quiet_native():
            self.real.exec_module(module)
            with contextlib.suppress(Exception):  # the CUDA probe prints on first use
                module.config.list_physical_devices()


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, the usual way, and hands it a :class:`_QuietLoader`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # once: the real finders from here on
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
