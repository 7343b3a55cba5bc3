"""The two stages of a prediction as the workers of a batch engine run them (Apache Beam,
Ray Data): files' bytes in, the rows of :mod:`emorec.results` out.

A worker builds its classifier once from :class:`ClassifierSettings` (small and picklable: the
settings travel to the workers, not the model), decodes and finds the faces of each file with
:func:`prepare_file` (the classifier's :meth:`~emorec.EmotionClassifier.prepare`) and
classifies a batch of prepared images with :func:`classify_rows` (its
:meth:`~emorec.EmotionClassifier.classify`, then :func:`emorec.results.result_rows`): the rows
``emorec predict --output`` writes and :meth:`~emorec.EmotionClassifier.predict_iter` gives,
one a face. Nothing here imports an engine; :mod:`emorec.beam` and :mod:`emorec.ray` do.

Examples
--------
>>> import io
>>> from PIL import Image
>>> from emorec.engine_stages import ClassifierSettings, classify_rows, prepare_file
>>> clf = ClassifierSettings().load()
>>> data = io.BytesIO()
>>> Image.new("L", (48, 48), 128).save(data, "PNG")
>>> prepared = [prepare_file(clf, "crop.png", data.getvalue()), prepare_file(clf, "x.jpg", b"")]
>>> [(p.source, p.error is None) for p in prepared]
[('crop.png', True), ('x.jpg', False)]
>>> rows = classify_rows(clf, prepared)
>>> rows[0][0]["source"], rows[0][0]["face"], rows[1][0]["error"] is not None
('crop.png', 1, True)
"""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from ._optional import MissingDependencyError
from .results import arrow_schema, result_rows

if TYPE_CHECKING:
    from .classifier import EmotionClassifier
    from .faces import FaceDetector
    from .pipeline import PreparedImage

__all__ = [
    "ClassifierSettings",
    "arrow_schema",
    "classify_rows",
    "dead_letter",
    "prepare_file",
    "require_engine",
]

#: What each engine is called in messages, and the extra of emorec that installs it.
ENGINES = {"apache_beam": ("Apache Beam", "beam"), "ray": ("Ray", "ray")}


def require_engine(module: str, feature: str) -> ModuleType:
    """Import an engine's module (``"apache_beam"``, ``"ray.data"``...), or raise a one-line
    :class:`~emorec._optional.MissingDependencyError` naming the extra that installs it.

    Examples
    --------
    >>> from emorec.engine_stages import require_engine
    >>> try:
    ...     require_engine("ray.data", "emorec.ray")
    ... except ImportError as error:
    ...     print(error)  # doctest: +SKIP
    emorec.ray needs Ray, which is not installed: pip install "emorec[ray]"
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if (error.name or "").split(".")[0] != top or top not in ENGINES:
            raise  # a broken install of the engine itself, not a missing extra
        name, extra = ENGINES[top]
        raise MissingDependencyError(
            f'{feature} needs {name}, which is not installed: pip install "emorec[{extra}]"'
        ) from error


@dataclass(frozen=True)
class ClassifierSettings:
    """What a worker builds its :class:`~emorec.EmotionClassifier` from.

    Parameters
    ----------
    model : str, optional
        A bundled model's name or a model file every worker can read (default: the bundled
        default model, inside the package).
    detector : str or FaceDetector
        The face detector (a registered name, or a picklable object with ``detect``).
    options : tuple of (name, value)
        Further arguments of :meth:`emorec.EmotionClassifier.load` (``tta``, ``margin``,
        ``max_pixels``...); :meth:`of` takes them as keywords.

    Examples
    --------
    >>> from emorec.engine_stages import ClassifierSettings
    >>> settings = ClassifierSettings.of(detector="blazeface", tta="none")
    >>> settings.options, settings.load().tta
    ((('tta', 'none'),), 'none')
    """

    model: str | None = None
    detector: str | FaceDetector = "default"
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(
        cls,
        model: str | os.PathLike[str] | None = None,
        detector: str | FaceDetector = "default",
        **options: Any,
    ) -> ClassifierSettings:
        """Settings from :meth:`emorec.EmotionClassifier.load`'s arguments."""
        return cls(
            None if model is None else os.fspath(model), detector, tuple(sorted(options.items()))
        )

    def load(self) -> EmotionClassifier:
        """Build the classifier (a worker does this once)."""
        from .classifier import EmotionClassifier

        return EmotionClassifier.load(self.model, detector=self.detector, **dict(self.options))


def prepare_file(
    clf: EmotionClassifier,
    source: str,
    data: bytes,
    index: int = 0,
    *,
    detect_faces: bool | Literal["auto"] = "auto",
) -> PreparedImage:
    """Decode one file's bytes and find its faces (the first stage), named by ``source``.

    An unreadable file gives a record with ``error`` set (naming ``source``), not an
    exception: a batch engine routes it to its dead letter or to an error row.

    Examples
    --------
    >>> from emorec.engine_stages import ClassifierSettings, prepare_file
    >>> record = prepare_file(ClassifierSettings().load(), "gs://bucket/a.jpg", b"not a JPEG")
    >>> record.source, record.error.startswith("gs://bucket/a.jpg: not a readable image")
    ('gs://bucket/a.jpg', True)
    """
    stream = io.BytesIO(bytes(data))
    stream.name = source  # errors name the file, as for a path
    prepared = clf.prepare(stream, index, detect_faces=detect_faces, skip=True)
    prepared.source = source
    return prepared


def classify_rows(
    clf: EmotionClassifier, prepared: Sequence[PreparedImage]
) -> list[list[dict[str, Any]]]:
    """Classify the faces of prepared images in one batched call (the second stage): each
    image's rows (:func:`emorec.results.result_rows`: one a face, or one row with no face
    or with the error).

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.engine_stages import ClassifierSettings, classify_rows
    >>> clf = ClassifierSettings().load()
    >>> rows = classify_rows(clf, [clf.prepare(np.zeros((48, 48), np.uint8))])
    >>> [(row["source"], row["face"], row["label"] in clf.labels) for row in rows[0]]
    [('<ndarray #0>', 1, True)]
    """
    results = clf.classify(prepared)
    return [result_rows(p.source, r, clf.labels) for p, r in zip(prepared, results)]


def dead_letter(source: str, error: str) -> dict[str, Any]:
    """The dead-letter record of a file that could not be read: its path and the error.

    Examples
    --------
    >>> from emorec.engine_stages import dead_letter
    >>> dead_letter("photos/x.jpg", "photos/x.jpg: not a readable image")["source"]
    'photos/x.jpg'
    """
    return {"source": source, "error": error}
