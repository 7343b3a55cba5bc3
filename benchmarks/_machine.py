"""What the benchmarks share: the machine and load they print first (with a warning when it is
busy), the FER2013 files they read, and the two timers they measure with.

Standard library only: ``_fer_peer.py`` imports it too, in the ``fer`` package's own venv.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: FER2013 as laid out beside the checkout (``../shared/datasets/fer2013/fer2013.zip``).
FER2013_ZIP = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fer2013" / "fer2013.zip"
)


#: The challenge's tarball (``fer2013/fer2013.csv``, raw pixels) and FER+'s votes beside it.
FER2013_TAR = FER2013_ZIP.with_name("fer2013.tar.gz")
FERPLUS_CSV = FER2013_ZIP.with_name("fer2013new.csv")


#: CPU flags the machine line names when present.
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def describe_machine(*, timed: bool = True) -> str:
    """One line naming the CPU, core count, memory and Python, then the load average.

    Warns (and says so in the output) when the 1-minute load average is above half the cores:
    a background training run halves throughput, so figures from a busy machine are not
    comparable. With ``timed=False`` (a script whose figures do not depend on speed, such as
    accuracy) the load is only noted.
    """
    cpu = platform.processor() or platform.machine()
    features: list[str] = []
    try:
        with open("/proc/cpuinfo") as fh:
            info = fh.read().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
        flags = next(
            (line.split(":", 1)[1].split() for line in info if line.startswith("flags")), []
        )
        # the vector units that decide the speed of convolutions, int8 and bfloat16 (machines
        # of one name differ: one AMD EPYC had AVX-512 BF16, another AVX2 only)
        features = [f for f in VECTOR_FLAGS if f in flags]
    except (OSError, StopIteration):
        pass
    if features:
        cpu += f" ({' '.join(features)})"
    mem = ""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    cores = os.cpu_count() or 1
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    lines = [
        f"machine: {cpu}, {cores} cores{mem}; Python {platform.python_version()} on {sys.platform}",
        f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)",
    ]
    if load[0] > cores / 2 and not timed:
        lines.append(f"(busy: load {load[0]:.1f} on {cores} cores; no timed figures here)")
    elif load[0] > cores / 2:
        msg = (
            f"the machine is busy (load {load[0]:.1f} on {cores} cores): figures will be low "
            "and not comparable; rerun on an idle machine"
        )
        warnings.warn(msg, stacklevel=2)
        lines.append(f"WARNING: {msg}")
    return "\n".join(lines)


def median_ms(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` after ``warmup`` calls, in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def rate(fn: Callable[[], Any], images: int, seconds: float = 5.0, min_calls: int = 3) -> float:
    """Images per second of ``fn`` (which handles ``images`` a call), timed for ``seconds``
    after two warm-up calls (tracing, oneDNN primitive caches)."""
    fn()
    fn()
    calls, start = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return calls * images / (time.perf_counter() - start)
