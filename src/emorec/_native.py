"""Native log lines kept off the terminal: what TensorFlow's and TFLite's C++ code writes to
the process's stdout and stderr (oneDNN and CUDA probes at import, the XNNPACK "INFO" line
of every interpreter, the converter's quantization summary) bypasses Python and
``TF_CPP_MIN_LOG_LEVEL``, so :func:`quiet_native` points the file descriptors at
``os.devnull`` for the native call only.

TensorFlow's start-up lines (oneDNN, the CUDA probes on a machine without a GPU) come from
its import and its first device probe. ``import emorec`` leaves them alone: the ``emorec``
command sets ``TF_CPP_MIN_LOG_LEVEL=2`` for its own process, and a library user opts in with
:func:`quiet_tensorflow_logs` (``emorec.quiet_tensorflow_logs()``).

They are shown when :data:`SHOW` is true (the CLI's ``--debug`` sets it) or when the user
asks TensorFlow for everything with ``TF_CPP_MIN_LOG_LEVEL=0``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator

__all__ = ["SHOW", "quiet_ffmpeg", "quiet_native", "quiet_tensorflow_logs"]

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


def quiet_tensorflow_logs() -> bool:
    """Import TensorFlow now, with its C++ start-up lines kept off stderr: opt-in.

    TensorFlow's C++ code prints its start-up lines (the CUDA probes on a machine without a
    GPU, oneDNN, the CPU features it was not built for) straight to the process's stderr,
    before its own log level applies. ``import emorec`` changes nothing in the process: the
    ``emorec`` command quiets these lines for itself, and a program that trains or loads Keras
    models through emorec can ask for the same by calling this before anything imports
    ``tensorflow``. It imports TensorFlow (a few seconds) and probes its devices with the
    process's stderr pointed at ``os.devnull``, then sets ``TF_CPP_MIN_LOG_LEVEL=2``
    (TensorFlow's own switch: errors only) unless the variable is set already.
    ``TF_CPP_MIN_LOG_LEVEL=0`` shows everything.

    Returns
    -------
    bool
        True if the lines were kept off; False (with a warning) when TensorFlow was imported
        already, since they were printed then.

    Examples
    --------
    >>> import emorec
    >>> emorec.quiet_tensorflow_logs()  # doctest: +SKIP
    True
    """
    if "tensorflow" in sys.modules:
        warnings.warn(
            "quiet_tensorflow_logs() came too late: TensorFlow is imported already; call it "
            "before anything imports tensorflow or keras",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    import_tensorflow_quietly()
    return True


def import_tensorflow_quietly() -> None:
    """What :func:`quiet_tensorflow_logs` does, without the warning when TensorFlow is
    imported already (the CLI's commands that need it call this)."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native():
        import tensorflow as tf

        with contextlib.suppress(Exception):  # the CUDA probe prints on its first use
            tf.config.list_physical_devices()
