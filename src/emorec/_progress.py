"""A minimal progress bar for long loops (reading folders, downloads), written to stderr.

Keras' ``Progbar`` would need TensorFlow imported; this one keeps ``import emorec`` light.
It draws only when stderr is a terminal unless told otherwise, at most ten times a second.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T],
    total: int,
    desc: str,
    *,
    enabled: bool | None = None,
    stream: TextIO | None = None,
) -> Iterator[T]:
    """Yield ``items`` while drawing ``desc: 1234/5678 [#####-----] 40%`` on ``stream``."""
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    if not enabled or total <= 0:
        yield from items
        return
    start = last = time.monotonic()
    done = 0
    for done, item in enumerate(items, 1):
        yield item
        now = time.monotonic()
        if now - last >= 0.1 or done == total:
            last = now
            _draw(stream, desc, done, total, now - start)
    if done != total:
        _draw(stream, desc, done, total, time.monotonic() - start)
    stream.write("\n")
    stream.flush()


def _draw(stream: TextIO, desc: str, done: int, total: int, elapsed: float) -> None:
    width = 30
    filled = int(width * done / total)
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 else 0.0
    eta = f" ETA {int(left // 60)}:{int(left % 60):02d}" if done < total and rate > 0 else ""
    stream.write(
        f"\r{desc}: {done}/{total} [{'#' * filled}{'-' * (width - filled)}] "
        f"{100 * done / total:3.0f}% {rate:,.1f}/s{eta}  "
    )
    stream.flush()
