"""Finding and loading model files: the bundled models, a model named by its name or its path,
and the network inside the file.

:func:`resolve_model` turns a bundled model's name or a path into the file (every loader calls
it: :func:`load_model`, :meth:`emorec.EmotionClassifier.load`, ``Trainer(init_from=)``,
:func:`emorec.evaluate`, the CLI, :meth:`emorec.models.ModelCard.read`);
:func:`resolve_keras_model` is the same for an argument that trains from a model's weights;
:func:`list_pretrained`, :func:`keras_pretrained` and :func:`pretrained_path` name the bundled
models and their files; :func:`file_provenance` says where a model came from without the
machine's path; and :func:`load_model` loads the network with Keras's safe mode on (or a TFLite
or ONNX file in its runtime). The card inside the file is :mod:`emorec.models.card`'s.

Examples
--------
>>> from emorec.models.files import DEFAULT_PRETRAINED, resolve_model
>>> resolve_model(DEFAULT_PRETRAINED, keras=True).name
'ferplus_vgg_m.keras'
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from .._optional import require
from .._paths import check_path

if TYPE_CHECKING:
    import keras

__all__ = [
    "DAMAGED_ARCHIVE",
    "DEFAULT_PRETRAINED",
    "MODEL_SUFFIXES",
    "WEIGHTS_DIR",
    "file_provenance",
    "keras_pretrained",
    "list_pretrained",
    "load_model",
    "pretrained_path",
    "resolve_keras_model",
    "resolve_model",
]

#: What a damaged ``.keras`` zip raises inside Keras (bad CRC, encryption, bad compression), and
#: so also what reading the card from it (:meth:`emorec.models.ModelCard.read`) may raise.
DAMAGED_ARCHIVE = (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error)
#: The folder of the bundled models.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The files a bundled model can be, in the order a prediction prefers them: a TFLite model
#: with its card beside it (run by LiteRT, no TensorFlow needed), or a Keras model (needed to
#: train, fine-tune or export). A bundled name with both is one model in two formats.
MODEL_SUFFIXES = (".tflite", ".keras")
#: The name of the bundled default model, as :func:`list_pretrained` lists it.
DEFAULT_PRETRAINED = "ferplus_vgg_m"


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
     'fer2013_vgg_m_int8', 'ferplus_mini_xception', 'ferplus_vgg_m', 'ferplus_vgg_m_int8']
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
    >>> from emorec.models.files import keras_pretrained
    >>> keras_pretrained()
    ['fer2013_mini_xception', 'fer2013_vgg_m', 'ferplus_mini_xception', 'ferplus_vgg_m']
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
        If it is a ``.tflite`` or ``.onnx`` file (no weights to train from).

    Examples
    --------
    >>> from emorec.models.files import resolve_keras_model
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
    kind = {".tflite": "a TFLite", ".onnx": "an ONNX"}.get(path.suffix.lower())
    if kind is not None:
        raise ValueError(
            f"{argument}={path.name!r} is {kind} model, which cannot be trained from; give "
            "the Keras model (.keras) it was exported from, for example fer2013_vgg_m"
        )
    return path


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
    except RecursionError:  # a RuntimeError, so before DAMAGED_ARCHIVE
        raise ValueError(
            f"{file}: its Keras model configuration is nested too deeply to read; refusing "
            "it (a model saved by Keras nests a few dozen levels)"
        ) from None
    except DAMAGED_ARCHIVE as exc:
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
