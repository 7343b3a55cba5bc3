"""The forward pass: model input, batching, test-time augmentation and output labels.

One place for "run a model over face images": :class:`emorec.EmotionClassifier` and
:func:`emorec.evaluate` both call :func:`predict_proba` here, so a prediction and an
evaluation of the same crops give the same probabilities.

- **Input.** Anything :func:`emorec.images.load_batch` takes (uint8, or float in [0, 1]; RGB or,
  with ``channel_order="bgr"``, OpenCV's BGR), converted to the model's input by the pixel
  contract (:func:`emorec.pixels.to_model_input`).
- **Test-time augmentation** (``tta``), one spelling a mode: ``"none"``; ``"flip"`` (the image
  and its mirror: two views); ``"shift"`` (the mirror pair at the centre and shifted by
  :data:`TTA_SHIFT` pixels in four diagonal directions: ten views, the shift equivalent of
  ten-crop testing). The probabilities of the views are averaged.
- **Batching.** All views of a batch of faces go through the network in one call, by a
  ``tf.function`` traced once per model with an open batch size (on TensorFlow), which on the
  few faces of a photo costs less than ``predict_on_batch``.
- **Labels.** :func:`resolve_labels` decides which names the outputs carry.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from ._optional import is_keras_model
from .images import ChannelOrder, load_batch
from .labels import LABELS
from .pixels import InputSpec, to_model_input

if TYPE_CHECKING:
    import keras

__all__ = [
    "DEFAULT_TTA",
    "TTA",
    "TTA_MODES",
    "TTA_SHIFT",
    "default_tta",
    "predict_model_input",
    "predict_proba",
    "resolve_labels",
    "tta_mode",
]

#: A test-time augmentation mode: ``"none"`` (1 view), ``"flip"`` (2) or ``"shift"`` (10).
TTA = Literal["none", "flip", "shift"]
#: The test-time augmentation modes, in order of cost (1, 2 and 10 views a face).
TTA_MODES: tuple[TTA, ...] = ("none", "flip", "shift")
#: Pixels by which ``"shift"`` moves its views.
TTA_SHIFT = 3
#: The test-time augmentation the classifier applies by default, and with which the bundled
#: model's headline accuracy is measured (``benchmarks/accuracy.py``). ``"flip"`` doubles the
#: model's work (two views a face) for about 2 points of FER2013 accuracy.
DEFAULT_TTA: TTA = "flip"


def tta_mode(tta: str) -> TTA:
    """Check a test-time augmentation mode.

    Raises
    ------
    ValueError
        For anything but ``"none"``, ``"flip"`` or ``"shift"``.

    Examples
    --------
    >>> from emorec.inference import tta_mode
    >>> tta_mode("flip")
    'flip'
    """
    if isinstance(tta, str) and tta in TTA_MODES:
        return tta
    raise ValueError(f"tta={tta!r}; expected one of {', '.join(map(repr, TTA_MODES))}")


def default_tta(tta: str | None, card_tta: str | None = None) -> TTA:
    """The test-time augmentation to apply: ``tta`` if given, else the model card's
    (``card_tta``), else :data:`DEFAULT_TTA`; the one rule of the classifier, ``evaluate``
    and the command line.

    Examples
    --------
    >>> from emorec.inference import default_tta
    >>> default_tta(None, "none"), default_tta("shift", "none"), default_tta(None)
    ('none', 'shift', 'flip')
    """
    return tta_mode(tta if tta is not None else (card_tta or DEFAULT_TTA))


def _views(x: np.ndarray, mode: TTA, shift: int = TTA_SHIFT) -> list[np.ndarray]:
    """The test-time views of a batch ``(n, h, w, c)``."""
    views = [x]
    if mode in ("flip", "shift"):
        views.append(x[:, :, ::-1])
    if mode == "shift":
        padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
        h, w = x.shape[1:3]
        for dy, dx in ((0, 0), (0, 2 * shift), (2 * shift, 0), (2 * shift, 2 * shift)):
            crop = padded[:, dy : dy + h, dx : dx + w]
            views += [crop, crop[:, :, ::-1]]
    return views


_FORWARD: weakref.WeakKeyDictionary[Any, Callable[[np.ndarray], np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def _forward(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model's inference function, made once per model: float32 batch in, numpy out.

    With TensorFlow, a ``tf.function`` whose batch size is left open, traced once; other
    backends, and objects that only have ``predict_on_batch``, use ``predict_on_batch``. The
    function holds the model weakly, so the cache never keeps a model alive, and it reads the
    live weights (fine-tuning or ``set_weights`` are seen at once).
    """
    if not is_keras_model(model):
        return lambda x: np.asarray(model.predict_on_batch(x))
    import keras

    fn = _FORWARD.get(model)
    if fn is not None:
        return fn
    ref: Any = weakref.ref(model)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
        graph = tf.function(
            lambda x: ref()(x, training=False), input_signature=[spec], autograph=False
        )

        def fn(x: np.ndarray) -> np.ndarray:
            return np.asarray(graph(x))

    else:

        def fn(x: np.ndarray) -> np.ndarray:
            return np.asarray(ref().predict_on_batch(x))

    _FORWARD[model] = fn
    return fn


def predict_proba(
    model: keras.Model,
    images: npt.ArrayLike,
    *,
    tta: TTA = "none",
    batch_size: int = 256,
    channel_order: ChannelOrder = "rgb",
    temperature: float = 1.0,
) -> npt.NDArray[np.float32]:
    """Class probabilities ``(n, outputs)`` of a model for a batch of face images.

    Parameters
    ----------
    model : keras.Model
        A model that takes 0..255 pixels (every emorec model does).
    images : array_like
        ``(n, h, w)`` or ``(n, h, w, 1 | 3 | 4)``: uint8 (0..255), uint16, bool, or float in
        [0, 1] (the convention of :func:`emorec.load_image`), or other integers in 0..255
        (nested lists of Python ints too). Any size; converted to the model's input by the
        pixel contract (:mod:`emorec.pixels`).
    tta : {"none", "flip", "shift"}
        Test-time augmentation.
    batch_size : int
        Faces per model call (each call holds all their views).
    channel_order : {"rgb", "bgr"}
        Order of 3- and 4-channel images; ``"bgr"`` for OpenCV's arrays.
    temperature : float
        Divide the log-probabilities by this (after averaging the views):
        :func:`emorec.calibration.apply_temperature`. A model card's ``calibration`` holds
        the fitted one; 1.0 leaves the model's own probabilities.

    Returns
    -------
    numpy.ndarray
        float32, one row a face, columns in the model's output order; ``(0, outputs)`` for an
        empty batch.

    Raises
    ------
    emorec.ImageError
        For another shape or dtype, floats outside [0, 1] (NaN included) or integers outside
        0..255.
    ValueError
        For a bad ``tta`` or ``batch_size``, or when the model outputs NaN or infinity (a
        broken or diverged model: its predictions would be meaningless).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import build_model
    >>> from emorec.inference import predict_proba
    >>> model = build_model("mini_xception", num_classes=3)
    >>> predict_proba(model, np.zeros((5, 48, 48), np.uint8), tta="flip").shape
    (5, 3)
    """
    spec = InputSpec.from_model(model)
    arr = np.asarray(images)
    if arr.ndim in (3, 4) and len(arr) == 0:
        empty = np.zeros((0, *spec.shape), np.uint8)
        return predict_model_input(model, empty, tta=tta, batch_size=batch_size)
    pixels = load_batch(arr, spec.color_mode, channel_order=channel_order, name="images")
    return predict_model_input(
        model,
        to_model_input(pixels, spec),
        tta=tta,
        batch_size=batch_size,
        temperature=temperature,
    )


def predict_model_input(
    model: keras.Model,
    pixels: npt.NDArray[np.uint8],
    *,
    tta: TTA = "none",
    batch_size: int = 256,
    temperature: float = 1.0,
) -> npt.NDArray[np.float32]:
    """:func:`predict_proba` for pixels that already are the model's input: uint8
    ``(n, height, width, channels)`` as :func:`emorec.pixels.to_model_input` makes them (face
    crops from :func:`emorec.faces.crop_faces` are). Nothing is converted or copied first:
    this is the classifier's hot path.

    Raises
    ------
    ValueError
        For pixels of another dtype or shape than the model's input, a bad ``tta`` or
        ``batch_size``, or non-finite model outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import build_model
    >>> from emorec.inference import predict_model_input
    >>> model = build_model("seed_cnn", num_classes=2)
    >>> predict_model_input(model, np.zeros((3, 48, 48, 1), np.uint8)).shape
    (3, 2)
    """
    mode = tta_mode(tta)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive integer")
    shape = InputSpec.from_model(model).shape
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[1:] != shape:
        raise ValueError(
            f"pixels of shape {pixels.shape} and dtype {pixels.dtype}; the model takes uint8 "
            f"(n, {', '.join(map(str, shape))}) (emorec.pixels.to_model_input makes them)"
        )
    outputs = int(model.output_shape[-1])
    if len(pixels) == 0:
        return np.zeros((0, outputs), np.float32)
    forward = _forward(model)
    out = []
    for start in range(0, len(pixels), batch_size):
        x = pixels[start : start + batch_size].astype(np.float32)
        views = _views(x, mode)
        probs = forward(np.concatenate(views)).astype(np.float32)
        out.append(probs.reshape(len(views), len(x), -1).mean(axis=0))
    result = np.concatenate(out)
    if not np.isfinite(result).all():
        raise ValueError(
            f"the model ({getattr(model, 'name', type(model).__name__)}) output NaN or infinite "
            "probabilities: its weights are broken (a diverged training run?); retrain it with "
            "a lower learning rate or load another file"
        )
    if temperature != 1.0:
        from .calibration import apply_temperature

        result = apply_temperature(result, temperature)
    return result


def resolve_labels(
    model: Any,
    labels: Sequence[str] | None = None,
    card_labels: Sequence[str] | None = None,
    *,
    fallback: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The names of a model's outputs, in order.

    The first that applies: ``labels`` given by the caller, the model card's, ``fallback`` when
    it has one name per output (:func:`emorec.evaluate` passes the dataset's), FER2013's seven
    (:data:`emorec.LABELS`) for a model with seven outputs.

    Raises
    ------
    ValueError
        If the chosen names do not match the number of outputs, or none apply.

    Examples
    --------
    >>> from emorec import build_model
    >>> from emorec.inference import resolve_labels
    >>> resolve_labels(build_model("seed_cnn"))[:2]
    ('angry', 'disgust')
    >>> resolve_labels(build_model("seed_cnn", num_classes=2), ["yes", "no"])
    ('yes', 'no')
    """
    outputs = int(model.output_shape[-1])
    chosen = labels if labels is not None else card_labels
    if not chosen and fallback is not None and len(fallback) == outputs:
        return tuple(str(n) for n in fallback)
    if chosen is None or len(chosen) == 0:
        if outputs == len(LABELS):
            return LABELS
        raise ValueError(
            f"the model has {outputs} outputs but no model card naming them; pass "
            f"labels=[...] with {outputs} names"
        )
    names = tuple(str(n) for n in chosen)
    if len(names) != outputs:
        source = "labels given" if labels is not None else "labels in the model card"
        raise ValueError(f"{len(names)} {source} for a model with {outputs} outputs")
    return names
