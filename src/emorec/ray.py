"""Score a collection of images on Ray Data (``pip install "emorec[ray]"``).

:class:`EmotionPredictor` is the library's two public stages (:mod:`emorec.pipeline`) as the
callable class that ``Dataset.map_batches`` runs on a pool of actors: each actor builds its
classifier once, then decodes a batch of files' bytes, finds their faces
(:meth:`emorec.EmotionClassifier.prepare`) and classifies them in one model call
(:meth:`emorec.EmotionClassifier.classify`), giving their rows
(:func:`emorec.results.result_rows`: one a face, the columns of ``emorec predict --output``).
:func:`predict_images` reads files (``ray.data.read_binary_files``), or takes a Dataset of
image bytes of yours, and gives the Dataset of those rows.

Importing this module does not import Ray (``emorec.ray`` is this module; ``ray`` is Ray's
own, imported when a function needs it).

Examples
--------
>>> import io
>>> import numpy as np
>>> from PIL import Image
>>> from emorec.ray import EmotionPredictor
>>> data = io.BytesIO()
>>> Image.new("L", (48, 48), 128).save(data, "PNG")
>>> predict = EmotionPredictor()  # what each actor builds
>>> batch = {"bytes": np.array([data.getvalue(), b"?"], object), "path": np.array(["a.png", "b"])}
>>> table = predict(batch)  # a pyarrow Table, a row a face
>>> table.column("source").to_pylist(), table.column("error").is_null().to_pylist()
(['a.png', 'b'], [True, False])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .engine_stages import (
    ClassifierSettings,
    arrow_schema,
    classify_rows,
    prepare_file,
    require_engine,
)

if TYPE_CHECKING:
    from .faces import FaceDetector

__all__ = ["EmotionPredictor", "predict_images"]

log = logging.getLogger("emorec")


class EmotionPredictor:
    """A callable class for ``Dataset.map_batches``: a batch of image files' bytes in, a
    ``pyarrow.Table`` of their rows out (one a face; a file without a face gives one row
    without a box, a file that cannot be read one row with its ``error``).

    Parameters
    ----------
    model, detector, **options
        As :meth:`emorec.EmotionClassifier.load` takes them (each actor builds its
        classifier once, in its constructor); a model file must be readable by every actor.
    bytes_column, path_column : str
        The batch's columns of encoded images and of their names (``read_binary_files(...,
        include_paths=True)`` gives ``"bytes"`` and ``"path"``).
    detect_faces : {"auto", True, False}
        As :meth:`emorec.EmotionClassifier.predict` takes it.

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> from emorec.ray import EmotionPredictor
    >>> files = ray.data.read_binary_files("photos/", include_paths=True)  # doctest: +SKIP
    >>> rows = files.map_batches(  # doctest: +SKIP
    ...     EmotionPredictor, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=2)
    ... )
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        detector: str | FaceDetector = "default",
        bytes_column: str = "bytes",
        path_column: str = "path",
        detect_faces: bool | Literal["auto"] = "auto",
        **options: Any,
    ) -> None:
        self.clf = ClassifierSettings.of(model, detector, **options).load()
        self.bytes_column = bytes_column
        self.path_column = path_column
        self.detect_faces = detect_faces
        self.schema = arrow_schema(self.clf.labels)

    def __call__(self, batch: Mapping[str, Sequence[Any]]) -> Any:
        """The rows of one batch (``batch_format="numpy"``: a dict of columns)."""
        for column in (self.bytes_column, self.path_column):
            if column not in batch:
                raise KeyError(
                    f"the batch has no column {column!r} (it has {sorted(batch)}); read files "
                    "with include_paths=True, or name your columns with bytes_column= and "
                    "path_column="
                )
        prepared = [
            prepare_file(self.clf, str(path), data, i, detect_faces=self.detect_faces)
            for i, (path, data) in enumerate(zip(batch[self.path_column], batch[self.bytes_column]))
        ]
        rows = [row for rows in classify_rows(self.clf, prepared) for row in rows]
        pa = require_engine("pyarrow", "emorec.ray")
        return pa.Table.from_pylist(rows, schema=self.schema)


def predict_images(
    paths_or_dataset: Any,
    *,
    model: str | os.PathLike[str] | None = None,
    detector: str | FaceDetector = "default",
    concurrency: int = 1,
    batch_size: int = 32,
    num_cpus: float = 1.0,
    bytes_column: str = "bytes",
    path_column: str = "path",
    detect_faces: bool | Literal["auto"] = "auto",
    **options: Any,
) -> Any:
    """A Ray Dataset of the rows of images' faces (lazy, as Ray Datasets are).

    Parameters
    ----------
    paths_or_dataset : str, list of str, or ray.data.Dataset
        Files or folders, as ``ray.data.read_binary_files`` reads them (local, ``s3://``,
        ``gs://``...; only files with an image suffix, :data:`emorec.images.IMAGE_EXTENSIONS`),
        or a Dataset of yours with the encoded images in ``bytes_column`` and their names in
        ``path_column``.
    model, detector, detect_faces, **options
        As :class:`EmotionPredictor` takes them.
    concurrency : int
        Actors that predict (each builds its classifier once): Ray Data's
        ``ActorPoolStrategy(size=concurrency)``.
    batch_size : int
        Images an actor classifies together.
    num_cpus : float
        CPUs Ray reserves for each actor. Leave Ray one CPU besides the actors' for its tasks
        that read the files: ``concurrency * num_cpus`` at most the cluster's CPUs less one
        (with 2 CPUs and 2 actors, ``num_cpus=0.5``), or the reading waits for ever.

    Returns
    -------
    ray.data.Dataset
        A row a face, in no particular order, the columns of
        :func:`emorec.results.columns`; ``.filter(expr="error is not null")`` finds the
        files that could not be read.

    Raises
    ------
    ValueError
        For ``concurrency`` or ``batch_size`` below 1.

    Examples
    --------
    >>> from emorec.ray import predict_images
    >>> rows = predict_images("photos/", concurrency=2)  # doctest: +SKIP
    >>> rows.write_parquet("out/emotions")  # doctest: +SKIP
    """
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency={concurrency!r}; expected an int of at least 1 (actors)")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected an int of at least 1")
    data = require_engine("ray.data", "emorec.ray.predict_images")
    from .images import IMAGE_EXTENSIONS

    _check_cpus(require_engine("ray", "emorec.ray.predict_images"), concurrency * num_cpus)

    if isinstance(paths_or_dataset, data.Dataset):
        dataset = paths_or_dataset
    else:
        paths = (
            [os.fspath(p) for p in paths_or_dataset]
            if isinstance(paths_or_dataset, list | tuple)
            else os.fspath(paths_or_dataset)
        )
        dataset = data.read_binary_files(
            paths,
            include_paths=True,
            file_extensions=sorted(e.lstrip(".") for e in IMAGE_EXTENSIONS),
        )
    return dataset.map_batches(
        EmotionPredictor,
        fn_constructor_args=(None if model is None else os.fspath(model),),
        fn_constructor_kwargs={
            "detector": detector,
            "bytes_column": bytes_column,
            "path_column": path_column,
            "detect_faces": detect_faces,
            **options,
        },
        batch_size=batch_size,
        batch_format="numpy",
        compute=data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )


def _check_cpus(ray: Any, actors_cpus: float) -> None:
    """Warn when the actors would take every CPU of a running Ray (its tasks that read the
    files then wait for ever); an autoscaling cluster may add some, so it is not an error."""
    if not ray.is_initialized():
        return
    total = float(ray.cluster_resources().get("CPU", 0))
    if total - actors_cpus < 1:
        log.warning(
            "emorec.ray: the actors reserve %.3g of Ray's %.3g CPUs, leaving less than one to "
            "read the files; pass a smaller num_cpus (concurrency * num_cpus <= %.3g)",
            actors_cpus,
            total,
            total - 1,
        )
