"""One :class:`Registry` type for everything emorec looks up by name: architectures and face
detectors.

A registry maps a name to a factory (a function or class). It is filled three ways, the same
for every kind of plugin:

- emorec's own built-ins, whose modules are imported on the first lookup (so that
  ``import emorec`` stays light);
- the user's decorator, ``@register_x``, ``@register_x("name")`` or the plain call
  ``register_x("name", factory)``, each with ``override=``;
- installed packages, through an entry-point group (``emorec.models``, ``emorec.detectors``),
  loaded lazily on the first lookup. A plugin that fails to import is a ``RuntimeWarning``
  naming it, never an error: one broken package must not break emorec.

Listing takes shell-style patterns (:mod:`fnmatch`); an unknown name is a ``KeyError`` that
lists the closest registered names (as timm's ``create_model`` does).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import logging
import warnings
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any, Generic, TypeVar, overload

__all__ = ["Registry", "where"]

logger = logging.getLogger("emorec")

T = TypeVar("T", bound=Callable[..., Any])


def where(fn: Any) -> str:
    """``module.qualname`` of a callable, for messages about who registered what."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


class Registry(Generic[T]):
    """Names -> factories, with lazy built-ins and entry points.

    Parameters
    ----------
    kind : str
        What the registry holds, for messages (``"model"``, ``"detector"``).
    group : str
        The entry-point group of third-party plugins.
    builtins : iterable of str
        Modules that register emorec's own factories when imported; imported on first lookup.
    reserved : iterable of str
        Names nobody may register (``"default"`` for detectors).

    Examples
    --------
    >>> from emorec._plugins import Registry
    >>> shapes = Registry("shape", "emorec.doc_shapes")
    >>> @shapes.register
    ... def square(side=1):
    ...     return side * side
    >>> @shapes.register("disc")
    ... def circle(r=1):
    ...     return 3.14 * r * r
    >>> shapes.names(), shapes.get("square")(side=3)
    (['disc', 'square'], 9)
    >>> shapes.get("squar")
    Traceback (most recent call last):
    ...
    KeyError: "unknown shape 'squar'; did you mean square? registered: disc, square"
    """

    def __init__(
        self,
        kind: str,
        group: str,
        *,
        builtins: Iterable[str] = (),
        reserved: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self.group = group
        self._builtins = tuple(builtins)
        self._reserved = frozenset(reserved)
        self._entries: dict[str, T] = {}
        self._builtins_loaded = not self._builtins
        self._entry_points_loaded = False

    # ------------------------------------------------------------------ filling
    @overload
    def register(self, name_or_factory: T, factory: None = None, *, override: bool = ...) -> T: ...
    @overload
    def register(
        self, name_or_factory: str | None = None, factory: None = None, *, override: bool = ...
    ) -> Callable[[T], T]: ...
    @overload
    def register(self, name_or_factory: str, factory: T, *, override: bool = ...) -> T: ...

    def register(
        self,
        name_or_factory: str | T | None = None,
        factory: T | None = None,
        *,
        override: bool = False,
    ) -> Any:
        """Register a factory: ``@register``, ``@register("name")`` or ``register("name", f)``.

        Raises
        ------
        ValueError
            If the name is taken (unless ``override``), reserved, empty, or the factory is
            not callable.
        """
        if callable(name_or_factory) and factory is None:
            self.add(getattr(name_or_factory, "__name__", ""), name_or_factory, override=override)
            return name_or_factory
        name = name_or_factory
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"{self.kind} name must be a non-empty string, not {name!r}")
        if factory is not None:
            self.add(str(name), factory, override=override)
            return factory
        label = name if isinstance(name, str) else None

        def decorator(fn: T) -> T:
            self.add(label or str(getattr(fn, "__name__", "")), fn, override=override)
            return fn

        return decorator

    def add(self, name: str, factory: T, *, override: bool = False) -> None:
        """Register ``factory`` under ``name``; a taken name is an error unless ``override``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, not {name!r}")
        if name in self._reserved:
            raise ValueError(f"{name!r} is a reserved {self.kind} name; choose another")
        if not callable(factory):
            raise ValueError(f"{self.kind} {name!r}: {factory!r} is not callable")
        existing = self._entries.get(name)
        if existing is not None and existing is not factory and not override:
            raise ValueError(
                f"a {self.kind} named {name!r} is registered already (by {where(existing)}); "
                "pass override=True to replace it, or choose another name"
            )
        self._entries[name] = factory

    def remove(self, name: str) -> None:
        """Forget ``name`` (for tests and for plugins that replace a built-in)."""
        self._entries.pop(name, None)

    def copy(self) -> Registry[T]:
        """A registry with the same entries whose entry points are looked up again (tests
        swap one in to register names that vanish afterwards)."""
        self.load_builtins()
        other: Registry[T] = Registry(self.kind, self.group, reserved=self._reserved)
        other._entries = dict(self._entries)
        return other

    # ------------------------------------------------------------------ loading
    def load_builtins(self) -> None:
        """Import emorec's own modules of this kind (once)."""
        if self._builtins_loaded:
            return
        self._builtins_loaded = True
        for module in self._builtins:
            importlib.import_module(module)

    def load_entry_points(self) -> None:
        """Load the entry points of installed packages (once); a broken one only warns.

        An entry point may name a factory (registered under the entry point's name unless
        that name is taken) or a module (importing it registers through the decorator).
        """
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        self.load_builtins()
        for ep in metadata.entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as exc:  # a plugin's bug must not break emorec
                warnings.warn(
                    f"emorec: could not load {self.kind} plugin {ep.name!r} ({ep.value}) from "
                    f"{getattr(ep.dist, 'name', 'an installed package')}: "
                    f"{type(exc).__name__}: {exc}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            logger.debug("loaded %s plugin %s = %s", self.kind, ep.name, ep.value)
            if callable(obj) and ep.name not in self._entries and ep.name not in self._reserved:
                self._entries[ep.name] = obj

    # ------------------------------------------------------------------ lookup
    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style pattern, sorted."""
        self.load_entry_points()
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def get(self, name: str) -> T:
        """The factory registered under ``name``.

        Raises
        ------
        KeyError
            If no factory has that name; the message lists the closest registered names.
        """
        self.load_entry_points()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._entries), n=3, cutoff=0.4)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise KeyError(
                f"unknown {self.kind} {name!r}; {hint}registered: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        self.load_entry_points()
        return name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, group={self.group!r})"
