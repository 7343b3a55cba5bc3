"""One loader for a model and what it takes to use it: :func:`load_bundle`.

A :class:`ModelBundle` holds the network (a Keras model, a :class:`emorec.lite.LiteModel` or
an :class:`emorec.onnx_model.OnnxModel`), its model card, its output labels, what it takes
(:class:`~emorec.pixels.InputSpec`), its default test-time augmentation and its temperature,
resolved by the same rules for every file kind (``.keras``, legacy ``.h5``, ``.tflite``,
``.onnx``) and for every door: :meth:`emorec.EmotionClassifier.load`, :func:`emorec.evaluate`,
``Trainer(init_from=...)`` and its teachers, export and fine-tuning (through
:meth:`ModelBundle.keras_twin`).

Examples
--------
>>> from emorec.models.bundle import load_bundle
>>> bundle = load_bundle("fer2013_vgg_m")
>>> bundle.runtime, bundle.labels[:2], bundle.input_spec.shape, bundle.tta
('litert', ('angry', 'disgust'), (48, 48, 1), 'flip')
>>> load_bundle("fer2013_vgg_m", trains="init_from").path.name  # doctest: +SKIP
'fer2013_vgg_m.keras'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._optional import is_keras_model
from ..inference import TTA, default_tta, resolve_labels
from ..pixels import InputSpec
from .card import ModelCard
from .files import (
    DEFAULT_PRETRAINED,
    file_provenance,
    load_model,
    resolve_keras_model,
    resolve_model,
)

__all__ = ["ModelBundle", "Runtime", "load_bundle"]

#: What runs a model: Keras, LiteRT (``.tflite``) or ONNX Runtime (``.onnx``).
Runtime = Literal["keras", "litert", "onnx"]

_SUFFIX_RUNTIME: dict[str, Runtime] = {".tflite": "litert", ".onnx": "onnx"}
_NAMES = {"keras": "Keras", "litert": "TFLite", "onnx": "ONNX"}


@dataclass(frozen=True)
class ModelBundle:
    """A model with its card, labels, input, default TTA and temperature.

    Attributes
    ----------
    model : keras.Model, emorec.lite.LiteModel or emorec.onnx_model.OnnxModel
        The network; every runtime has ``predict_on_batch``, ``input_shape`` and
        ``output_shape``.
    path : pathlib.Path or None
        The file it was loaded from (None for a model given in memory).
    card : ModelCard or None
        Its card (None for a file without one, such as a legacy ``.h5``).
    labels : tuple of str
        Its outputs, in order (the caller's, else the card's, else FER2013's for 7 outputs).
    input_spec : emorec.pixels.InputSpec
        What it takes.
    tta : {"none", "flip", "shift"}
        Its default test-time augmentation (the card's, else ``DEFAULT_TTA``).
    temperature : float
        The card's calibration temperature, else 1.0.
    """

    model: Any
    path: Path | None
    card: ModelCard | None
    labels: tuple[str, ...]
    input_spec: InputSpec
    tta: TTA
    temperature: float

    @property
    def runtime(self) -> Runtime:
        """``"keras"``, ``"litert"`` or ``"onnx"``."""
        if is_keras_model(self.model):
            return "keras"
        suffix = self.path.suffix.lower() if self.path is not None else ""
        return _SUFFIX_RUNTIME.get(suffix, "litert")

    @property
    def provenance(self) -> dict[str, Any]:
        """The file's name and SHA-256 (never its path), as configs and cards record it."""
        if self.path is None:
            return {"model": getattr(self.model, "name", "model")}
        return file_provenance(self.path)

    def keras_twin(self, action: str) -> ModelBundle:
        """This bundle on its Keras model: itself, or for a TFLite twin of a Keras file (a
        bundled model's ``.tflite``, whose card names the ``.keras`` beside it as its
        ``serving`` source) the same labels, TTA and temperature on that Keras file.

        Raises
        ------
        ValueError
            For an exported file with no Keras file beside it; the message says what
            ``action`` needs and which model to load instead.
        """
        if self.runtime == "keras":
            return self
        path = self.path if self.path is not None else Path("model")
        serving = self.card.extra.get("serving") if self.card is not None else None
        source = serving.get("source") if isinstance(serving, dict) else None
        twin = path.with_name(source) if isinstance(source, str) else None
        if twin is None or twin.suffix != ".keras" or not twin.is_file():
            kind = {"onnx": "an ONNX", "litert": "a TFLite"}[self.runtime]
            raise ValueError(
                f"{path.name} is {kind} model, which cannot be {action} (only a Keras model "
                "can); load the Keras model (.keras) it was exported from, for example "
                'EmotionClassifier.load("ferplus_vgg_m", runtime="keras")'
            )
        return ModelBundle(
            load_model(twin),
            twin,
            ModelCard.read_optional(twin),
            self.labels,
            self.input_spec,
            self.tta,
            self.temperature,
        )


def load_bundle(
    name_or_path: str | os.PathLike[str] | None = None,
    *,
    runtime: Literal["auto", "litert", "keras"] = "auto",
    labels: Any = None,
    rescale: float | None = None,
    trains: str | None = None,
    fallback_labels: Any = None,
) -> ModelBundle:
    """Load a bundled model (by name; None: the default) or a model file, with its card.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        Resolved by :func:`emorec.models.resolve_model`.
    runtime : {"auto", "litert", "keras"}
        ``"auto"``: a bundled name's TFLite file where it has one, a file by its suffix;
        ``"litert"`` or ``"keras"`` ask for one (a bundled name's ``.tflite`` or ``.keras``
        file); a file of the other kind is refused.
    labels : sequence of str, optional
        Output names, for files without a card.
    rescale : float, optional
        As :func:`emorec.models.load_model` takes it (legacy ``.h5`` files).
    fallback_labels : sequence of str, optional
        Output names for a file with neither a card nor 7 outputs, when they have one name per
        output (:func:`emorec.evaluate` passes the dataset's).
    trains : str, optional
        The argument's name (``"init_from"``, ``"teacher"``) when the weights will be trained
        from: the Keras file is loaded, errors name the argument, and TFLite and ONNX files
        (no trainable weights) are refused.

    Raises
    ------
    FileNotFoundError
        For a missing file or an unknown name (the message lists the bundled models).
    ValueError
        For a file Keras refuses, a malformed card, a ``runtime`` the file is not made for,
        or with ``trains``, a file that is not a Keras model.

    Examples
    --------
    >>> from emorec.models.bundle import load_bundle
    >>> load_bundle().path.suffix, load_bundle(runtime="keras").runtime  # doctest: +SKIP
    ('.tflite', 'keras')
    """
    if runtime not in ("auto", "litert", "keras"):
        raise ValueError(f"runtime={runtime!r}; expected 'auto', 'litert' or 'keras'")
    if trains is not None:
        path = resolve_keras_model(
            DEFAULT_PRETRAINED if name_or_path is None else name_or_path, trains
        )
    else:
        path = resolve_model(name_or_path, keras=runtime == "keras")
    kind: Runtime = _SUFFIX_RUNTIME.get(path.suffix.lower(), "keras")
    if runtime != "auto" and kind != runtime:
        raise ValueError(
            f"{path.name} is a {_NAMES[kind]} model; runtime={runtime!r} runs "
            f"{_NAMES[runtime]} models (a Keras model becomes a TFLite file with "
            "EmotionClassifier.export(..., 'tflite'))"
        )
    model = load_model(path, rescale=rescale)
    has_card = path.suffix.lower() in (".keras", ".tflite", ".onnx")
    # a .tflite's card is read from the bytes its interpreter holds: the file is read once
    content = getattr(model, "content", None) if kind == "litert" else None
    card = ModelCard.read_optional(path, content=content) if has_card else None
    return ModelBundle(
        model,
        path,
        card,
        resolve_labels(
            model, labels, card.labels if card is not None else None, fallback=fallback_labels
        ),
        InputSpec.from_model(model),
        default_tta(None, card.tta if card is not None else None),
        float(card.temperature) if card is not None else 1.0,
    )
