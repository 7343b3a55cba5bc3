"""Score a collection of image files on Apache Beam (``pip install "emorec[beam]"``).

Beam's own ``TFModelHandlerNumpy`` runs no face detector, so emorec supplies its own handler
on the library's two public stages (:mod:`emorec.pipeline`):

- :class:`PrepareImages`, a ``DoFn``: one file read, decoded, its faces found and cut to the
  model's input (:meth:`emorec.EmotionClassifier.prepare`); an unreadable file goes to its
  ``"errors"`` output, the dead letter, instead of failing the job;
- :class:`EmotionModelHandler`, a ``ModelHandler`` for ``RunInference``: its ``load_model``
  builds the classifier once per worker, its ``run_inference`` classifies a batch of
  prepared images in one model call (:meth:`emorec.EmotionClassifier.classify`) and gives
  their rows (:func:`emorec.results.result_rows`: one a face, the columns of ``emorec
  predict --output``), keyed by source;
- :func:`predict_images`, the transforms from a file pattern to those rows and the dead
  letter, for a pipeline of your own; :func:`predict_pipeline`, a ready pipeline that writes
  them (JSON Lines or Parquet), run by ``emorec beam-predict``.

Importing this module does not import Beam: the classes are made on first use. The runner is
Beam's choice (``--runner`` in ``pipeline_options``); locally, :data:`LOCAL_RUNNER` (Beam's
in-process Python runner) runs it, on worker processes with ``direct_running_mode=
"multi_processing"`` and ``direct_num_workers=N``.

Examples
--------
>>> from emorec.beam import LOCAL_RUNNER, output_files
>>> LOCAL_RUNNER
'FnApiRunner'
>>> output_files("out/emotions", "parquet")
('out/emotions-*.parquet', 'out/emotions-errors-*.jsonl')
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import beam_transforms
from .beam_transforms import beam_classes
from .engine_stages import ClassifierSettings, arrow_schema, require_engine

if TYPE_CHECKING:
    from .faces import FaceDetector

__all__ = [
    "ERRORS",
    "LOCAL_RUNNER",
    "EmotionModelHandler",  # noqa: F822 - made by __getattr__ on first use
    "PrepareImages",  # noqa: F822
    "output_files",
    "pipeline_options",
    "predict_images",
    "predict_pipeline",
]

#: Beam's in-process Python runner. ``DirectRunner`` first tries the Prism runner, which
#: downloads a Go binary; this one runs in this Python, on worker processes with
#: ``direct_running_mode="multi_processing"``.
LOCAL_RUNNER = "FnApiRunner"

#: The tag of :class:`PrepareImages`'s dead-letter output: ``"errors"``.
ERRORS = beam_transforms.ERRORS

Format = Literal["jsonl", "parquet"]

#: The names made on first use (Beam's subclasses).
_LAZY = ("EmotionModelHandler", "PrepareImages")


def __getattr__(name: str) -> Any:
    """``EmotionModelHandler`` and ``PrepareImages``, defined (and Beam imported) on first use."""
    if name in _LAZY:
        return beam_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def output_files(output_prefix: str, fmt: Format = "jsonl") -> tuple[str, str]:
    """The globs of what :func:`predict_pipeline` writes: the rows' shards and the dead
    letter's (``PREFIX-errors-*.jsonl``, one JSON object a file that could not be read).

    Examples
    --------
    >>> from emorec.beam import output_files
    >>> output_files("gs://bucket/out/emotions")
    ('gs://bucket/out/emotions-*.jsonl', 'gs://bucket/out/emotions-errors-*.jsonl')
    """
    _check_format(fmt)
    return f"{output_prefix}-*.{fmt}", f"{output_prefix}-errors-*.jsonl"


def _check_format(fmt: str) -> None:
    if fmt not in ("jsonl", "parquet"):
        raise ValueError(f"fmt={fmt!r}: expected 'jsonl' or 'parquet'")


def pipeline_options(
    args: Sequence[str] = (), *, runner: str | None = None, workers: int | None = None
) -> Any:
    """Beam ``PipelineOptions`` from command-line flags (``--runner=DataflowRunner
    --project=...``), with ``runner`` (default :data:`LOCAL_RUNNER` unless the flags name
    one) and, for the local runner, ``workers`` processes.

    Raises
    ------
    ValueError
        For ``workers`` below 1.

    Examples
    --------
    >>> from emorec.beam import pipeline_options
    >>> options = pipeline_options(workers=2)  # doctest: +SKIP
    >>> options.get_all_options()["direct_running_mode"]  # doctest: +SKIP
    'multi_processing'
    >>> dataflow = pipeline_options(  # doctest: +SKIP
    ...     ["--project=my-project", "--region=europe-west1", "--temp_location=gs://b/tmp"],
    ...     runner="DataflowRunner",
    ... )
    """
    options_module = require_engine("apache_beam.options.pipeline_options", "emorec.beam")
    flags = list(args)
    if runner is not None:
        flags.append(f"--runner={runner}")
    elif not any(f == "--runner" or f.startswith("--runner=") for f in flags):
        flags.append(f"--runner={LOCAL_RUNNER}")
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers={workers!r}; expected 1 or more worker processes")
        mode = "multi_processing" if workers > 1 else "in_memory"
        flags += [f"--direct_num_workers={workers}", f"--direct_running_mode={mode}"]
    return options_module.PipelineOptions(flags)


def predict_images(
    pipeline: Any,
    pattern: str,
    *,
    model: str | os.PathLike[str] | None = None,
    detector: str | FaceDetector = "default",
    batch_size: int = 32,
    detect_faces: bool | Literal["auto"] = "auto",
    **options: Any,
) -> tuple[Any, Any]:
    """Add the prediction of the files matching ``pattern`` to a Beam pipeline.

    ``fileio.MatchFiles``, then ``Reshuffle`` (so the files spread over the workers), then
    ``fileio.ReadMatches``, :class:`PrepareImages`, and ``RunInference`` with a keyed
    :class:`EmotionModelHandler`.

    Parameters
    ----------
    pipeline : apache_beam.Pipeline
        The pipeline (or a PBegin) to add to.
    pattern : str
        Files, as Beam's file systems match them (``photos/*.jpg``, ``gs://bucket/**.png``).
    model, detector, **options
        As :meth:`emorec.EmotionClassifier.load` takes them; a model file must be readable
        by every worker.
    batch_size : int
        The most images classified together.
    detect_faces : {"auto", True, False}
        As :meth:`emorec.EmotionClassifier.predict` takes it.

    Returns
    -------
    (rows, errors) : two PCollections
        Each face's row (dicts with the columns of :func:`emorec.results.columns`; a file
        without a face gives one row without a box), and the dead letter: ``{"source",
        "error"}`` for each file that could not be read.

    Examples
    --------
    >>> import apache_beam as beam  # doctest: +SKIP
    >>> from emorec.beam import predict_images
    >>> with beam.Pipeline() as p:  # doctest: +SKIP
    ...     rows, errors = predict_images(p, "photos/*.jpg")
    ...     _ = rows | beam.Filter(lambda row: row["label"] == "happy") | beam.Map(print)
    """
    beam = require_engine("apache_beam", "emorec.beam")
    base = require_engine("apache_beam.ml.inference.base", "emorec.beam")
    from apache_beam.io import fileio

    handler = beam_classes()["EmotionModelHandler"](
        None if model is None else os.fspath(model),
        detector=detector,
        max_batch_size=batch_size,
        **options,
    )
    prepared = (
        pipeline
        | "MatchFiles" >> fileio.MatchFiles(pattern)
        | "Reshuffle" >> beam.Reshuffle()
        | "ReadMatches" >> fileio.ReadMatches()
        | "DecodeAndDetect"
        >> beam.ParDo(beam_classes()["PrepareImages"](handler, detect_faces)).with_outputs(
            ERRORS, main="prepared"
        )
    )
    rows = (
        prepared.prepared
        | "RunInference" >> base.RunInference(base.KeyedModelHandler(handler))
        | "Rows" >> beam.FlatMap(lambda keyed: keyed[1])
    )
    return rows, prepared[ERRORS]


def predict_pipeline(
    pattern: str,
    output_prefix: str,
    *,
    model: str | os.PathLike[str] | None = None,
    detector: str | FaceDetector = "default",
    fmt: Format = "jsonl",
    options: Any = None,
    batch_size: int = 32,
    detect_faces: bool | Literal["auto"] = "auto",
    **classifier_options: Any,
) -> Any:
    """Run a pipeline that writes the rows of the files matching ``pattern``, and wait for it.

    Rows go to ``OUTPUT_PREFIX-SSSSS-of-NNNNN.jsonl`` (or ``.parquet``), one a face, in no
    particular order; the files that could not be read to ``OUTPUT_PREFIX-errors-SSSSS-of-
    NNNNN.jsonl`` (``{"source": path, "error": message}`` a line): see :func:`output_files`.

    Parameters
    ----------
    pattern : str
        Files, as Beam's file systems match them.
    output_prefix : str
        Where the shards go (a local path or ``gs://...``, as the runner's file systems take).
    model, detector, batch_size, detect_faces, **classifier_options
        As :func:`predict_images` takes them.
    fmt : {"jsonl", "parquet"}
        JSON Lines (as ``emorec predict --output x.jsonl`` writes) or Parquet (pyarrow).
    options : apache_beam.options.pipeline_options.PipelineOptions, optional
        The runner and its flags (default: :func:`pipeline_options`, the local runner).

    Returns
    -------
    apache_beam.runners.runner.PipelineResult
        The finished job; its metrics count ``images`` and ``unreadable`` files (namespace
        ``emorec``).

    Examples
    --------
    >>> from emorec.beam import pipeline_options, predict_pipeline
    >>> result = predict_pipeline(  # doctest: +SKIP
    ...     "photos/*.jpg", "out/emotions", options=pipeline_options(workers=2)
    ... )
    """
    _check_format(fmt)
    beam = require_engine("apache_beam", "emorec.beam")
    settings = ClassifierSettings.of(model, detector, **classifier_options)
    with beam.Pipeline(options=options if options is not None else pipeline_options()) as p:
        rows, errors = predict_images(
            p,
            pattern,
            model=model,
            detector=detector,
            batch_size=batch_size,
            detect_faces=detect_faces,
            **classifier_options,
        )
        if fmt == "parquet":
            labels = settings.load().labels  # the columns: the model's labels
            _ = rows | "WriteRows" >> beam.io.WriteToParquet(
                output_prefix, arrow_schema(labels), file_name_suffix=".parquet"
            )
        else:
            _ = (
                rows
                | "RowsToJson" >> beam.Map(json.dumps)
                | "WriteRows" >> beam.io.WriteToText(output_prefix, file_name_suffix=".jsonl")
            )
        _ = (
            errors
            | "ErrorsToJson" >> beam.Map(json.dumps)
            | "WriteErrors"
            >> beam.io.WriteToText(f"{output_prefix}-errors", file_name_suffix=".jsonl")
        )
    return p.result
