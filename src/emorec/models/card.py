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

Because the rescaling is inside the network, anything that loads the file predicts correctly
from plain 0..255 pixels of its input shape (:mod:`emorec.pixels` makes them); the card says in
which order the outputs are and what input the model expects.

This module is the one door to a model file: :func:`resolve_model` turns a bundled model's
name or a path into the file (every loader calls it: :func:`load_model`,
:meth:`emorec.EmotionClassifier.load`, ``Trainer(init_from=)``, :func:`emorec.evaluate`, the
CLI), :class:`ModelCard` reads, checks and writes the card, and :func:`load_model` loads the
network. The card's ``format`` is checked on reading: a card of a newer format than this emorec
knows is refused with a message to upgrade, not misread. Cards hold no machine paths:
provenance is a file name, its SHA-256, the emorec version and the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_file, write_atomic
from .._optional import require
from .._paths import check_path
from .._version import __version__
from ..lite import card_path

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
#: What a damaged ``.keras`` zip raises inside Keras (bad CRC, encryption, bad compression).
_DAMAGED_ARCHIVE = (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error)
#: A card is a few kilobytes; a member inflating past this is refused unread.
MAX_CARD_BYTES = 4 * 1024 * 1024
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The files a bundled model can be, in the order a prediction prefers them: a TFLite model
#: with its card beside it (run by LiteRT, no TensorFlow needed), or a Keras model (needed to
#: train, fine-tune or export). A bundled name with both is one model in two formats.
MODEL_SUFFIXES = (".tflite", ".keras")
#: The name of the bundled default model, as :func:`list_pretrained` lists it.
DEFAULT_PRETRAINED = "ferplus_vgg_m"


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
    def read_optional(cls, path: str | os.PathLike[str]) -> ModelCard | None:
        """:meth:`read`, but None for a model file that has no card."""
        file = resolve_model(path)
        if file.suffix.lower() == ".tflite":
            return _read_sidecar(file)
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
        except (*_DAMAGED_ARCHIVE, zipfile.LargeZipFile, OSError) as exc:
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

    def write(self, path: str | os.PathLike[str]) -> None:
        """Put (or replace) this card inside a ``.keras`` file, or beside a ``.tflite`` file
        (:func:`emorec.lite.card_path`), atomically (a temporary copy, flushed and renamed
        over the file), as the running emorec's version.

        Raises
        ------
        ValueError
            If a ``.keras`` file is not a zip archive.
        """
        file = Path(path)
        self.emorec_version = __version__
        text = json.dumps(self.to_dict(), indent=2)
        if file.suffix.lower() == ".tflite":
            write_atomic(card_path(file), text + "\n")
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


def _safe_mode_refusal(file: Path, keras_text: str) -> str:
    """What to say when Keras's safe mode refuses part of ``file``: the offending layer (or
    object) as Keras names it, and what to do."""
    trust = (
        "or, if you trust the file, load it yourself with "
        "keras.saving.load_model(path, safe_mode=False)"
    )
    named = re.search(r"deserialization of an? `([^`]+)`", keras_text)
    name = named.group(1) if named else None
    if name == "Lambda" or (name is None and "Python lambda" in keras_text):
        what = "a Lambda layer" if name else "a Python lambda (a layer's function or argument)"
        return (
            f"{file}: refused to load: the model contains {what}, whose code Keras will not "
            "run from a file in safe mode. Replace the Lambda with a layer class registered "
            f"with keras.saving.register_keras_serializable, {trust}"
        )
    if name == "TFSMLayer":
        return (
            f"{file}: refused to load: the model contains a TFSMLayer layer, which runs an "
            "external TensorFlow SavedModel that Keras will not load from a file in safe mode. "
            f"Rebuild the model from Keras layers (or use the SavedModel itself), {trust}"
        )
    if name is not None:
        return (
            f"{file}: refused to load: the model contains a {name} object, which Keras will "
            f"not load from a file in safe mode, {trust}"
        )
    first = keras_text.strip().splitlines()[0][:200] if keras_text.strip() else "no reason given"
    return f"{file}: refused to load in Keras's safe mode ({first}); {trust}"


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


def _read_sidecar(file: Path) -> ModelCard | None:
    """The card beside a ``.tflite`` file, None without one."""
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


def file_provenance(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{"file": name, "sha256": digest}`` of a file: where a model came from, without the
    machine's path (a bundled model is named by its bundled name).

    Examples
    --------
    >>> from emorec.models import file_provenance
    >>> record = file_provenance("fer2013_vgg_m")
    >>> record["file"], len(record["sha256"])
    ('fer2013_vgg_m (bundled)', 64)
    """
    file = resolve_model(path)
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    bundled = file.parent == WEIGHTS_DIR
    name = f"{file.stem} (bundled)" if bundled else file.name
    return {"file": name, "sha256": digest.hexdigest()}


def list_pretrained() -> list[str]:
    """Names of the trained models bundled with emorec (what ``EmotionClassifier.load`` takes).

    Examples
    --------
    >>> from emorec.models import list_pretrained
    >>> list_pretrained()  # doctest: +NORMALIZE_WHITESPACE
    ['fer2013_mini_xception', 'fer2013_mini_xception_int8', 'fer2013_vgg_m',
     'fer2013_vgg_m_int8', 'ferplus_vgg_m', 'ferplus_vgg_m_int8']
    """
    return sorted({p.stem for suffix in MODEL_SUFFIXES for p in WEIGHTS_DIR.glob(f"*{suffix}")})


def pretrained_path(name: str = DEFAULT_PRETRAINED, *, keras: bool = False) -> Path:
    """The file of a bundled pretrained model: its TFLite file where it has one (what
    predictions run, without TensorFlow), else its Keras file; with ``keras=True``, its
    Keras file (what training, fine-tuning and export start from).

    Parameters
    ----------
    name : str
        A name from :func:`list_pretrained`.
    keras : bool
        Ask for the ``.keras`` file.

    Raises
    ------
    KeyError
        If no bundled model has that name (or, with ``keras=True``, no Keras file).

    Examples
    --------
    >>> from emorec.models import pretrained_path
    >>> pretrained_path().name, pretrained_path(keras=True).name
    ('ferplus_vgg_m.tflite', 'ferplus_vgg_m.keras')
    """
    for suffix in (".keras",) if keras else MODEL_SUFFIXES:
        file = WEIGHTS_DIR / f"{name}{suffix}"
        if file.is_file():
            return file
    have = ", ".join(list_pretrained()) or "none"
    if keras and name in list_pretrained():
        raise KeyError(
            f"the bundled model {name!r} has no Keras file (it is TFLite only); bundled "
            f"models with one: {', '.join(keras_pretrained())}"
        )
    raise KeyError(f"no pretrained model named {name!r}; bundled: {have}")


def keras_pretrained() -> list[str]:
    """Names of the bundled models that have a Keras file (those that can be trained from,
    fine-tuned or exported).

    Examples
    --------
    >>> from emorec.models.card import keras_pretrained
    >>> keras_pretrained()
    ['fer2013_mini_xception', 'fer2013_vgg_m', 'ferplus_vgg_m']
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.keras"))


def resolve_model(
    name_or_path: str | os.PathLike[str] | None = None, *, keras: bool = False
) -> Path:
    """The file behind a model reference: ``None`` (the bundled default), a bundled model's
    name, or a path to a ``.keras`` (or legacy ``.h5``) file or a ``.tflite`` file. An
    existing path wins over a bundled name; a bundled name gives its TFLite file where it
    has one (:func:`pretrained_path`), its Keras file with ``keras=True``.

    Raises
    ------
    FileNotFoundError
        If it is neither an existing file nor a bundled name; the message lists the bundled
        models.
    ValueError
        If the path holds a NUL byte.

    Examples
    --------
    >>> from emorec.models import resolve_model
    >>> resolve_model().name, resolve_model("fer2013_vgg_m", keras=True).name
    ('ferplus_vgg_m.tflite', 'fer2013_vgg_m.keras')
    """
    target = DEFAULT_PRETRAINED if name_or_path is None else name_or_path
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(
            f"model={target!r}; expected a bundled model's name or a path to a .keras file"
        )
    check_path(target, "model")
    file = Path(target)
    if file.exists():
        if file.is_dir():
            raise IsADirectoryError(f"{file}: a folder, not a model file (.keras)")
        return file
    if isinstance(target, str) and target in list_pretrained():
        if keras and target not in keras_pretrained():
            return pretrained_path(target)  # the caller refuses the .tflite with its words
        return pretrained_path(target, keras=keras)
    have = ", ".join(list_pretrained()) or "none"
    raise FileNotFoundError(f"{target}: no such model file or bundled model (bundled: {have})")


def resolve_keras_model(name_or_path: str | os.PathLike[str], argument: str) -> Path:
    """:func:`resolve_model` for an argument that trains from a model's weights
    (``init_from``, ``teacher``): its errors name the argument, and a TFLite file, which has no
    weights to train from, is refused.

    Raises
    ------
    FileNotFoundError
        If it is neither an existing file nor a bundled name (the message lists them).
    ValueError
        If it is a ``.tflite`` file.

    Examples
    --------
    >>> from emorec.models.card import resolve_keras_model
    >>> resolve_keras_model("fer2013_vgg_m", "teacher").name
    'fer2013_vgg_m.keras'
    >>> resolve_keras_model("no_such.keras", "init_from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: init_from='no_such.keras': no such file, and not a bundled model (...)
    """
    try:
        path = resolve_model(name_or_path, keras=True)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{argument}={str(name_or_path)!r}: no such file, and not a bundled model "
            f"({', '.join(list_pretrained()) or 'none'})"
        ) from error
    if path.suffix.lower() == ".tflite":
        raise ValueError(
            f"{argument}={path.name!r} is a TFLite model, which cannot be trained from; give "
            "the Keras model (.keras) it was exported from, for example fer2013_vgg_m"
        )
    return path


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    compile: bool = False,
    rescale: float | None = None,
) -> keras.Model:
    """Load a ``.keras`` (or legacy ``.h5``) model file with Keras ``safe_mode=True``, or a
    ``.tflite`` file as a :class:`emorec.lite.LiteModel`.

    Model plugins (the ``emorec.models`` entry points) are imported first, so architectures
    with custom layers from installed packages load too.

    Parameters
    ----------
    path : str or path-like, optional
        A ``.keras`` file, or a name from :func:`list_pretrained` (default: the bundled
        default model); see :func:`resolve_model`.
    compile : bool
        Restore the training configuration too (default False: for inference).
    rescale : float, optional
        A factor applied to the 0..255 pixels before the network, for files whose network
        expects scaled input (a ``Rescaling`` layer is put in front). Default: none for
        ``.keras`` files (emorec's scale inside the network); ``1/255`` for ``.h5`` files,
        as the seed notebook's ``model.save('emotion_model.h5')`` was trained.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If Keras refuses the file, for example a ``Lambda`` or ``TFSMLayer`` layer under
        ``safe_mode`` (the message names the layer's class) or an unknown custom layer; the
        message says what to do.

    Examples
    --------
    >>> from emorec.models import load_model
    >>> load_model("fer2013_vgg_m").output_shape
    (None, 7)
    """
    from . import registry

    file = resolve_model(path)
    if file.suffix.lower() in (".tflite", ".onnx"):
        if compile or rescale not in (None, 1):
            raise ValueError(f"{file}: an exported model takes neither compile= nor rescale=")
        if file.suffix.lower() == ".onnx":
            from ..onnx_model import OnnxModel

            return OnnxModel(file)
        from ..lite import LiteModel

        return LiteModel(file)
    keras = require("keras", f"loading {file.name} (a Keras model)")
    registry.MODELS.load_entry_points()

    legacy = file.suffix.lower() in (".h5", ".hdf5")
    try:
        model = keras.saving.load_model(file, compile=compile, safe_mode=True)
    except RecursionError:  # a RuntimeError, so before _DAMAGED_ARCHIVE
        raise ValueError(
            f"{file}: its Keras model configuration is nested too deeply to read; refusing "
            "it (a model saved by Keras nests a few dozen levels)"
        ) from None
    except _DAMAGED_ARCHIVE as exc:
        if isinstance(exc, RuntimeError) and "encrypted" not in str(exc):
            raise
        raise ValueError(
            f"{file}: a damaged model file ({type(exc).__name__}: {exc}); get a good copy"
        ) from None
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if "Lambda" in text or "safe_mode" in text:
            raise ValueError(_safe_mode_refusal(file, text)) from exc
        if "Could not locate" in text or "Unknown" in text:
            raise ValueError(
                f"{file}: refused to load: it uses a custom layer or function that is not "
                f"registered ({text.splitlines()[0][:200]}). Import the package that defines "
                "it (registered with keras.saving.register_keras_serializable) before loading"
            ) from exc
        raise ValueError(f"{file}: not a loadable Keras model ({text.splitlines()[0]})") from exc
    scale = (1 / 255 if legacy else None) if rescale is None else rescale
    if scale is None or scale == 1:
        return model
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    x = keras.layers.Rescaling(scale, name="rescale_input")(inputs)
    return keras.Model(inputs, model(x), name=f"{model.name}_rescaled")
