"""The model card inside a ``.tflite`` file: one entry of the flatbuffer's ``metadata`` list.

A TensorFlow Lite model file is a flatbuffer (``schema.fbs``) whose ``metadata`` field names
buffers of the file; interpreters ignore names they do not know. emorec puts the model card's
JSON in a buffer named :data:`METADATA_NAME`, so that a ``.tflite`` file copied alone still
knows its labels, input, test-time augmentation and temperature, and the card cannot drift
from the network it describes. It needs only ``flatbuffers`` and LiteRT's generated schema
(``ai_edge_litert.schema_py_generated``), both of the core install: no TensorFlow.

Files exported before this (and ``.tflite`` files of other tools) may carry their card beside
them as ``<name>.card.json`` (:func:`emorec.lite.card_path`); :meth:`emorec.ModelCard.read`
still reads those.

Examples
--------
>>> from emorec.models.files import pretrained_path
>>> from emorec.tflite_card import read_tflite_card
>>> flat = pretrained_path("fer2013_mini_xception").read_bytes()
>>> read_tflite_card(flat)[:1]
b'{'
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["METADATA_NAME", "read_tflite_card", "with_tflite_card"]

#: The name of the metadata entry that holds the card (JSON, UTF-8).
METADATA_NAME = "emorec_card"

#: The flatbuffer's file identifier of TensorFlow Lite models.
_IDENTIFIER = b"TFL3"


def _schema() -> Any:
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError:  # TensorFlow's copy, where LiteRT is not installed
        from tensorflow.lite.python import schema_py_generated
    return schema_py_generated


def _check(flat: bytes, name: str) -> None:
    if len(flat) < 8 or flat[4:8] != _IDENTIFIER:
        raise ValueError(f"{name}: not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier)")


def read_tflite_card(flat: bytes, name: str = "model.tflite") -> bytes | None:
    """The card's JSON bytes in a ``.tflite`` file's contents, or None if it has none.

    Parameters
    ----------
    flat : bytes
        The file's contents.
    name : str
        How errors name the file.

    Raises
    ------
    ValueError
        If ``flat`` is not a TensorFlow Lite flatbuffer, or its metadata points outside it.
    """
    _check(flat, name)
    schema = _schema()
    try:
        model = schema.Model.GetRootAs(flat, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() != METADATA_NAME.encode():
                continue
            buffer = model.Buffers(entry.Buffer())
            if buffer is None:
                raise ValueError(f"{name}: its {METADATA_NAME} metadata names no buffer")
            if buffer.Offset() > 0:  # a buffer stored after the flatbuffer (files over 2 GB)
                start, size = int(buffer.Offset()), int(buffer.Size())
                return bytes(flat[start : start + size])
            data = buffer.DataAsNumpy()
            return bytes(data.tobytes()) if isinstance(data, np.ndarray) else b""
    except (IndexError, TypeError, AttributeError) as exc:  # a damaged table
        raise ValueError(f"{name}: its flatbuffer is damaged ({exc})") from None
    return None


def with_tflite_card(flat: bytes, card_json: bytes, name: str = "model.tflite") -> bytes:
    """``flat`` (a ``.tflite`` file's contents) with ``card_json`` as its card, replacing any
    card it had. The network's tensors, operators and buffers are kept as they are.

    Raises
    ------
    ValueError
        If ``flat`` is not a TensorFlow Lite flatbuffer.

    Examples
    --------
    >>> from emorec.models.files import pretrained_path
    >>> from emorec.tflite_card import read_tflite_card, with_tflite_card
    >>> flat = pretrained_path("fer2013_mini_xception").read_bytes()
    >>> read_tflite_card(with_tflite_card(flat, b'{"labels": []}'))
    b'{"labels": []}'
    """
    _check(flat, name)
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(flat, 0)
    model.buffers = list(model.buffers or [])
    model.metadata = list(model.metadata or [])
    names = (METADATA_NAME, METADATA_NAME.encode())
    entry = next((m for m in model.metadata if m.name in names), None)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(card_json, np.uint8)
    if entry is not None and 0 <= entry.buffer < len(model.buffers):
        model.buffers[entry.buffer] = buffer  # the old card's buffer, not a new one each time
    else:
        model.metadata = [m for m in model.metadata if m.name not in names]
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = METADATA_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)
    builder = flatbuffers.Builder(len(flat) + len(card_json) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=_IDENTIFIER)
    return bytes(builder.Output())
