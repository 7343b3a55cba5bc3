"""Serving formats: a classifier as a Keras, TFLite or ONNX file, or a TensorFlow SavedModel.

:meth:`emorec.EmotionClassifier.export` calls :func:`export` here. The exported model takes
``(n, h, w, c)`` float32 pixels in 0..255 (the pixel contract, :mod:`emorec.pixels`) and
returns probabilities over the classifier's labels at its temperature (the built-in heads
divide the logits, so an int8 file quantizes calibrated scores and no logarithm). A TFLite file
carries its model card in its flatbuffer's metadata (:mod:`emorec.tflite_card`), so that
``EmotionClassifier.load("model.tflite")`` runs it (:class:`emorec.lite.LiteModel`) with its
labels, even copied alone; an ONNX file carries its card in its metadata
(:mod:`emorec.onnx_model`); a SavedModel folder gets ``labels.json``. Each TFLite and ONNX
export is run beside the Keras model on 256 crops before it is kept (:func:`check_export`): a
float export must agree within 1e-4, and the card records the difference and the agreement of
the top labels.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt

from ._files import atomic_file
from ._native import quiet_native
from ._optional import is_keras_model, require
from ._version import __version__
from .images import load_batch
from .models.card import ModelCard
from .pixels import InputSpec, to_model_input

if TYPE_CHECKING:
    import keras

    from .classifier import EmotionClassifier

__all__ = [
    "EXPORT_FORMATS",
    "QUANTIZE_MODES",
    "check_export",
    "check_target",
    "export",
    "format_of",
    "serving_model",
    "to_onnx",
    "to_tflite",
]

#: An export format.
ExportFormat = Literal["keras", "tflite", "onnx", "saved_model"]
#: What :func:`export` writes.
EXPORT_FORMATS = ("keras", "tflite", "onnx", "saved_model")
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
    tf = require("tensorflow", "converting a Keras model to TFLite")

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


#: The file suffix each format must have (None: a folder, which must not look like a file).
SUFFIXES = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx", "saved_model": None}
#: Largest absolute difference of probabilities a float export may show against Keras.
FLOAT_TOLERANCE = 1e-4


def check_target(path: str | os.PathLike[str], format: str) -> Path:
    """The output path of an export, refused when its suffix disagrees with ``format``.

    Examples
    --------
    >>> from emorec.export import check_target
    >>> check_target("m.onnx", "onnx").name
    'm.onnx'
    >>> check_target("m.onnx", "saved_model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: m.onnx: a SavedModel is a folder, and a name ending in .onnx is for ...onnx...
    """
    if format not in SUFFIXES:
        raise ValueError(
            f"format={format!r}; expected one of {', '.join(map(repr, EXPORT_FORMATS))}"
        )
    out = Path(path)
    suffix = out.suffix.lower()
    wanted = SUFFIXES[format]
    if wanted is None:
        other = next((f for f, s in SUFFIXES.items() if s is not None and s == suffix), None)
        if other is not None:
            raise ValueError(
                f"{out}: a SavedModel is a folder, and a name ending in {suffix} is for "
                f"format={other!r}: pass that format, or a folder name"
            )
    elif suffix != wanted:
        raise ValueError(f"{out}: a {format} export must end in {wanted} (format={format!r})")
    return out


def export(
    clf: EmotionClassifier,
    path: str | os.PathLike[str],
    format: Literal["keras", "tflite", "onnx", "saved_model"] = "saved_model",
    *,
    quantize: Literal["int8", "float16"] | None = None,
    representative: npt.ArrayLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``clf``'s model for serving; see :meth:`emorec.EmotionClassifier.export`."""
    out = check_target(path, format)
    if quantize not in (None, *QUANTIZE_MODES):
        raise ValueError(f"quantize={quantize!r}; expected None, 'int8' or 'float16'")
    if quantize is not None and format != "tflite":
        raise ValueError(f"quantize={quantize!r} is for format='tflite', not {format!r}")
    if not is_keras_model(clf.model):
        raise ValueError(
            f"{getattr(clf.model, 'path', clf.model)} is already an exported model; export the "
            "Keras model (.keras) it came from instead"
        )
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    if format == "keras":
        return clf.save(out, overwrite=overwrite)
    model = serving_model(clf.model, clf.temperature)
    if format == "saved_model":
        model.export(str(out), format="tf_saved_model", verbose=False)
        (out / "labels.json").write_text(json.dumps(list(clf.labels)))
        return out
    samples = None
    if quantize == "int8":
        samples = representative_input(representative, clf.input_spec)
    flat = to_onnx(model) if format == "onnx" else to_tflite(model, quantize, samples)
    with atomic_file(out) as tmp:
        tmp.write_bytes(flat)
        card = _export_card(clf, format, quantize, samples)
        card.extra["exported"]["check"] = check_export(clf, model, tmp, format, quantize)
        card.emorec_version = __version__
        if format == "onnx":
            from .onnx_model import write_onnx_card

            write_onnx_card(tmp, card.to_dict())
        else:  # the card inside the file, written with it (one rename for both)
            from .tflite_card import with_tflite_card

            tmp.write_bytes(with_tflite_card(tmp.read_bytes(), card.to_json().encode(), str(out)))
    return out


def format_of(path: str | os.PathLike[str]) -> ExportFormat:
    """The export format a path's suffix names; ``"saved_model"`` for any other name.

    Examples
    --------
    >>> from emorec.export import format_of
    >>> format_of("m.onnx"), format_of("m.TFLITE"), format_of("serving/")
    ('onnx', 'tflite', 'saved_model')
    """
    suffix = Path(path).suffix.lower()
    found = {".keras": "keras", ".tflite": "tflite", ".onnx": "onnx"}.get(suffix, "saved_model")
    return cast(ExportFormat, found)


def to_onnx(model: keras.Model) -> bytes:
    """The ONNX bytes of a Keras model: float32 ``(n, h, w, c)`` pixels in, scores out (opset
    15, a dynamic batch). Needs ``tf2onnx`` and ``onnx`` (``pip install "emorec[onnx]"``)."""
    import tempfile

    keras = require("keras", "exporting to ONNX")
    require("tf2onnx", "exporting to ONNX")
    spec = keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="pixels")
    # Called with training=False in a wrapper: exported as it is, a loaded model's batch
    # normalisation was traced in training mode (batch statistics; 0.68 off on
    # fer2013_mini_xception, caught by check_export)
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    model = keras.Model(inputs, model(inputs, training=False), name=model.name)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.onnx"
        with contextlib.redirect_stdout(io.StringIO()), quiet_native(stdout=True):
            model.export(str(target), format="onnx", input_signature=[spec], verbose=False)
        return target.read_bytes()


def check_export(
    clf: EmotionClassifier,
    model: keras.Model,
    file: Path,
    format: str,
    quantize: str | None,
    crops: int = 256,
) -> dict[str, Any]:
    """Run an exported file beside the Keras model on ``crops`` crops (uniform random pixels,
    seed 0): a float export must agree within :data:`FLOAT_TOLERANCE`; an int8 one is
    reported (its accuracy needs labelled faces: measure it with ``emorec evaluate``).

    Raises
    ------
    ValueError
        When a float export differs by more than the tolerance (the file is not kept).
    """
    from .models.card import load_model

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (crops, *model.input_shape[1:]), dtype=np.uint8).astype(np.float32)
    expected = np.asarray(model.predict_on_batch(x))
    exported = load_model(file)  # a temporary name with the format's suffix
    got = exported.predict_on_batch(x)
    diff = float(np.abs(got - expected).max())
    agree = float((got.argmax(1) == expected.argmax(1)).mean())
    record = {"crops": crops, "max_abs_difference": diff, "argmax_agreement": agree}
    if quantize is None and diff > FLOAT_TOLERANCE:
        raise ValueError(
            f"the {format} export differs from the Keras model by {diff:.2e} on {crops} crops "
            f"(at most {FLOAT_TOLERANCE} expected); nothing was written"
        )
    return record


def _export_card(
    clf: EmotionClassifier, format: str, quantize: str | None, samples: np.ndarray | None
) -> ModelCard:
    """The card of an exported TFLite or ONNX file: the source's, without its measured metrics
    (they are the Keras model's) and with the temperature marked as applied inside the file."""
    source = clf.card
    exported: dict[str, Any] = {
        "format": format,
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
