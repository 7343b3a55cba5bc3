"""The Apache Beam classes of :mod:`emorec.beam` (``pip install "emorec[beam]"``): the model
handler that ``RunInference`` runs, and the ``DoFn`` that decodes files and finds their faces.

Their base classes are Beam's, so they are defined when first asked for
(:func:`beam_classes`, through :mod:`emorec.beam`'s attributes), once Beam is imported:
``import emorec`` and ``import emorec.beam`` never import Beam. They live, and pickle, as
``emorec.beam.EmotionModelHandler`` and ``emorec.beam.PrepareImages``.

Examples
--------
>>> from emorec.beam_transforms import ERRORS
>>> ERRORS
'errors'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .engine_stages import (
    ClassifierSettings,
    classify_rows,
    dead_letter,
    prepare_file,
    require_engine,
)

if TYPE_CHECKING:
    from .classifier import EmotionClassifier
    from .faces import FaceDetector
    from .pipeline import PreparedImage

__all__ = ["ERRORS", "beam_classes"]

#: The tag of ``PrepareImages``'s dead-letter output.
ERRORS = "errors"

#: Where the classes live (and how they pickle).
HOME = "emorec.beam"


@functools.cache
def beam_classes() -> dict[str, type]:
    """Import Beam and define ``EmotionModelHandler`` and ``PrepareImages`` (once).

    Raises
    ------
    emorec._optional.MissingDependencyError
        Without Apache Beam, naming the extra to install.
    """
    beam = require_engine("apache_beam", "emorec.beam")
    base = require_engine("apache_beam.ml.inference.base", "emorec.beam")
    shared = require_engine("apache_beam.utils.shared", "emorec.beam")
    model_handler: Any = base.ModelHandler
    do_fn: Any = beam.DoFn

    class EmotionModelHandler(model_handler):
        """A Beam ``ModelHandler`` that classifies the faces of prepared images.

        ``RunInference`` with this handler takes :class:`~emorec.pipeline.PreparedImage`
        records and gives, for each, its rows (:func:`emorec.results.result_rows`: one a
        face). :class:`PrepareImages` gives ``(source, record)`` pairs: wrapped in Beam's
        ``KeyedModelHandler``, the handler gives ``(source, rows)``.

        Parameters
        ----------
        model : str, optional
            A bundled model's name, or a model file every worker can read (default: the bundled
            default model).
        detector : str or FaceDetector
            The face detector (:class:`PrepareImages` uses it; a registered name, or a picklable
            object).
        min_batch_size, max_batch_size : int
            Images classified together (Beam's ``BatchElements`` sizes).
        **options
            Further arguments of :meth:`emorec.EmotionClassifier.load` (``tta``, ``margin``,
            ``max_pixels``...).

        Notes
        -----
        :meth:`load_model` builds the classifier once per worker process: the handler's
        ``apache_beam.utils.shared.Shared`` handle gives :class:`PrepareImages` the same
        classifier (its detector and input size) on that worker.

        Examples
        --------
        >>> import numpy as np
        >>> from emorec.beam import EmotionModelHandler
        >>> handler = EmotionModelHandler(max_batch_size=16)
        >>> clf = handler.load_model()
        >>> faces = [clf.prepare(np.zeros((48, 48), np.uint8))]
        >>> [rows[0]["face"] for rows in handler.run_inference(faces, clf)]
        [1]
        """

        def __init__(
            self,
            model: str | None = None,
            *,
            detector: str | FaceDetector = "default",
            min_batch_size: int = 1,
            max_batch_size: int = 32,
            **options: Any,
        ) -> None:
            if not 1 <= min_batch_size <= max_batch_size:
                raise ValueError(
                    f"min_batch_size={min_batch_size!r}, max_batch_size={max_batch_size!r}; "
                    "expected 1 <= min_batch_size <= max_batch_size"
                )
            super().__init__(min_batch_size=min_batch_size, max_batch_size=max_batch_size)
            #: What each worker builds its classifier from.
            self.settings = ClassifierSettings.of(model, detector, **options)
            self._batch = {"min_batch_size": min_batch_size, "max_batch_size": max_batch_size}
            self._classifier = shared.Shared()

        def load_model(self) -> EmotionClassifier:
            """The worker's classifier, built on the first call in its process."""
            return self._classifier.acquire(self.settings.load)

        def run_inference(
            self,
            batch: Sequence[PreparedImage],
            model: EmotionClassifier,
            inference_args: dict[str, Any] | None = None,
        ) -> Iterable[list[dict[str, Any]]]:
            """Classify a batch of prepared images in one model call: each one's rows."""
            return classify_rows(model, batch)

        def batch_elements_kwargs(self) -> Mapping[str, Any]:
            """Beam's ``BatchElements`` sizes: ``min_batch_size`` and ``max_batch_size``."""
            return dict(self._batch)

        def get_metrics_namespace(self) -> str:
            """Beam's metrics of the handler go under ``emorec``."""
            return "emorec"

    class PrepareImages(do_fn):
        """A ``DoFn`` from Beam's ``ReadableFile`` (``fileio.ReadMatches``) to ``(source,
        PreparedImage)``: the file read, decoded, its faces found and cut to the model's input.

        A file that cannot be read or decoded goes to the ``"errors"`` output
        (:data:`ERRORS`) as ``{"source": path, "error": message}`` instead of failing the job.
        """

        def __init__(
            self, handler: EmotionModelHandler, detect_faces: bool | Literal["auto"] = "auto"
        ) -> None:
            super().__init__()
            self.handler = handler
            self.detect_faces = detect_faces
            self._clf: EmotionClassifier | None = None
            self._images = beam.metrics.Metrics.counter("emorec", "images")
            self._errors = beam.metrics.Metrics.counter("emorec", "unreadable")

        def setup(self) -> None:
            """Take the worker's classifier (:meth:`EmotionModelHandler.load_model`)."""
            self._clf = self.handler.load_model()

        def process(self, readable: Any) -> Iterator[Any]:
            """Read, decode and detect one file."""
            path = str(readable.metadata.path)
            try:
                data = readable.read()
            except (OSError, ValueError) as exc:  # a file gone or unreadable since it was matched
                self._errors.inc()
                yield beam.pvalue.TaggedOutput(ERRORS, dead_letter(path, f"{path}: {exc}"))
                return
            assert self._clf is not None  # setup() ran
            prepared = prepare_file(self._clf, path, data, detect_faces=self.detect_faces)
            if prepared.error is not None:
                self._errors.inc()
                yield beam.pvalue.TaggedOutput(ERRORS, dead_letter(path, prepared.error))
                return
            self._images.inc()
            yield path, prepared

    classes: dict[str, type] = {}
    for cls in (EmotionModelHandler, PrepareImages):
        cls.__module__, cls.__qualname__ = HOME, cls.__name__
        classes[cls.__name__] = cls
    return classes
