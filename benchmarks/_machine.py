"""What every benchmark prints first: the machine, the load, and a warning when it is busy."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import warnings


def describe_machine() -> str:
    """One line naming the CPU, core count, memory and Python, then the load average.

    Warns (and says so in the output) when the 1-minute load average is above half the cores:
    a background training run halves throughput, so figures from a busy machine are not
    comparable.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    mem = ""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    cores = os.cpu_count() or 1
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    lines = [
        f"machine: {cpu}, {cores} cores{mem}; Python {platform.python_version()} on {sys.platform}",
        f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)",
    ]
    if load[0] > cores / 2:
        msg = (
            f"the machine is busy (load {load[0]:.1f} on {cores} cores): figures will be low "
            "and not comparable; rerun on an idle machine"
        )
        warnings.warn(msg, stacklevel=2)
        lines.append(f"WARNING: {msg}")
    return "\n".join(lines)
