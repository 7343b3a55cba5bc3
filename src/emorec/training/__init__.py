"""Training: :class:`Trainer` (Keras ``fit`` with good defaults, resume and reporting).

- :mod:`~emorec.training.trainer`: the :class:`Trainer` (checks, build, ``init_from``, compile,
  fit);
- :mod:`~emorec.training.settings`: :class:`TrainerSettings`, the Trainer's settings as one
  validated record (what ``config.json`` records, the ``emorec train`` defaults);
- :mod:`~emorec.training.distill`: knowledge distillation (``teacher=``, ``distill=``): the
  teachers, and their probabilities mixed into the training targets;
- :mod:`~emorec.training.callbacks`: every callback emorec adds, and the default list
  (imported on first use: it imports Keras);
- :mod:`~emorec.training.run_folder`: the run's files (config, history, cards, curves);
- :mod:`~emorec.training.machine`: the one-line machine description runs record;
- :mod:`~emorec.training.distributed`: training across processes (Keras's data parallelism on
  the JAX backend): joining the run, each process's share of the data, the writer process.
- :mod:`~emorec.training.launch`: who a process is in such a run (Keras's environment variables
  or ``emorec train --coordinator --num-processes --process-id``).
"""

from __future__ import annotations

from typing import Any

from .run_folder import TrainingDiverged
from .settings import TrainerSettings
from .trainer import Trainer

__all__ = [
    "AverageWeights",
    "RestoreBestSoFar",
    "RunBackup",
    "Trainer",
    "TrainerSettings",
    "TrainingDiverged",
    "default_callbacks",
    "restore_callback_state",
]

_FROM_CALLBACKS = (
    "AverageWeights",
    "RestoreBestSoFar",
    "RunBackup",
    "default_callbacks",
    "restore_callback_state",
)


def __getattr__(name: str) -> Any:
    # The callbacks subclass keras.callbacks.Callback, so their module imports Keras; load it
    # when one is asked for, so that ``import emorec`` stays free of TensorFlow.
    if name in _FROM_CALLBACKS:
        from . import callbacks

        return getattr(callbacks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
