"""The architecture registry: ``@register_model``, :func:`build_model`, :func:`list_models`.

One dict maps a name to a builder ``(*, input_shape, num_classes, **kwargs) -> keras.Model``.
Builders come from three places: emorec's own families (registered when first needed), the
user's ``@register_model`` decorator, and third-party packages through the entry-point group
``emorec.models`` (loaded lazily on the first lookup; a broken plugin is a warning naming it,
not a crash).

An entry point may name a builder function (registered under the entry point's name) or a
module (importing it registers its models through the decorator)::

    [project.entry-points."emorec.models"]
    my_net = "my_package.models:my_net"
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._optional import require
from .._plugins import Registry

if TYPE_CHECKING:
    import keras

__all__ = [
    "MODELS",
    "architecture_of",
    "build_model",
    "get_builder",
    "list_models",
    "register_model",
]

logger = logging.getLogger("emorec")

Builder = Callable[..., Any]
F = TypeVar("F", bound=Builder)

ENTRY_POINT_GROUP = "emorec.models"

#: The architecture registry (see :class:`emorec._plugins.Registry`).
MODELS: Registry[Builder] = Registry(
    "model",
    ENTRY_POINT_GROUP,
    builtins=[f"emorec.models.{m}" for m in ("seed_cnn", "vgg", "mini_xception", "resnet")],
)


@overload
def register_model(name_or_fn: F, builder: None = None, *, override: bool = False) -> F: ...
@overload
def register_model(
    name_or_fn: str | None = None, builder: None = None, *, override: bool = False
) -> Callable[[F], F]: ...
@overload
def register_model(name_or_fn: str, builder: F, *, override: bool = False) -> F: ...


def register_model(
    name_or_fn: str | Builder | None = None,
    builder: Builder | None = None,
    *,
    override: bool = False,
) -> Any:
    """Register an architecture builder: ``@register_model``, ``@register_model("name")`` or
    ``register_model("name", builder)``.

    A builder takes keyword-only ``input_shape`` and ``num_classes`` (and any options of its
    own) and returns a ``keras.Model`` that takes plain 0..255 pixels. The call shapes are the
    same as :func:`emorec.faces.register_detector`'s.

    Parameters
    ----------
    name_or_fn : str or callable, optional
        The name to register under (default: the function's name), or the builder itself.
    builder : callable, optional
        The builder, for the plain-call form.
    override : bool
        Replace a builder already registered under that name instead of raising.

    Raises
    ------
    ValueError
        If the name is taken and ``override`` is False.

    Examples
    --------
    >>> import keras
    >>> from emorec.models import register_model, build_model
    >>> @register_model("tiny_doc_net", override=True)
    ... def tiny(*, input_shape, num_classes):
    ...     inputs = keras.Input(input_shape)
    ...     x = keras.layers.Rescaling(1 / 255)(inputs)
    ...     x = keras.layers.GlobalAveragePooling2D()(x)
    ...     return keras.Model(inputs, keras.layers.Dense(num_classes)(x))
    >>> build_model("tiny_doc_net").output_shape
    (None, 7)
    """
    return MODELS.register(name_or_fn, builder, override=override)  # type: ignore[arg-type]


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered architectures matching a shell-style pattern, sorted.

    Examples
    --------
    >>> from emorec.models import list_models
    >>> list_models("vgg*")
    ['vgg_m', 'vgg_s']
    """
    return MODELS.names(pattern)


def get_builder(name: str) -> Builder:
    """The builder registered under ``name``.

    Raises
    ------
    KeyError
        If no model has that name; the message lists the closest registered names.

    Examples
    --------
    >>> from emorec.models import get_builder
    >>> get_builder("vgg_s").__name__
    'vgg_s'
    """
    return MODELS.get(name)


def build_model(
    name: str,
    *,
    num_classes: int = 7,
    input_shape: tuple[int, int, int] = (48, 48, 1),
    **kwargs: Any,
) -> keras.Model:
    """Build a registered architecture, untrained.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.
    num_classes : int
        Number of outputs (default 7, the FER2013 classes).
    input_shape : (height, width, channels)
        Shape of the pixels the model takes (channels 1 for grey, 3 for RGB).
    **kwargs
        The architecture's own options (for example ``dropout``).

    Returns
    -------
    keras.Model
        Takes float or uint8 pixels in 0..255, outputs class probabilities (softmax).

    Raises
    ------
    KeyError
        For an unknown name (with the closest names).
    ValueError
        For a bad ``input_shape`` or ``num_classes``.

    Examples
    --------
    >>> from emorec import build_model
    >>> model = build_model("mini_xception", num_classes=3)
    >>> model.output_shape
    (None, 3)
    """
    builder = get_builder(name)
    require("keras", "building a model")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3) or min(shape[:2]) < 16:
        raise ValueError(
            f"input_shape={tuple(input_shape)}; expected (height, width, channels) with "
            "channels 1 (grey) or 3 (RGB) and at least 16 pixels a side"
        )
    if int(num_classes) < 2:
        raise ValueError(f"num_classes={num_classes}; a classifier needs at least 2")
    model = builder(input_shape=shape, num_classes=int(num_classes), **kwargs)
    model._emorec_architecture = {"name": name, "kwargs": dict(kwargs)}  # for the model card
    return model


def architecture_of(model: Any) -> dict[str, Any] | None:
    """``{"name": registered name, "kwargs": options}`` of a model :func:`build_model` built
    (what its card records as ``architecture``); None for any other model.

    Examples
    --------
    >>> from emorec.models import architecture_of, build_model
    >>> architecture_of(build_model("vgg_s"))
    {'name': 'vgg_s', 'kwargs': {}}
    """
    arch = getattr(model, "_emorec_architecture", None)
    return dict(arch) if arch else None
