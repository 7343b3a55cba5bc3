"""Training precision: Keras mixed precision (``"mixed_bfloat16"``), served in float32.

On CPUs with AVX-512 BF16 (and on GPUs and TPUs) ``"mixed_bfloat16"`` computes convolutions in
bfloat16 and keeps the weights in float32; ``benchmarks/training_throughput.py`` measures what it
buys. A model trained that way is saved in float32 (:func:`as_float32`): the same weights,
computing in float32 where it is served, so that a model file never depends on how it was
trained.

Examples
--------
>>> from emorec import build_model
>>> from emorec.training.precision import as_float32, precision_scope
>>> with precision_scope("mixed_bfloat16"):
...     model = build_model("mini_xception")
>>> model.layers[2].dtype_policy.name, model.layers[2].compute_dtype
('mixed_bfloat16', 'bfloat16')
>>> served = as_float32(model)
>>> {layer.compute_dtype for layer in served.layers}
{'float32'}
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["PRECISIONS", "as_float32", "check_precision", "precision_scope"]

#: The training precisions the Trainer accepts (Keras dtype policy names).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise ``ValueError``."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r}; expected one of {', '.join(PRECISIONS)} "
            "(mixed_bfloat16 is the fast one on CPUs with AVX-512 BF16)"
        )
    return precision


@contextlib.contextmanager
def precision_scope(precision: str) -> Iterator[None]:
    """Build models inside this block with the Keras dtype policy ``precision``.

    The global policy is put back afterwards, so models built elsewhere are not affected.
    """
    import keras

    check_precision(precision)
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def as_float32(model: keras.Model) -> keras.Model:
    """The same model, with the same weights, computing in float32.

    Returns ``model`` itself when every layer already computes in float32; otherwise a clone
    (``keras.models.clone_model``) whose layers have the float32 policy, with the weights copied
    (mixed-precision weights are float32 already, so nothing is rounded).
    """
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model

    def float32_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    clone = keras.models.clone_model(model, clone_function=float32_layer)
    clone.set_weights(model.get_weights())
    if hasattr(model, "_emorec_architecture"):  # build_model's record, for the model card
        clone._emorec_architecture = dict(model._emorec_architecture)
    return clone
