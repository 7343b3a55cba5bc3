"""Training precision: Keras mixed precision (``"mixed_bfloat16"``), served in float32.

On CPUs with AVX-512 BF16 or AMX (and on GPUs and TPUs) ``"mixed_bfloat16"`` computes
convolutions in bfloat16 and keeps the weights in float32; ``benchmarks/training_throughput.py``
measures what it buys: x1.57 for ``vgg_m`` on an AMD EPYC with AVX-512 BF16, but x0.12 (eight
times slower) on one with AVX2 only, where bfloat16 is emulated. The Trainer warns when it is
asked for bfloat16 on a machine without it (:func:`native_bfloat16`). A model trained that
way is saved in float32 (:func:`as_float32`): the same weights, computing in float32 where it
is served, so that a model file never depends on how it was trained.

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
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = [
    "PRECISIONS",
    "as_float32",
    "check_precision",
    "native_bfloat16",
    "precision_scope",
    "precision_warning",
]

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


#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic: AVX-512 BF16 and AMX on x86,
#: the BF16 extension on Arm.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def _cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str] | None:
    """The CPU's feature flags from ``cpuinfo`` (x86 ``flags``, Arm ``Features``), or None
    where the file cannot be read (not Linux)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def _has_accelerator() -> bool:
    """Whether Keras' backend sees a GPU or TPU."""
    import keras

    with contextlib.suppress(Exception):
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            return any(tf.config.list_physical_devices(kind) for kind in ("GPU", "TPU"))
        if backend == "jax":
            import jax

            return any(d.platform != "cpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
    return False


def native_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool | None:
    """Whether this machine computes in bfloat16 natively: a GPU or TPU, or a CPU with
    AVX-512 BF16 or AMX (x86) or BF16 (Arm). None where it cannot tell (no ``cpuinfo``).

    Without it, ``"mixed_bfloat16"`` is emulated and slower than float32.

    Examples
    --------
    >>> from emorec.training.precision import native_bfloat16
    >>> native_bfloat16() in (True, False, None)
    True
    """
    if _has_accelerator():
        return True
    if platform.system() != "Linux":
        return None
    flags = _cpu_flags(cpuinfo)
    if flags is None:
        return None
    return bool(flags & BFLOAT16_CPU_FLAGS)


def precision_warning(precision: str, cpuinfo: str | Path = "/proc/cpuinfo") -> str | None:
    """The warning the Trainer gives for ``precision`` on this machine, or None.

    ``"mixed_bfloat16"`` on a CPU without native bfloat16 (:func:`native_bfloat16` is False)
    trains far slower than float32: measured eight times slower for ``vgg_m`` on an AMD EPYC
    with AVX2 only (``benchmarks/results/training_throughput_avx2.txt``).

    Examples
    --------
    >>> from emorec.training.precision import precision_warning
    >>> precision_warning("float32") is None
    True
    """
    check_precision(precision)
    if precision != "mixed_bfloat16" or native_bfloat16(cpuinfo) is not False:
        return None
    return (
        "precision='mixed_bfloat16' on a CPU without native bfloat16 (no AVX-512 BF16 or AMX "
        "in /proc/cpuinfo, no GPU): bfloat16 is emulated here and trains several times slower "
        "than float32 (8x slower measured on an AVX2-only CPU); use precision='float32' "
        "(--precision float32) on this machine"
    )


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
