"""The model file: one ``.keras`` file that carries its own model card (:class:`ModelCard`).

A trained emorec model is a standard Keras ``.keras`` archive (a zip) with one extra member,
``emorec/card.json``, which Keras ignores and emorec reads without TensorFlow:

.. code-block:: json

    {
      "format": "emorec-card/1",
      "labels": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
      "input_shape": [48, 48, 1],
      "color_mode": "grayscale",
      "architecture": {"name": "vgg_m", "kwargs": {}},
      "parameters": 1834567,
      "emorec_version": "0.1.0",
      "training": {"...": "the Trainer's full configuration, the command, time, machine"},
      "metrics": {"val": {"accuracy": 0.70}, "public_test": {"accuracy": 0.69}},
      "calibration": {"temperature": 1.6, "split": "val", "tta": "flip", "...": "..."}
    }

Exported files carry the same card: a ``.tflite`` file in its flatbuffer's metadata
(:mod:`emorec.tflite_card`), an ``.onnx`` file in its metadata properties
(:mod:`emorec.onnx_model`).

Because the rescaling is inside the network, anything that loads the file predicts correctly
from plain 0..255 pixels of its input shape (:mod:`emorec.pixels` makes them); the card says in
which order the outputs are and what input the model expects.

A model file has two doors: :func:`resolve_model` turns a bundled model's name or a path into
the file (every loader calls it: :func:`load_model`, :meth:`emorec.EmotionClassifier.load`,
``Trainer(init_from=)``, :func:`emorec.evaluate`, the CLI), and :func:`load_model` loads the
network; both live in :mod:`emorec.models.files`, with the bundled models, and are importable
from here too. This module's :class:`ModelCard` reads, checks and writes the card. The card's
``format`` is checked on reading: a card of a newer format than this emorec knows is refused
with a message to upgrade, not misread. Cards hold no machine paths: provenance is a file name,
its SHA-256 (:func:`file_provenance`), the emorec version and the command.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_file, write_atomic
from .._version import __version__
from ..lite import card_path
from .files import (
    DAMAGED_ARCHIVE,
    DEFAULT_PRETRAINED,
    file_provenance,
    keras_pretrained,
    list_pretrained,
    load_model,
    pretrained_path,
    resolve_keras_model,
    resolve_model,
)
from .files import MODEL_SUFFIXES as MODEL_SUFFIXES  # re-exported: its home was here
from .files import WEIGHTS_DIR as WEIGHTS_DIR  # re-exported: its home was here

if TYPE_CHECKING:
    import keras

__all__ = [
    "CARD_MEMBER",
    "DEFAULT_PRETRAINED",
    "ModelCard",
    "file_provenance",
    "keras_pretrained",
    "list_pretrained",
    "load_model",
    "pretrained_path",
    "read_card",
    "resolve_keras_model",
    "resolve_model",
]

CARD_MEMBER = "emorec/card.json"
#: The card format this emorec writes; it reads this and every older ``emorec-card/N``.
CARD_FORMAT = "emorec-card/1"
_CARD_VERSION = 1
_FORMAT_PATTERN = re.compile(r"emorec-card/(\d+)\Z")
#: A card is a few kilobytes; a member inflating past this is refused unread.
MAX_CARD_BYTES = 4 * 1024 * 1024


@dataclass
class ModelCard:
    """What a model file says about itself: labels, input, architecture, provenance, metrics.

    Attributes
    ----------
    labels : tuple of str
        Class names in output order.
    input_shape : (height, width, channels), optional
        The pixels the model takes.
    color_mode : {"grayscale", "rgb"}, optional
        ``input_shape``'s channels in words.
    architecture : dict, optional
        ``{"name": registered name, "kwargs": options}`` (see :func:`emorec.build_model`).
    parameters : int, optional
        Parameter count.
    training : dict, optional
        The Trainer's record: ``config``, ``command``, ``epochs_done``, ``machine``,
        ``started_from`` (the donor file's name, SHA-256 and its own record) and more.
    metrics : dict
        ``{split: {"accuracy": ..., "macro_f1": ..., "tta": ..., "n": ...}}``, each split named.
    calibration : dict, optional
        ``{"temperature": T, "split": ..., "tta": ..., "n": ..., "ece_before": ...}`` from
        :func:`emorec.calibration.calibrate`: the temperature inference applies
        (:attr:`temperature`).
    tta : {"none", "flip", "shift"}, optional
        The test-time augmentation :class:`emorec.EmotionClassifier` applies by default with
        this model (its headline figures are measured with it); None: the library's default,
        :data:`emorec.inference.DEFAULT_TTA`.
    emorec_version : str
        The emorec that wrote the card.
    extra : dict
        Any other fields (``license``, ``data_notice``, ``splits``, ``checkpoint``, ``note``),
        kept as they are through reading and writing.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec import build_model
    >>> from emorec.models import ModelCard
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> model = build_model("mini_xception", num_classes=2)
    >>> model.save(path)
    >>> ModelCard.from_model(model, ["yes", "no"], metrics={"val": {"accuracy": 0.9}}).write(path)
    >>> card = ModelCard.read(path)
    >>> card.labels, card.architecture["name"], card.metrics["val"]["accuracy"]
    (('yes', 'no'), 'mini_xception', 0.9)
    """

    labels: tuple[str, ...]
    input_shape: tuple[int, ...] | None = None
    color_mode: str | None = None
    architecture: dict[str, Any] | None = None
    parameters: int | None = None
    training: dict[str, Any] | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    tta: str | None = None
    emorec_version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.labels, str) or not self.labels:
            raise ValueError("a model card needs labels (the class names in output order)")
        if self.tta is not None and self.tta not in ("none", "flip", "shift"):
            raise ValueError(
                f"the model card's tta {self.tta!r}; expected 'none', 'flip' or 'shift'"
            )
        self.labels = tuple(str(n) for n in self.labels)
        repeated = sorted({n for n in self.labels if self.labels.count(n) > 1})
        if repeated:
            raise ValueError(
                f"the model card's labels {list(self.labels)!r} repeat "
                f"{', '.join(map(repr, repeated))}; expected one distinct name per output"
            )
        if self.input_shape is not None:
            self.input_shape = tuple(int(d) for d in self.input_shape)
        if self.calibration is not None:
            t = self.calibration.get("temperature") if isinstance(self.calibration, dict) else None
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < float("inf"):
                raise ValueError(
                    f"the model card's calibration {self.calibration!r} has no positive "
                    "temperature; expected {'temperature': T, ...} from emorec.calibration"
                )

    @property
    def temperature(self) -> float:
        """The temperature inference applies (``calibration["temperature"]``; 1.0 without)."""
        return float(self.calibration["temperature"]) if self.calibration else 1.0

    # ------------------------------------------------------------------ making
    @classmethod
    def from_model(cls, model: keras.Model, labels: Any, **fields_: Any) -> ModelCard:
        """A card for ``model``: its input, architecture (when built by
        :func:`emorec.build_model`) and parameter count, plus ``fields_``."""
        shape = tuple(int(d) for d in model.input_shape[1:])
        from .registry import architecture_of

        arch = architecture_of(model)
        known = {f.name for f in fields(cls)}
        extra = {k: v for k, v in fields_.items() if k not in known}
        given = {k: v for k, v in fields_.items() if k in known}
        given.setdefault("architecture", arch)
        given.setdefault("extra", {})
        given["extra"] = {**given["extra"], **extra}
        return cls(
            labels=tuple(labels),
            input_shape=shape,
            color_mode="rgb" if shape[-1] == 3 else "grayscale",
            parameters=int(model.count_params()),
            **given,
        )

    @classmethod
    def from_dict(cls, data: Any, source: str = "model card") -> ModelCard:
        """Check and convert a card's JSON object (any format up to :data:`CARD_FORMAT`).

        Raises
        ------
        ValueError
            If ``data`` is not an object, has a format newer than this emorec reads, or lacks
            a list of label names; the message names ``source``.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{source}: the model card is {type(data).__name__}, not an object")
        fmt = data.get("format", CARD_FORMAT)
        match = _FORMAT_PATTERN.match(fmt) if isinstance(fmt, str) else None
        if match is None:
            raise ValueError(f"{source}: unknown model card format {fmt!r}; expected {CARD_FORMAT}")
        if int(match.group(1)) > _CARD_VERSION:
            raise ValueError(
                f"{source}: model card format {fmt!r} is newer than this emorec "
                f"({__version__}) reads ({CARD_FORMAT}); upgrade emorec to use this file"
            )
        labels = data.get("labels")
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(n, str) for n in labels)
        ):
            raise ValueError(
                f"{source}: the model card's labels are {labels!r}; expected a list of names"
            )
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        for key, kind in (
            ("metrics", dict),
            ("training", dict),
            ("architecture", dict),
            ("calibration", dict),
        ):
            if values.get(key) is not None and not isinstance(values[key], kind):
                raise ValueError(f"{source}: the model card's {key!r} is not an object")
        values["metrics"] = values.get("metrics") or {}
        values["emorec_version"] = str(data.get("emorec_version", "unknown"))
        extra = {k: v for k, v in data.items() if k not in known and k != "format"}
        try:
            return cls(**values, extra=extra)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    # ------------------------------------------------------------------ files
    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ModelCard:
        """Read the card of a ``.keras`` file (or bundled model name), without TensorFlow.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            If it is not a ``.keras`` archive, carries no card, or the card is malformed.
        """
        card = cls.read_optional(path)
        if card is None:
            raise ValueError(
                f"{resolve_model(path)}: a Keras file without an emorec model card "
                f"({CARD_MEMBER}); add one with emorec.models.ModelCard(labels=[...]).write(path)"
            )
        return card

    @classmethod
    def read_optional(
        cls, path: str | os.PathLike[str], *, content: bytes | None = None
    ) -> ModelCard | None:
        """:meth:`read`, but None for a model file that has no card.

        ``content``: the bytes of a ``.tflite`` file already read (for example
        :attr:`emorec.lite.LiteModel.content`), so that the file is not read again.
        """
        file = resolve_model(path)
        if file.suffix.lower() == ".tflite":
            return _read_tflite(file, content)
        if file.suffix.lower() == ".onnx":
            from ..onnx_model import read_onnx_card

            data = read_onnx_card(file)
            return None if data is None else cls.from_dict(data, str(file))
        try:
            with zipfile.ZipFile(file) as zf:
                try:
                    info = zf.getinfo(CARD_MEMBER)
                except KeyError:
                    return None
                if info.file_size > MAX_CARD_BYTES:
                    raise ValueError(
                        f"{file}: its model card inflates to {info.file_size} bytes (at most "
                        f"{MAX_CARD_BYTES} expected); refusing to read it"
                    )
                raw = zf.read(info)
        except (*DAMAGED_ARCHIVE, zipfile.LargeZipFile, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise ValueError(f"{file}: not a readable .keras model file ({exc})") from None
        return cls.from_dict(_parse_card(raw, file), str(file))

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data, in the file's layout (``format`` first)."""
        data = asdict(self)
        extra = data.pop("extra")
        data["labels"] = list(self.labels)
        if self.input_shape is not None:
            data["input_shape"] = list(self.input_shape)
        out = {"format": CARD_FORMAT, **{k: v for k, v in data.items() if v is not None}}
        return {**out, **extra}

    def to_json(self) -> str:
        """The card as the JSON text every model file holds (:meth:`to_dict`, indented).

        Examples
        --------
        >>> import json
        >>> json.loads(ModelCard(labels=["happy", "sad"]).to_json())["labels"]
        ['happy', 'sad']
        """
        return json.dumps(self.to_dict(), indent=2)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Put (or replace) this card inside a ``.keras``, ``.tflite`` or ``.onnx`` file,
        atomically (a temporary copy, flushed and renamed over the file), as the running
        emorec's version. A ``.tflite`` file holds it in its flatbuffer's metadata
        (:mod:`emorec.tflite_card`).

        Raises
        ------
        ValueError
            If a ``.keras`` file is not a zip archive.
        """
        file = Path(path)
        self.emorec_version = __version__
        text = self.to_json()
        if file.suffix.lower() == ".tflite":
            from ..tflite_card import with_tflite_card

            flat = with_tflite_card(file.read_bytes(), text.encode(), str(file))
            write_atomic(file, flat)
            return
        if file.suffix.lower() == ".onnx":
            from ..onnx_model import write_onnx_card

            write_onnx_card(file, self.to_dict())
            return
        with atomic_file(file) as tmp:
            try:
                with zipfile.ZipFile(file) as src, zipfile.ZipFile(tmp, "w") as dst:
                    for info in src.infolist():
                        if info.filename != CARD_MEMBER:
                            dst.writestr(info, src.read(info))
                    dst.writestr(CARD_MEMBER, text)
            except zipfile.BadZipFile:
                raise ValueError(f"{file}: not a .keras model file (not a zip archive)") from None

    # ------------------------------------------------------------------ reading helpers
    @property
    def architecture_name(self) -> str | None:
        """The registered architecture's name, if the card knows it."""
        return (self.architecture or {}).get("name")

    def get(self, key: str, default: Any = None) -> Any:
        """A field by its name in the file (``"license"``, ``"metrics"``...), or ``default``."""
        return self.to_dict().get(key, default)


def _parse_card(raw: bytes, file: Path) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: the model card is not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError(
            f"{file}: the model card is nested too deeply to read (a card is a few levels of "
            "JSON objects and lists); refusing it"
        ) from None


def _read_tflite(file: Path, flat: bytes | None = None) -> ModelCard | None:
    """The card inside a ``.tflite`` file (:mod:`emorec.tflite_card`; ``flat``: its bytes if
    already read), else the one beside it (``<name>.card.json``, as files exported before it
    was inside were written), else None."""
    from ..tflite_card import read_tflite_card

    if flat is None:
        try:
            with open(file, "rb") as fh:
                flat = fh.read()
        except OSError as exc:
            raise ValueError(f"{file}: unreadable ({exc})") from None
    raw = read_tflite_card(flat, str(file))
    if raw is not None:
        if len(raw) > MAX_CARD_BYTES:
            raise ValueError(
                f"{file}: a model card over {MAX_CARD_BYTES} bytes; refusing to read it"
            )
        return ModelCard.from_dict(_parse_card(raw, file), str(file))
    card = card_path(file)
    try:
        with open(card, "rb") as fh:
            raw = fh.read(MAX_CARD_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"{card}: the model card of {file.name} is unreadable ({exc})") from None
    if len(raw) > MAX_CARD_BYTES:
        raise ValueError(f"{card}: a model card over {MAX_CARD_BYTES} bytes; refusing to read it")
    return ModelCard.from_dict(_parse_card(raw, card), str(card))


def read_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read the model card of a ``.keras`` file or bundled model, without importing TensorFlow
    (:meth:`ModelCard.read`).

    Parameters
    ----------
    path : str or path-like
        A ``.keras`` file written by emorec, or a name from :func:`list_pretrained`.

    Raises
    ------
    FileNotFoundError
        If there is no such file or bundled model.
    ValueError
        If it is not a ``.keras`` archive, carries no emorec card, or the card is malformed.

    Examples
    --------
    >>> from emorec import read_card
    >>> card = read_card("fer2013_vgg_m")
    >>> card.labels[3], card.input_shape, card.metrics["public_test"]["tta"]
    ('happy', (48, 48, 1), 'flip')
    >>> read_card("missing.keras")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: missing.keras: no such model file or bundled model (bundled: ...)
    """
    return ModelCard.read(path)
