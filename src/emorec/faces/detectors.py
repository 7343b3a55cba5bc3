"""The face detector registry: ``@register_detector``, :func:`get_detector`,
:func:`list_detectors`.

One :class:`~emorec._plugins.Registry` maps a name to a factory (a class or function whose call,
with the options given to :func:`get_detector`, returns an object with
``detect(image) -> list[FaceBox]``; see :class:`~emorec.faces.FaceDetector`). Factories come
from three places: emorec's own detectors, which register themselves in their modules
(``"blazeface"`` and ``"blazeface_short"`` in :mod:`emorec.faces.blazeface`, ``"haar"`` in
:mod:`emorec.faces.haar`, ``"yunet"`` in :mod:`emorec.faces.yunet`); the user's
``@register_detector``; and installed packages through the entry-point group
``emorec.detectors`` (loaded on the first lookup; a plugin that fails to load is a warning
naming it, not a crash). An entry point may name a factory (registered under the
entry point's name) or a module that registers its detectors itself::

    [project.entry-points."emorec.detectors"]
    my_detector = "my_package.faces:MyDetector"

``"default"`` is reserved: it means :data:`DEFAULT_DETECTOR`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

from .._plugins import Registry, where
from .boxes import FaceDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "get_detector",
    "list_detectors",
    "register_detector",
]

#: The detector that ``get_detector("default")`` builds.
DEFAULT_DETECTOR: Final[str] = "blazeface"

Factory = Callable[..., Any]
F = TypeVar("F", bound=Factory)

#: The detector registry (see :class:`emorec._plugins.Registry`).
DETECTORS: Registry[Factory] = Registry(
    "detector",
    "emorec.detectors",
    builtins=["emorec.faces.blazeface", "emorec.faces.haar", "emorec.faces.yunet"],
    reserved=["default"],
)


@overload
def register_detector(name_or_fn: F, factory: None = None, *, override: bool = False) -> F: ...
@overload
def register_detector(
    name_or_fn: str | None = None, factory: None = None, *, override: bool = False
) -> Callable[[F], F]: ...
@overload
def register_detector(name_or_fn: str, factory: F, *, override: bool = False) -> F: ...


def register_detector(
    name_or_fn: str | Factory | None = None,
    factory: Factory | None = None,
    *,
    override: bool = False,
) -> Any:
    """Register a detector factory: ``@register_detector``, ``@register_detector("name")`` or
    ``register_detector("name", factory)``.

    A factory is a class or function whose call (with the keyword arguments given to
    :func:`get_detector`) returns an object with ``detect(image) -> list[FaceBox]``. The call
    shapes are the same as :func:`emorec.register_model`'s.

    Parameters
    ----------
    name_or_fn : str or callable, optional
        The name :func:`get_detector` will know it by (default: the factory's ``__name__``),
        or the factory itself.
    factory : callable, optional
        The factory, for the plain-call form.
    override : bool
        Replace a factory already registered under that name instead of raising.

    Returns
    -------
    The factory (or, given only a name, a decorator that registers and returns it).

    Raises
    ------
    ValueError
        If the name is taken and ``override`` is False, is ``"default"``, or is not a
        non-empty string, or the factory is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces import FaceBox, get_detector, register_detector
    >>> @register_detector("whole_image_doc", override=True)
    ... class WholeImage:
    ...     def detect(self, image):
    ...         return [FaceBox(0, 0, image.shape[1], image.shape[0], 1.0)]
    >>> get_detector("whole_image_doc").detect(np.zeros((4, 6, 3), np.uint8))
    [FaceBox(x=0, y=0, width=6, height=4, score=1.0)]
    """
    return DETECTORS.register(name_or_fn, factory, override=override)  # type: ignore[arg-type]


def list_detectors(pattern: str = "*") -> list[str]:
    """Names of the registered detectors matching a shell-style pattern, sorted.

    Examples
    --------
    >>> from emorec.faces import list_detectors
    >>> list_detectors("blaze*")
    ['blazeface', 'blazeface_short']
    """
    return DETECTORS.names(pattern)


def get_detector(name_or_object: str | FaceDetector = "default", **kwargs: Any) -> FaceDetector:
    """A face detector by name (built with ``kwargs``), or ``name_or_object`` itself if it is one.

    Parameters
    ----------
    name_or_object : str or FaceDetector
        A name from :func:`list_detectors`, ``"default"`` (:data:`DEFAULT_DETECTOR`), or an
        object with a ``detect`` method, returned as is.
    **kwargs
        Options of the detector, e.g. ``min_score=0.7``.

    Raises
    ------
    KeyError
        For an unknown name; the message lists the closest and the registered names.
    TypeError
        If ``name_or_object`` is neither a string nor a detector, if ``kwargs`` come with a
        detector object, or if the factory returns something without ``detect``.

    Examples
    --------
    >>> from emorec.faces import get_detector
    >>> get_detector()
    BlazeFaceDetector(model='back', min_score=0.5, iou_threshold=0.3, max_faces=None, tiles='auto')
    >>> get_detector("blazeface_short", max_faces=1, tiles=None)
    BlazeFaceDetector(model='short', min_score=0.5, iou_threshold=0.3, max_faces=1, tiles=None)
    """
    if not isinstance(name_or_object, str):
        if callable(getattr(name_or_object, "detect", None)):
            if kwargs:
                raise TypeError(
                    f"options {sorted(kwargs)} were given with a ready detector object "
                    f"{name_or_object!r}; pass a registered name to build one with options"
                )
            return name_or_object
        raise TypeError(
            f"detector={name_or_object!r}; expected a registered name "
            f"({', '.join(list_detectors())}) or an object with a detect(image) method"
        )
    name = DEFAULT_DETECTOR if name_or_object == "default" else name_or_object
    try:
        factory = DETECTORS.get(name)
    except KeyError as error:
        raise KeyError(f"{error.args[0]} (or 'default')") from None
    built = factory(**kwargs)
    if not callable(getattr(built, "detect", None)):
        raise TypeError(
            f"detector {name!r} ({where(factory)}) returned {built!r}, which has no "
            "detect(image) method"
        )
    return built
