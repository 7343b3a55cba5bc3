"""The Trainer's default callbacks: an ordinary list of stock Keras callbacks.

Nothing here re-implements what Keras has. :func:`default_callbacks` builds the list; the one
piece of emorec logic is :func:`restore_callback_state`, which, when a run resumes, gives
ModelCheckpoint, EarlyStopping and ReduceLROnPlateau back the "best so far" they had before the
interruption (Keras' BackupAndRestore restores the model, the optimizer and the epoch, not the
other callbacks), so a resumed run ends as an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["default_callbacks", "restore_callback_state"]


def default_callbacks(
    output_dir: str | Path,
    *,
    monitor: str = "val_accuracy",
    plateau: bool = True,
    early_stopping_patience: int | None = 10,
    plateau_patience: int = 3,
    plateau_factor: float = 0.5,
    min_learning_rate: float = 1e-5,
) -> list[Any]:
    """The default callback list of a :class:`~emorec.Trainer`.

    ``ReduceLROnPlateau`` (when ``plateau``, i.e. the ``"plateau"`` schedule), ``ModelCheckpoint``
    (the best model by ``monitor`` into ``output_dir/best.keras``), ``EarlyStopping`` (unless
    ``early_stopping_patience`` is None), ``BackupAndRestore`` (``output_dir/backup``: resume
    after an interruption), ``CSVLogger`` (``output_dir/history.csv``) and ``TerminateOnNaN``.

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training import default_callbacks
    >>> for callback in default_callbacks(tempfile.mkdtemp()):
    ...     print(type(callback).__name__)
    ReduceLROnPlateau
    ModelCheckpoint
    EarlyStopping
    BackupAndRestore
    CSVLogger
    TerminateOnNaN
    """
    import keras

    out = Path(output_dir)
    mode = "max" if "acc" in monitor else "min"
    loss_monitor = "val_loss" if monitor.startswith("val_") else "loss"
    callbacks: list[Any] = []
    if plateau:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=loss_monitor,
                factor=plateau_factor,
                patience=plateau_patience,
                min_lr=min_learning_rate,
                verbose=1,
            )
        )
    callbacks.append(
        keras.callbacks.ModelCheckpoint(
            str(out / "best.keras"), monitor=monitor, mode=mode, save_best_only=True
        )
    )
    if early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=early_stopping_patience, verbose=1
            )
        )
    callbacks += [
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    return callbacks


def restore_callback_state(
    callbacks: Sequence[Any], history: Mapping[str, Sequence[float]]
) -> None:
    """Give best-tracking callbacks the state they had after the epochs in ``history``.

    The Trainer calls this when a run resumes from a backup, after the callbacks' own
    ``on_train_begin`` (which resets them); ``history`` is the run's ``history.csv`` so far.
    It sets ``best`` (and ``wait``) of Keras' ``ModelCheckpoint``, ``EarlyStopping`` and
    ``ReduceLROnPlateau`` (and subclasses); other callbacks are left alone.

    Examples
    --------
    >>> import keras
    >>> from emorec.training import restore_callback_state
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max")
    >>> restore_callback_state([stop], {"val_accuracy": [0.5, 0.7, 0.6, 0.65]})
    >>> stop.best, stop.wait
    (0.7, 2)
    """
    import keras

    kinds = (
        keras.callbacks.ModelCheckpoint,
        keras.callbacks.EarlyStopping,
        keras.callbacks.ReduceLROnPlateau,
    )
    for cb in callbacks:
        if not isinstance(cb, kinds):
            continue
        values = np.asarray(history.get(cb.monitor, []), dtype=float)
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        if cb.monitor_op is None:
            cb._set_monitor_op()
        best, since = float(values[0]), 0
        for v in values[1:]:
            if bool(cb._is_improvement(float(v), best)):
                best, since = float(v), 0
            else:
                since += 1
        cb.best = best
        if hasattr(cb, "wait"):
            cb.wait = since
