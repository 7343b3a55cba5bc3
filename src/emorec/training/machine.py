"""One line that says what machine a run trained on (for ``config.json`` and the model card).

It names the CPU, the core count, the GPUs, Python, Keras and its backend, and emorec; never a
path, a host name or a user name.
"""

from __future__ import annotations

import contextlib
import os
import platform

from .._version import __version__, installed_version

__all__ = ["describe_machine"]


def describe_machine() -> str:
    """The machine a run trains on, in one line.

    Examples
    --------
    >>> from emorec.training.machine import describe_machine
    >>> "cores" in describe_machine() and "emorec" in describe_machine()
    True
    """
    try:
        import keras

        backend = keras.backend.backend()
    except ImportError:  # pragma: no cover
        backend = "?"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as fh:
        cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    gpus = ""
    with contextlib.suppress(Exception):
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = ", ".join(d.name for d in tf.config.list_physical_devices("GPU"))
        elif backend == "jax":
            import jax

            gpus = ", ".join(d.device_kind for d in jax.devices() if d.platform == "gpu")
    return (
        f"{cpu}, {os.cpu_count()} cores{'; GPU ' + gpus if gpus else ''}; "
        f"Python {platform.python_version()}, Keras {installed_version('keras', '?')} ({backend}), "
        f"emorec {__version__}"
    )
