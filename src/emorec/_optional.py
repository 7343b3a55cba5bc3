"""Optional dependencies: what a feature raises when the package it needs is not installed."""

from __future__ import annotations

__all__ = ["MissingDependencyError"]


class MissingDependencyError(ImportError):
    """A feature needs a package that is not installed; the message says what to
    ``pip install``. An :class:`ImportError`; the command line reports it in one line.

    Examples
    --------
    >>> from emorec._optional import MissingDependencyError
    >>> issubclass(MissingDependencyError, ImportError)
    True
    """
