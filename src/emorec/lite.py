"""TensorFlow Lite models: the interpreter and :class:`LiteModel`, a ``.tflite`` file that
emorec's inference runs like a Keras model.

A classifier exported by :meth:`emorec.EmotionClassifier.export` with ``format="tflite"`` (or
the bundled ``fer2013_vgg_m_int8``) takes float32 0..255 pixels of the model's input, as every
emorec model does (the pixel contract, :mod:`emorec.pixels`), and returns probabilities. Its
model card is inside it, in the flatbuffer's metadata (:mod:`emorec.tflite_card`; files
exported before that have it beside them, ``<name>.card.json``: :func:`card_path`), so that
``EmotionClassifier.load("model.tflite")`` knows the labels, the input and the test-time
augmentation the figures were measured with.

The interpreter is LiteRT (``ai_edge_litert``) when it is installed, else TensorFlow's
``tf.lite``; neither is imported before a model is run.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._native import quiet_native
from ._optional import MissingDependencyError

__all__ = ["LiteModel", "card_path", "default_threads", "load_tflite_interpreter"]

logger = logging.getLogger(__name__)


def card_path(model_file: str | os.PathLike[str]) -> Path:
    """Where a ``.tflite`` file's model card was before it went inside the file: beside it,
    ``<stem>.card.json`` (still read when the file has no card of its own).

    Examples
    --------
    >>> from emorec.lite import card_path
    >>> card_path("exports/model.tflite").as_posix()
    'exports/model.card.json'
    """
    return Path(model_file).with_suffix(".card.json")


def default_threads() -> int:
    """The CPU cores this process may use, at most 4 (the interpreter's default thread count)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def load_tflite_interpreter(model_content: bytes, num_threads: int | None) -> Any:
    """A TensorFlow Lite interpreter, tensors allocated: LiteRT (``ai_edge_litert``) if
    installed, else TensorFlow's.

    Raises
    ------
    ImportError
        When neither is installed, saying what to install.
    ValueError
        When the bytes are not a TensorFlow Lite model.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tensorflow import lite
        except ImportError as error:
            raise MissingDependencyError(
                "running a TensorFlow Lite model needs an interpreter: pip install "
                f"ai-edge-litert (or tensorflow) ({error})"
            ) from error
        with warnings.catch_warnings():
            # TF >= 2.18 announces that tf.lite.Interpreter moves to ai_edge_litert.
            warnings.filterwarnings(
                "ignore",
                message=r"\s*Warning: tf\.lite\.Interpreter is deprecated",
                category=UserWarning,
            )
            with quiet_native():  # the XNNPACK "INFO" line
                interpreter = lite.Interpreter(model_content=model_content, num_threads=num_threads)
                interpreter.allocate_tensors()
        logger.debug("TFLite runs on tensorflow.lite.Interpreter (ai_edge_litert not found)")
    else:
        with quiet_native():
            interpreter = Interpreter(model_content=model_content, num_threads=num_threads)
            interpreter.allocate_tensors()
    return interpreter


class LiteModel:
    """A TensorFlow Lite classifier file with the part of the Keras model interface that
    emorec's inference uses: ``input_shape``, ``output_shape``, ``name`` and
    :meth:`predict_on_batch`.

    :func:`emorec.models.load_model` returns one for a ``.tflite`` file, so
    :class:`emorec.EmotionClassifier`, :func:`emorec.evaluate` and the CLI run it as they run
    a Keras model. It cannot be trained, fine-tuned or exported again: that needs the Keras
    model it was exported from.

    Parameters
    ----------
    path : str or path-like
        The ``.tflite`` file: one image input ``(1 | n, h, w, c)`` and one output
        ``(n, classes)``. Float inputs take the model's 0..255 pixels; int8 or uint8 inputs and
        outputs are (de)quantized with the file's own scale and zero point.
    num_threads : int, optional
        Interpreter threads (default: the cores this process may use, at most 4).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a TensorFlow Lite model, or not one image in, one score vector out.

    Notes
    -----
    One interpreter per model; calls are serialised by a lock, so a model shared between
    threads gives correct results, one batch at a time. A batch of a new size resizes the
    interpreter's input (a few milliseconds); inference keeps its batch size fixed.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.models import load_model
    >>> model = load_model("fer2013_vgg_m_int8")
    >>> model.input_shape, model.output_shape
    ((None, 48, 48, 1), (None, 7))
    >>> model.predict_on_batch(np.full((2, 48, 48, 1), 128, np.float32)).shape
    (2, 7)
    """

    def __init__(self, path: str | os.PathLike[str], *, num_threads: int | None = None) -> None:
        self.path = Path(path)
        content = self.path.read_bytes()
        try:
            self._interpreter = load_tflite_interpreter(content, num_threads or default_threads())
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{self.path}: not a TensorFlow Lite model ({exc})") from None
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"{self.path}: {len(inputs)} inputs and {len(outputs)} outputs; an emorec "
                "classifier has one image input and one output of class scores"
            )
        self._input, self._output = inputs[0], outputs[0]
        in_shape = tuple(int(d) for d in self._input["shape"])
        out_shape = tuple(int(d) for d in self._output["shape"])
        if len(in_shape) != 4 or in_shape[-1] not in (1, 3) or len(out_shape) != 2:
            raise ValueError(
                f"{self.path}: input {in_shape} and output {out_shape}; expected an image "
                "input (n, height, width, 1 | 3) and class scores (n, classes)"
            )
        self.input_shape: tuple[int | None, ...] = (None, *in_shape[1:])
        self.output_shape: tuple[int | None, ...] = (None, out_shape[1])
        self.name = self.path.stem
        self.size_bytes = len(content)
        #: The file's bytes as loaded (the interpreter runs on them; the model card is read
        #: from them too, so a file is read once).
        self.content = content
        self._batch = in_shape[0]
        self._lock = threading.Lock()

    def predict_on_batch(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Class scores ``(n, classes)`` for ``(n, h, w, c)`` model input (0..255 floats)."""
        arr = np.asarray(x, np.float32)
        if arr.ndim != 4 or arr.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"input of shape {arr.shape}; {self.name} takes {self.input_shape}")
        if len(arr) == 0:
            return np.zeros((0, int(self.output_shape[1] or 0)), np.float32)
        with self._lock:
            interp = self._interpreter
            index = self._input["index"]
            if len(arr) != self._batch:
                interp.resize_tensor_input(index, arr.shape, strict=False)
                interp.allocate_tensors()
                self._batch = len(arr)
            interp.set_tensor(index, _quantize(arr, self._input))
            interp.invoke()
            raw = interp.get_tensor(self._output["index"])
            return _dequantize(raw, self._output)

    def __repr__(self) -> str:
        return f"LiteModel({str(self.path)!r}, input={self.input_shape[1:]})"


def _quantize(x: npt.NDArray[np.float32], detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    q = np.round(x / (scale or 1.0) + zero)
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> npt.NDArray[np.float32]:
    if np.dtype(detail["dtype"]).kind == "f":
        return np.array(y, np.float32)
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * (scale or 1.0)).astype(np.float32)
