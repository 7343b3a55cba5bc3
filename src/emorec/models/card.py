"""The model file: one ``.keras`` file that carries its own model card.

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
      "metrics": {"val": {"accuracy": 0.70}, "public_test": {"accuracy": 0.69}}
    }

Because the preprocessing (colour conversion, resizing, rescaling) is inside the network,
anything that loads the file predicts correctly from plain 0..255 pixels; the card says in
which order the outputs are and what input the model expects.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from .._version import __version__

__all__ = [
    "CARD_MEMBER",
    "DEFAULT_PRETRAINED",
    "list_pretrained",
    "load_model",
    "pretrained_path",
    "read_card",
    "write_card",
]

CARD_MEMBER = "emorec/card.json"
CARD_FORMAT = "emorec-card/1"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The name of the bundled default model, as :func:`list_pretrained` lists it.
DEFAULT_PRETRAINED = "fer2013_vgg_m"


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the model card of a ``.keras`` file, without importing TensorFlow.

    Parameters
    ----------
    path : str or path-like
        A ``.keras`` file written by emorec (or a pretrained model's name from
        :func:`list_pretrained`).

    Returns
    -------
    dict
        The card: ``labels``, ``input_shape``, ``color_mode``, ``architecture``,
        ``parameters``, ``emorec_version``, ``training``, ``metrics`` and more.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a ``.keras`` archive, or carries no emorec card.

    Examples
    --------
    >>> from emorec.models import read_card
    >>> read_card("missing.keras")
    Traceback (most recent call last):
    ...
    FileNotFoundError: missing.keras: no such model file
    """
    file = _resolve(path)
    try:
        with zipfile.ZipFile(file) as zf:
            try:
                raw = zf.read(CARD_MEMBER)
            except KeyError:
                raise ValueError(
                    f"{file}: a Keras file without an emorec model card ({CARD_MEMBER}); "
                    "add one with emorec.models.write_card(path, labels=[...])"
                ) from None
    except zipfile.BadZipFile:
        raise ValueError(f"{file}: not a .keras model file (not a zip archive)") from None
    card: dict[str, Any] = json.loads(raw)
    return card


def write_card(path: str | os.PathLike[str], card: dict[str, Any]) -> None:
    """Put (or replace) the model card inside a ``.keras`` file, atomically.

    Raises
    ------
    ValueError
        If the card has no ``labels`` or the file is not a zip.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec import build_model, read_card
    >>> from emorec.models import write_card
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> build_model("mini_xception", num_classes=2).save(path)
    >>> write_card(path, {"labels": ["yes", "no"], "metrics": {"val": {"accuracy": 0.9}}})
    >>> read_card(path)["labels"]
    ['yes', 'no']
    """
    file = Path(path)
    if not card.get("labels"):
        raise ValueError("a model card needs 'labels' (the class names in output order)")
    card = {"format": CARD_FORMAT, "emorec_version": __version__, **card}
    fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".keras.partial")
    os.close(fd)
    try:
        with zipfile.ZipFile(file) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():
                if info.filename != CARD_MEMBER:
                    dst.writestr(info, src.read(info))
            dst.writestr(CARD_MEMBER, json.dumps(card, indent=2, sort_keys=False))
        shutil.copymode(file, tmp)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def list_pretrained() -> list[str]:
    """Names of the trained models bundled with emorec (what ``EmotionClassifier.load`` takes).

    Examples
    --------
    >>> from emorec.models import list_pretrained
    >>> isinstance(list_pretrained(), list)
    True
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.keras"))


def pretrained_path(name: str = DEFAULT_PRETRAINED) -> Path:
    """The file of a bundled pretrained model.

    Raises
    ------
    KeyError
        If no bundled model has that name.

    Examples
    --------
    >>> from emorec.models import pretrained_path
    >>> pretrained_path().name
    'fer2013_vgg_m.keras'
    """
    file = WEIGHTS_DIR / f"{name}.keras"
    if not file.is_file():
        have = ", ".join(list_pretrained()) or "none"
        raise KeyError(f"no pretrained model named {name!r}; bundled: {have}")
    return file


def _resolve(path: str | os.PathLike[str]) -> Path:
    file = Path(path)
    if not file.exists() and isinstance(path, str) and path in list_pretrained():
        return pretrained_path(path)
    if not file.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    return file


def load_model(path: str | os.PathLike[str], *, compile: bool = False) -> Any:
    """Load a ``.keras`` model file with Keras ``safe_mode=True``.

    Model plugins (the ``emorec.models`` entry points) are imported first, so architectures
    with custom layers from installed packages load too.

    Parameters
    ----------
    path : str or path-like
        A ``.keras`` file, or a name from :func:`list_pretrained`.
    compile : bool
        Restore the training configuration too (default False: for inference).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If Keras refuses the file, for example a ``Lambda`` layer under ``safe_mode`` or an
        unknown custom layer; the message says what to do.

    Examples
    --------
    >>> from emorec.models import load_model
    >>> load_model("fer2013_vgg_m").output_shape
    (None, 7)
    """
    from .registry import load_entry_points

    file = _resolve(path)
    load_entry_points()
    import keras

    try:
        return keras.saving.load_model(file, compile=compile, safe_mode=True)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if "Lambda" in text or "safe_mode" in text:
            raise ValueError(
                f"{file}: refused to load: the model contains a Lambda layer, whose code Keras "
                "will not run from a file in safe mode. Replace the Lambda with a layer class "
                "registered with keras.saving.register_keras_serializable, or, if you trust "
                "the file, load it yourself with keras.saving.load_model(path, safe_mode=False)"
            ) from exc
        if "Could not locate" in text or "Unknown" in text:
            raise ValueError(
                f"{file}: refused to load: it uses a custom layer or function that is not "
                f"registered ({text.splitlines()[0][:200]}). Import the package that defines "
                "it (registered with keras.saving.register_keras_serializable) before loading"
            ) from exc
        raise ValueError(f"{file}: not a loadable Keras model ({text.splitlines()[0]})") from exc
