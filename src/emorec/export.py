"""Serving formats: a classifier as a TensorFlow SavedModel folder or a TFLite file.

:meth:`emorec.EmotionClassifier.export` calls :func:`export` here. The exported model takes
``(n, h, w, c)`` float32 pixels in 0..255 (the pixel contract, :mod:`emorec.pixels`) and
returns probabilities over the classifier's labels at its temperature (the built-in heads
divide the logits, so an int8 file quantizes calibrated scores and no logarithm). A TFLite file
gets its model card beside it (:func:`emorec.lite.card_path`), so that
``EmotionClassifier.load("model.tflite")`` runs it (:class:`emorec.lite.LiteModel`) with its
labels; a SavedModel folder gets ``labels.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from ._files import write_atomic
from ._native import quiet_native
from .images import load_batch
from .models.card import ModelCard
from .pixels import InputSpec, to_model_input

if TYPE_CHECKING:
    import keras

    from .classifier import EmotionClassifier

__all__ = ["EXPORT_FORMATS", "QUANTIZE_MODES", "export", "serving_model"]

#: What :func:`export` writes.
EXPORT_FORMATS = ("saved_model", "tflite")
#: TFLite quantization modes: full-integer ``"int8"``, ``"float16"`` weights.
QUANTIZE_MODES = ("int8", "float16")


def serving_model(model: keras.Model, temperature: float = 1.0) -> keras.Model:
    """``model`` with its outputs at ``temperature`` (the model itself at 1.0).

    A model with the built-in heads' ``logits`` and ``probabilities`` layers gets its logits
    divided (exact); any other gets ``softmax(log(p) / T)``.
    """
    if temperature == 1.0:
        return model
    import keras

    names = {layer.name for layer in model.layers}
    if {"logits", "probabilities"} <= names:
        logits = model.get_layer("logits").output
        outputs = keras.layers.Softmax(name="calibrated")(logits / temperature)
        return keras.Model(model.input, outputs, name=f"{model.name}_calibrated")
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    p = keras.ops.maximum(model(inputs), 1e-12)
    outputs = keras.layers.Softmax(name="calibrated")(keras.ops.log(p) / temperature)
    return keras.Model(inputs, outputs, name=f"{model.name}_calibrated")


def representative_input(crops: npt.ArrayLike | None, spec: InputSpec) -> npt.NDArray[np.float32]:
    """Calibration crops for int8 quantization, as the model's float32 input."""
    if crops is None:
        raise ValueError(
            "quantize='int8' needs representative= crops to calibrate the activation "
            "ranges: pass a few hundred face crops like those the model will see, for "
            "example dataset['train'].images[:500]"
        )
    arr = np.asarray(crops)
    if arr.ndim not in (3, 4) or len(arr) == 0:
        raise ValueError(
            f"representative crops of shape {arr.shape}; expected (n, h, w) or (n, h, w, c)"
            " with n > 0"
        )
    pixels = load_batch(arr, spec.color_mode, name="representative")
    return to_model_input(pixels, spec).astype(np.float32)


def to_tflite(
    model: keras.Model,
    quantize: Literal["int8", "float16"] | None = None,
    representative: npt.NDArray[np.float32] | None = None,
) -> bytes:
    """The TFLite flatbuffer of a Keras model (float32 inputs and outputs in every mode)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize == "int8":
        samples: np.ndarray = np.zeros((0, 1)) if representative is None else representative
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    # Keras prints the traced endpoint (Python); the converter its quantization summary and
    # MLIR diagnostics (C++)
    with contextlib.redirect_stdout(io.StringIO()), quiet_native(stdout=True):
        return bytes(converter.convert())


def export(
    clf: EmotionClassifier,
    path: str | os.PathLike[str],
    format: Literal["saved_model", "tflite"] = "saved_model",
    *,
    quantize: Literal["int8", "float16"] | None = None,
    representative: npt.ArrayLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``clf``'s model for serving; see :meth:`emorec.EmotionClassifier.export`."""
    out = Path(path)
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format={format!r}; expected 'saved_model' or 'tflite'")
    if quantize not in (None, *QUANTIZE_MODES):
        raise ValueError(f"quantize={quantize!r}; expected None, 'int8' or 'float16'")
    if quantize is not None and format != "tflite":
        raise ValueError(f"quantize={quantize!r} is for format='tflite', not {format!r}")
    from .lite import LiteModel, card_path

    if isinstance(clf.model, LiteModel):
        raise ValueError(
            f"{clf.model.path} is already a TFLite model; export the Keras model it came from "
            "(.keras) instead"
        )
    if format == "tflite" and out.suffix.lower() != ".tflite":
        raise ValueError(f"{out}: a TFLite file must end in .tflite")
    sidecar = card_path(out)
    for target in (out, sidecar) if format == "tflite" else (out,):
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    model = serving_model(clf.model, clf.temperature)
    if format == "saved_model":
        model.export(str(out), format="tf_saved_model", verbose=False)
        (out / "labels.json").write_text(json.dumps(list(clf.labels)))
        return out
    samples = None
    if quantize == "int8":
        samples = representative_input(representative, clf.input_spec)
    flat = to_tflite(model, quantize, samples)
    write_atomic(out, flat)
    _export_card(clf, quantize, samples).write(out)
    return out


def _export_card(
    clf: EmotionClassifier, quantize: str | None, samples: np.ndarray | None
) -> ModelCard:
    """The card of an exported TFLite file: the source's, without its measured metrics (they
    are the Keras model's) and with the temperature marked as applied inside the file."""
    source = clf.card
    exported: dict[str, Any] = {
        "format": "tflite",
        "quantize": quantize or "none",
        "temperature_in_model": clf.temperature,
    }
    if samples is not None:
        exported["representative_crops"] = len(samples)
    fields: dict[str, Any] = {"exported": exported, "tta": clf.tta}
    if source is not None:
        fields["training"] = source.training
        if source.architecture is not None:
            fields["architecture"] = source.architecture
        for key in ("license", "data_notice"):
            if key in source.extra:
                fields[key] = source.extra[key]
    return ModelCard.from_model(clf.model, clf.labels, **fields)
