"""Optional dependencies: which extra installs each, and what a feature raises when the
package it needs is not installed.

The core install predicts photos (numpy, Pillow, OpenCV and LiteRT); training, Keras models
and export need ``emorec[train]`` (TensorFlow and Keras, with matplotlib for the curves),
figures ``emorec[plots]``, Kaggle downloads ``emorec[kaggle]``, Parquet output
``emorec[tables]``, ONNX files ``emorec[onnx]``.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["EXTRAS", "MissingDependencyError", "is_keras_model", "missing_extra", "require"]

#: The extra of emorec that installs each optional top-level module.
EXTRAS = {
    "tensorflow": "train",
    "keras": "train",
    "matplotlib": "plots",
    "kagglehub": "kaggle",
    "pyarrow": "tables",
    "pandas": "tables",
    "cv2": "video",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "tf2onnx": "onnx",
    "fastapi": "serve",
    "uvicorn": "serve",
    "multipart": "serve",
    "python_multipart": "serve",
    "apache_beam": "beam",
    "ray": "ray",
}


class MissingDependencyError(ImportError):
    """A feature needs a package that is not installed; the message says what to
    ``pip install``. An :class:`ImportError`; the command line reports it in one line.

    Examples
    --------
    >>> from emorec._optional import MissingDependencyError
    >>> issubclass(MissingDependencyError, ImportError)
    True
    """


def missing_extra(error: ImportError, feature: str) -> MissingDependencyError | None:
    """The one-line error for an ``ImportError`` of an optional module (None for any other:
    a broken install of a required package is not the user's missing extra).

    Examples
    --------
    >>> from emorec._optional import missing_extra
    >>> print(missing_extra(ModuleNotFoundError("no keras", name="keras"), "training"))
    training needs Keras, which is not installed: pip install "emorec[train]"
    """
    top = (error.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    names = {
        "tensorflow": "TensorFlow",
        "keras": "Keras",
        "onnxruntime": "ONNX Runtime",
        "cv2": "OpenCV",
        "apache_beam": "Apache Beam",
        "ray": "Ray",
    }
    what = names.get(top, top)
    return MissingDependencyError(
        f'{feature} needs {what}, which is not installed: pip install "emorec[{extra}]"'
    )


def is_keras_model(model: object) -> bool:
    """Whether ``model`` is a Keras model, without importing Keras (no Keras model exists
    before ``keras`` is imported).

    Examples
    --------
    >>> from emorec._optional import is_keras_model
    >>> is_keras_model(object())
    False
    """
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def require(module: str, feature: str) -> ModuleType:
    """Import an optional module, or raise :class:`MissingDependencyError` naming the extra
    that installs it.

    Parameters
    ----------
    module : str
        The module, for example ``"keras"``.
    feature : str
        What needs it, in words, for the message (``"training"``).

    Examples
    --------
    >>> from emorec._optional import require
    >>> require("json", "reading").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        friendly = missing_extra(error, feature)
        if friendly is None or (error.name or "").split(".")[0] != module.split(".")[0]:
            raise
        raise friendly from error
