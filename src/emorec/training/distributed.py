"""Training across processes: Keras 3's distribution API on the JAX backend.

One training run, several processes (on one machine or several), each with its own share of the
training images; the gradients are averaged every step, so every process ends with the same
weights. It is Keras's own data parallelism (:class:`keras.distribution.DataParallel`) on the
JAX backend, started by :func:`initialize` (which calls ``keras.distribution.initialize``, a
wrapper of ``jax.distributed.initialize``; on CPUs the collectives go through gloo). The
TensorFlow backend has no working equivalent with Keras 3 (``MultiWorkerMirroredStrategy``
is broken with it), so :func:`initialize` refuses any backend but JAX: set
``KERAS_BACKEND=jax`` before anything imports Keras (``emorec train --distributed`` does).

A launcher starts the processes and tells each who it is, through Keras's environment variables
or the equivalent arguments (:class:`~emorec.training.launch.LaunchSettings`, also importable
from here); with none of them, JAX finds out from the cluster it runs in (Slurm, Open MPI).
What the :class:`~emorec.Trainer` does with several
processes (:func:`process_count` above 1):

- ``batch_size`` stays the global batch: each process feeds ``batch_size / N`` images a step
  (:func:`per_process_batch`), which Keras joins into one global batch
  (``jax.make_array_from_process_local_data``); the validation split is fed whole to every
  process (repeated, the mean metrics are unchanged);
- every process draws the same shuffled order of the training split (the same seed,
  :func:`shared_seed`) and takes every N-th batch of it from its own index
  (:func:`shard_batches`): the shares are disjoint and, each epoch, cover the split but for
  fewer than ``batch_size`` images;
- every process runs the same code in step (saving a model under the distribution is itself
  a collective operation), but only process 0 (:func:`is_writer`) writes into the run folder:
  the others write into a scratch copy of it (:func:`scratch_copy`), taken before process 0
  starts, so a resumed run resumes from the same epoch everywhere, and deleted when ``fit``
  ends (:func:`discard_scratch`).

Examples
--------
>>> from emorec.training.distributed import LaunchSettings, is_writer
>>> env = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234",
...        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "1"}
>>> launch = LaunchSettings.from_environment(env)
>>> launch.coordinator, launch.num_processes, launch.process_id, is_writer(launch.process_id)
('10.0.0.1:1234', 2, 1, False)
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .launch import LaunchSettings, requested

__all__ = [
    "LaunchSettings",
    "barrier",
    "check_backend",
    "check_same",
    "discard_scratch",
    "initialize",
    "is_writer",
    "on_this_process",
    "per_process_batch",
    "process_count",
    "process_index",
    "requested",
    "scratch_copy",
    "shard_batches",
    "shared_seed",
    "shutdown",
    "steps_per_epoch",
    "undistributed",
]

_SCRATCH_PREFIX = "emorec-process"
T = TypeVar("T")


def _backend() -> str | None:
    """The Keras backend, without importing Keras (None while it is not imported)."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def check_backend(backend: str | None = None) -> None:
    """Refuse a backend other than JAX (the message says how to choose JAX).

    ``backend`` defaults to Keras's (this imports Keras).

    Raises
    ------
    ValueError
        If the backend is not ``"jax"``.

    Examples
    --------
    >>> from emorec.training.distributed import check_backend
    >>> check_backend("jax")
    >>> check_backend("tensorflow")
    Traceback (most recent call last):
    ...
    ValueError: training across processes needs Keras's JAX backend, but Keras runs on ...
    """
    if backend is None:
        import keras

        backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            f"training across processes needs Keras's JAX backend, but Keras runs on "
            f"{backend!r}; set KERAS_BACKEND=jax before anything imports Keras (emorec train "
            "--distributed does it), and install JAX: pip install 'emorec[distributed]'"
        )


def initialize(launch: LaunchSettings | None = None) -> None:
    """Join the run: ``keras.distribution.initialize`` and a data-parallel distribution.

    Call it in every process before the :class:`~emorec.Trainer` is built. ``launch`` defaults
    to the environment's settings (:meth:`LaunchSettings.from_environment`); what is None in it
    JAX detects from the cluster (Slurm, Open MPI, Kubernetes). Calling it again in the same
    process does nothing.

    Raises
    ------
    ValueError
        If Keras's backend is not JAX.

    Examples
    --------
    In every process, before the Trainer is built (here with the launcher's variables):

    >>> from emorec.training import distributed
    >>> distributed.initialize()  # doctest: +SKIP
    >>> distributed.process_count(), distributed.is_writer()  # doctest: +SKIP
    (2, True)
    """
    check_backend()
    import jax
    import keras

    launch = LaunchSettings.from_environment() if launch is None else launch
    if not jax.distributed.is_initialized():
        keras.distribution.initialize(launch.coordinator, launch.num_processes, launch.process_id)
    # the Trainer shards the data itself (shard_batches): Keras shards only tf.data pipelines
    keras.distribution.set_distribution(keras.distribution.DataParallel(auto_shard_dataset=False))


def shutdown() -> None:
    """Leave the run (every process, at its end: without it the exit can wait on a barrier).

    Nothing when this process joined no run.

    Examples
    --------
    >>> from emorec.training import distributed
    >>> distributed.shutdown()
    """
    if _backend() == "jax":
        import jax

        if jax.distributed.is_initialized():
            jax.distributed.shutdown()


def process_count() -> int:
    """How many processes train together (1 unless :func:`initialize` joined a run).

    Examples
    --------
    >>> from emorec.training.distributed import process_count
    >>> process_count()
    1
    """
    if _backend() != "jax":
        return 1
    import jax

    return int(jax.process_count())


def process_index() -> int:
    """This process's index in the run (0 alone).

    Examples
    --------
    >>> from emorec.training.distributed import process_index
    >>> process_index()
    0
    """
    if _backend() != "jax":
        return 0
    import jax

    return int(jax.process_index())


def is_writer(index: int | None = None) -> bool:
    """Whether process ``index`` (default: this one) writes the run's files: process 0.

    Examples
    --------
    >>> from emorec.training.distributed import is_writer
    >>> is_writer(0), is_writer(3), is_writer()  # alone, this process is the writer
    (True, False, True)
    """
    return (process_index() if index is None else index) == 0


def per_process_batch(batch_size: int, count: int | None = None) -> int:
    """Images each process feeds per step for a global ``batch_size``.

    Examples
    --------
    >>> from emorec.training.distributed import per_process_batch
    >>> per_process_batch(64, 4)
    16
    >>> per_process_batch(10, 4)
    Traceback (most recent call last):
    ...
    ValueError: batch_size=10 with 4 processes; ... use a multiple of 4, such as 12
    """
    count = process_count() if count is None else count
    if batch_size % count:
        raise ValueError(
            f"batch_size={batch_size} with {count} processes; the global batch is shared out "
            f"evenly, so use a multiple of {count}, such as {math.ceil(batch_size / count) * count}"
        )
    return batch_size // count


def steps_per_epoch(images: int, batch_size: int, count: int | None = None) -> int:
    """Training steps per epoch over ``images`` with a global ``batch_size``.

    Alone, every image (the last batch may be smaller); with N processes, the full local
    batches shared out evenly (:func:`shard_batches`).

    Examples
    --------
    >>> from emorec.training.distributed import steps_per_epoch
    >>> steps_per_epoch(100, 16, 1), steps_per_epoch(100, 16, 2)
    (7, 6)
    """
    count = process_count() if count is None else count
    if count == 1:
        return -(-images // batch_size)
    return (images // per_process_batch(batch_size, count)) // count


def shard_batches(
    feed: Any, images: int, batch_size: int, index: int | None = None, count: int | None = None
) -> Any:
    """This process's share of a feed of local batches (a ``keras.utils.PyDataset``).

    ``feed`` holds ``images`` images in batches of ``batch_size`` (the per-process batch), in
    the same order in every process; process ``index`` takes batches ``index``,
    ``index + count``, ... of its full batches, the same number in every process (Keras joins
    one batch of each process into a step). Alone, ``feed`` itself.

    Raises
    ------
    ValueError
        If there are fewer full batches than processes.

    Examples
    --------
    >>> from emorec.training.distributed import shard_batches
    >>> feed = [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    >>> share = shard_batches(feed, 9, 2, index=1, count=2)
    >>> len(share), [share[i] for i in range(len(share))]
    (2, [[2, 3], [6, 7]])
    """
    index = process_index() if index is None else index
    count = process_count() if count is None else count
    if count == 1:
        return feed
    steps = (images // batch_size) // count
    if steps == 0:
        raise ValueError(
            f"{images} training images make {images // batch_size} full batches of {batch_size} "
            f"per process, fewer than the {count} processes; use more images or a smaller "
            "batch_size"
        )
    return _sharded_class()(feed, index, count, steps)


@functools.cache
def _sharded_class() -> type:
    import keras

    class ShardedBatches(keras.utils.PyDataset):
        """Every ``count``-th batch of ``feed`` from ``index``; ``steps`` of them."""

        def __init__(self, feed: Any, index: int, count: int, steps: int) -> None:
            super().__init__()
            self.feed, self.index, self.count, self.steps = feed, index, count, steps

        def __len__(self) -> int:
            return self.steps

        def __getitem__(self, step: int) -> Any:
            if not 0 <= step < self.steps:
                raise IndexError(f"batch {step} of {self.steps}")
            with undistributed():  # the feed's augmentation layers are this process's own
                return self.feed[self.index + step * self.count]

        def on_epoch_begin(self) -> None:
            hook = getattr(self.feed, "on_epoch_begin", None)
            if hook is not None:
                hook()

        def on_epoch_end(self) -> None:  # the next epoch's order, the same in every process
            hook = getattr(self.feed, "on_epoch_end", None)
            if hook is not None:
                hook()

    return ShardedBatches


@contextlib.contextmanager
def undistributed() -> Iterator[None]:
    """Run the block on this process alone: no Keras distribution while it runs.

    Models built in it have their weights on this process only, and run without the others
    (the Trainer's data feed, the calibration of a saved model). Alone, it changes nothing.

    Examples
    --------
    >>> from emorec.training.distributed import undistributed
    >>> with undistributed():
    ...     pass
    """
    if process_count() == 1:
        yield
        return
    import keras

    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def on_this_process(work: Callable[[Any], T]) -> Callable[[Any], T]:
    """``work(model)`` run on a copy of ``model`` local to this process (:func:`undistributed`).

    Under the distribution a model's outputs are spread over the processes and cannot be read
    by one; the copy's are this process's own. Alone, ``work`` itself.

    Examples
    --------
    >>> from emorec.training.distributed import on_this_process
    >>> on_this_process(len) is len  # alone
    True
    """
    if process_count() == 1:
        return work

    def local(model: Any) -> T:
        import keras

        weights = model.get_weights()  # replicated: every process holds them whole
        with undistributed():
            copy = keras.models.clone_model(model)
            copy.set_weights(weights)
            return work(copy)

    return local


def barrier(name: str) -> None:
    """Wait until every process gets here (nothing alone); ``name`` is the same in all.

    Examples
    --------
    >>> from emorec.training.distributed import barrier
    >>> barrier("run folder copied")
    """
    if process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def check_same(value: int, what: str) -> None:
    """Raise if the processes disagree on an integer ``value`` (nothing alone).

    Raises
    ------
    ValueError
        Naming each process's value: a run folder that the processes do not all see (on
        several machines, ``output_dir`` must be on a disk they share) is the usual cause.

    Examples
    --------
    >>> from emorec.training.distributed import check_same
    >>> check_same(3, "the epoch the run resumes from")  # alone: nothing to compare
    """
    if process_count() == 1:
        return
    import numpy as np
    from jax.experimental import multihost_utils

    values = np.asarray(multihost_utils.process_allgather(np.int64(value))).ravel().tolist()
    if len(set(values)) > 1:
        seen = ", ".join(f"process {i}: {v}" for i, v in enumerate(values))
        raise ValueError(
            f"the processes disagree on {what} ({seen}); every process must see process 0's "
            "run folder: on several machines, put --output on a disk they all mount"
        )


def shared_seed(seed: int | None) -> int | None:
    """``seed``, or with several processes and no seed, one drawn by process 0 for all.

    Every process must shuffle the training split in the same order for their shares to be
    disjoint.

    Examples
    --------
    >>> from emorec.training.distributed import shared_seed
    >>> shared_seed(7), shared_seed(None)  # alone, None stays None
    (7, None)
    """
    if seed is not None or process_count() == 1:
        return seed
    import numpy as np
    from jax.experimental import multihost_utils

    mine = np.int64(np.random.default_rng().integers(0, 2**31 - 1))
    return int(multihost_utils.broadcast_one_to_all(mine))


def scratch_copy(output_dir: str | os.PathLike[str], index: int | None = None) -> Path:
    """The run folder process ``index`` (default: this one) writes into.

    Process 0's is ``output_dir``. Another process's is a new temporary folder holding a copy of
    ``output_dir`` as it is now (empty for a new run), so that it opens and resumes the run as
    process 0 does while writing nothing into it; :func:`discard_scratch` deletes it.

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training.distributed import discard_scratch, scratch_copy
    >>> run = tempfile.mkdtemp()
    >>> scratch_copy(run, 0) == Path(run)
    True
    >>> copy = scratch_copy(run, 1)
    >>> copy.is_dir(), copy.parent.name.startswith("emorec-process1-")
    (True, True)
    >>> discard_scratch(copy); copy.exists()
    False
    """
    index = process_index() if index is None else index
    if index == 0:
        return Path(output_dir)
    scratch = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{index}-"))
    source = Path(output_dir)
    if source.is_dir():
        shutil.copytree(source, scratch / "run")
    return scratch / "run"


def discard_scratch(path: str | os.PathLike[str]) -> None:
    """Delete a scratch copy made by :func:`scratch_copy` (nothing for any other folder).

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training.distributed import discard_scratch
    >>> kept = tempfile.mkdtemp()
    >>> discard_scratch(kept); Path(kept).exists()  # not a scratch copy
    True
    """
    parent = Path(path).parent
    if parent.name.startswith(_SCRATCH_PREFIX) and parent.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(parent, ignore_errors=True)
