"""Progress bars on stderr, drawn by tqdm, for long loops (reading datasets, downloads,
predicting collections and videos).

tqdm is imported only when a bar may be drawn, so ``import emorec`` and a quiet run stay
light. ``enabled=None`` draws when stderr is a terminal (tqdm's own rule), True always,
False never.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["progress", "progress_bytes"]

T = TypeVar("T")


def progress(
    items: Iterable[T], total: int | None, desc: str, unit: str, enabled: bool | None = None
) -> Iterable[T]:
    """``items``, counted on a tqdm bar ``desc: 40%|████      | 1234/5678 [00:02<00:03, 617
    unit/s]``.

    Examples
    --------
    >>> list(progress(range(3), 3, "counting", "number", enabled=False))
    [0, 1, 2]
    """
    if enabled is False:
        return items
    from tqdm import tqdm

    return tqdm(
        items,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=None if enabled is None else not enabled,
    )


def progress_bytes(total: int | None, desc: str, enabled: bool | None = None) -> Any:
    """A tqdm bar counting bytes (``bar.update(len(block))``; a context manager).

    Examples
    --------
    >>> with progress_bytes(4, "copying", enabled=False) as bar:
    ...     bar.update(4)
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=None if enabled is None else not enabled,
    )
