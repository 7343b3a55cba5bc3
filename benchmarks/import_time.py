"""How long ``import emorec`` takes, and that it loads no TensorFlow.

Runs ``python -c "import emorec"`` in fresh processes (so nothing is cached in the interpreter)
and reports the median wall time, next to ``import numpy`` (a floor: emorec needs it) and
``import tensorflow`` (what a lazy import saves).

    python benchmarks/import_time.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _machine import describe_machine


def time_import(statement: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine())
    check = (
        "import sys, emorec; bad = [m for m in ('tensorflow', 'keras') if m in sys.modules];"
        " assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", check], check=True)
    print("import emorec loads neither tensorflow nor keras: OK")
    base = time_import("pass", args.repeat)
    print(
        f"median of {args.repeat} fresh processes, interpreter start-up ({base:.3f} s) subtracted:"
    )
    for name in ("numpy", "emorec", "tensorflow"):
        t = time_import(f"import {name}", args.repeat if name != "tensorflow" else 3)
        print(f"  import {name:<11} {t - base:6.3f} s")


if __name__ == "__main__":
    main()
