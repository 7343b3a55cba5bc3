"""Entry-point plugins, shared by the model and detector registries."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

logger = logging.getLogger("emorec")


def load_plugins(group: str, kind: str) -> Iterator[tuple[str, Any]]:
    """Load the entry points of ``group``; yield ``(name, object)`` for each that loads.

    A plugin that fails to import is a ``RuntimeWarning`` naming it (``kind`` says what it
    should have provided, e.g. ``"model"``), never an error: one broken package must not break
    emorec.
    """
    for ep in metadata.entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as exc:  # a plugin's bug must not break emorec
            warnings.warn(
                f"emorec: could not load {kind} plugin {ep.name!r} ({ep.value}) from "
                f"{getattr(ep.dist, 'name', 'an installed package')}: "
                f"{type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        logger.debug("loaded %s plugin %s = %s", kind, ep.name, ep.value)
        yield ep.name, obj


def where(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a callable, for messages about who registered what."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def add_to_registry(
    registry: dict[str, Any], name: str, obj: Callable[..., Any], kind: str, *, override: bool
) -> None:
    """Register ``obj`` under ``name``; a taken name is an error unless ``override``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} name must be a non-empty string, not {name!r}")
    existing = registry.get(name)
    if existing is not None and existing is not obj and not override:
        raise ValueError(
            f"a {kind} named {name!r} is registered already (by {where(existing)}); pass "
            "override=True to replace it, or choose another name"
        )
    registry[name] = obj
