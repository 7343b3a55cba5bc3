"""ONNX models: :class:`OnnxModel`, a ``.onnx`` file that emorec's inference runs on ONNX
Runtime like a Keras model, with its model card inside the file.

A classifier exported by :meth:`emorec.EmotionClassifier.export` with ``format="onnx"`` takes
float32 0..255 pixels of the model's input (the pixel contract, :mod:`emorec.pixels`) and
returns probabilities at the classifier's temperature; its model card (labels, input, the
training record) travels in the file's metadata under :data:`CARD_KEY`, so that
``EmotionClassifier.load("model.onnx")`` needs no other setting. Needs ``onnxruntime``
(``pip install "emorec[onnx]"``), imported only when a model is opened.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._optional import require

__all__ = ["CARD_KEY", "OnnxModel", "read_onnx_card", "write_onnx_card"]

#: The metadata key of an exported ONNX file that holds its emorec model card (JSON).
CARD_KEY = "emorec_card"


def _session(path: Path, num_threads: int | None) -> Any:
    ort = require("onnxruntime", f"running {path.name} (an ONNX model)")
    from .lite import default_threads

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own classes, not ValueError
        if isinstance(exc, FileNotFoundError):
            raise
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: not a readable ONNX model ({first})") from None


def read_onnx_card(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The model card stored in an ONNX file's metadata (as JSON data), None without one.

    Raises
    ------
    ValueError
        If the file is not an ONNX model, or its card is not JSON.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such ONNX model file")
    meta = _session(file, 1).get_modelmeta().custom_metadata_map
    if CARD_KEY not in meta:
        return None
    try:
        data: dict[str, Any] = json.loads(meta[CARD_KEY])
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(
            f"{file}: the model card in its metadata is not valid JSON ({exc})"
        ) from None
    return data


def write_onnx_card(path: str | os.PathLike[str], card: dict[str, Any]) -> None:
    """Put a model card (JSON data) into an ONNX file's metadata, replacing any there.

    Needs the ``onnx`` package (``pip install "emorec[onnx]"``).
    """
    onnx = require("onnx", "writing an ONNX model's card")
    from ._files import write_atomic

    file = Path(path)
    model = onnx.load(str(file))
    kept = [p for p in model.metadata_props if p.key != CARD_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    write_atomic(file, model.SerializeToString())


class OnnxModel:
    """An ONNX classifier file with the part of the Keras model interface that emorec's
    inference uses: ``input_shape``, ``output_shape``, ``name`` and :meth:`predict_on_batch`
    (as :class:`emorec.lite.LiteModel` for TFLite files).

    Parameters
    ----------
    path : str or path-like
        The ``.onnx`` file: one image input ``(n, h, w, c)`` of float32 0..255 pixels, one
        output of class scores ``(n, classes)``.
    num_threads : int, optional
        Threads of one model call (default: the cores this process may use, at most 4).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not an ONNX model, or not one image in and one score vector out.
    emorec._optional.MissingDependencyError
        Without ``onnxruntime``.
    """

    def __init__(self, path: str | os.PathLike[str], *, num_threads: int | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such ONNX model file")
        self._session = _session(self.path, num_threads)
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"{self.path}: {len(inputs)} inputs and {len(outputs)} outputs; an emorec "
                "classifier has one image input and one output of class scores"
            )
        in_shape, out_shape = list(inputs[0].shape), list(outputs[0].shape)
        fixed_in = in_shape[1:]
        if (
            len(in_shape) != 4
            or not all(isinstance(d, int) for d in fixed_in)
            or fixed_in[-1] not in (1, 3)
            or len(out_shape) != 2
            or not isinstance(out_shape[1], int)
        ):
            raise ValueError(
                f"{self.path}: input {in_shape} and output {out_shape}; expected an image "
                "input (n, height, width, 1 | 3) and class scores (n, classes)"
            )
        self.input_shape: tuple[int | None, ...] = (None, *fixed_in)
        self.output_shape: tuple[int | None, ...] = (None, int(out_shape[1]))
        self.name = self.path.stem
        self.size_bytes = self.path.stat().st_size
        self._input, self._output = inputs[0].name, outputs[0].name
        self._batch = in_shape[0] if isinstance(in_shape[0], int) else None
        self._lock = threading.Lock()

    def predict_on_batch(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Class scores ``(n, classes)`` for ``(n, h, w, c)`` model input (0..255 floats)."""
        arr = np.ascontiguousarray(x, np.float32)
        if arr.ndim != 4 or arr.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"input of shape {arr.shape}; {self.name} takes {self.input_shape}")
        if len(arr) == 0:
            return np.zeros((0, int(self.output_shape[1] or 0)), np.float32)
        if self._batch is None:
            return self._run(arr)
        rows = []  # a file fixed to one batch size: feed it slices, the last one padded
        for start in range(0, len(arr), self._batch):
            chunk = arr[start : start + self._batch]
            pad = self._batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), np.float32)])
            rows.append(self._run(chunk)[: self._batch - pad])
        return np.concatenate(rows)

    def _run(self, arr: np.ndarray) -> npt.NDArray[np.float32]:
        with self._lock:
            (out,) = self._session.run([self._output], {self._input: arr})
        return np.asarray(out, np.float32)

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r}, input={self.input_shape[1:]})"
