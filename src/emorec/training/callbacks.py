"""Every callback emorec adds to Keras ``fit``, and the Trainer's default list.

The defaults are stock Keras callbacks (:func:`default_callbacks`). emorec writes a callback only
where Keras has none, and each is a named class here:

- :class:`AverageWeights` (in the default list when the optimizer keeps an exponential moving
  average of the weights, ``Trainer(ema=...)``): validation, the epoch-end callbacks after it
  (ModelCheckpoint) and the saved model see the averaged weights, training the raw ones.
- :class:`RestoreBestSoFar` (added by :meth:`emorec.Trainer.fit` when it resumes a run, after
  the list, because it must run after the others' ``on_train_begin``): gives ModelCheckpoint,
  EarlyStopping and ReduceLROnPlateau back the "best so far" they had before the interruption
  (Keras' ``BackupAndRestore`` restores the model, the optimizer and the epoch, not the other
  callbacks), so a resumed run ends as an uninterrupted one would.

Only public Keras API is used: the monitor logic (which direction is better, ``min_delta``) is
written out here (:func:`monitor_mode`, :func:`restore_callback_state`), and the averaged weights
come from the optimizer's public ``finalize_variable_values``.

Importing this module imports Keras; ``import emorec`` does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

__all__ = [
    "AverageWeights",
    "RestoreBestSoFar",
    "default_callbacks",
    "monitor_mode",
    "restore_callback_state",
]

#: Names whose larger values are better (what ``mode="auto"`` means for a monitor).
HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1")


def monitor_mode(monitor: str, mode: str = "auto") -> str:
    """``"max"`` or ``"min"``: which direction of ``monitor`` is an improvement.

    ``mode`` ``"max"`` or ``"min"`` is returned as it is; ``"auto"`` is ``"max"`` for accuracy,
    AUC, precision, recall and F1 metrics and ``"min"`` for the others (losses).

    Raises
    ------
    ValueError
        If ``mode`` is none of ``"auto"``, ``"min"``, ``"max"``.

    Examples
    --------
    >>> from emorec.training.callbacks import monitor_mode
    >>> monitor_mode("val_accuracy"), monitor_mode("val_loss"), monitor_mode("loss", "max")
    ('max', 'min', 'max')
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode={mode!r} for monitor {monitor!r}; expected 'auto', 'min' or 'max'")
    name = monitor.lower()
    return "max" if any(part in name for part in HIGHER_IS_BETTER) else "min"


def default_callbacks(
    output_dir: str | Path,
    *,
    monitor: str = "val_accuracy",
    plateau: bool = True,
    early_stopping_patience: int | None = 10,
    plateau_patience: int = 3,
    plateau_factor: float = 0.5,
    min_learning_rate: float = 1e-5,
    average_weights: bool = False,
) -> list[keras.callbacks.Callback]:
    """The default callback list of a :class:`~emorec.Trainer`, in the order they must run.

    ``ReduceLROnPlateau`` (when ``plateau``, i.e. the ``"plateau"`` schedule; first, so that
    the backup holds the reduced rate), ``BackupAndRestore`` (``output_dir/backup``: resume
    after an interruption), :class:`AverageWeights` (when ``average_weights``: after the backup,
    which must hold the raw weights, before the checkpoint, which saves the average),
    ``ModelCheckpoint`` (the best model by ``monitor`` into ``output_dir/best.keras``),
    ``EarlyStopping`` (unless ``early_stopping_patience`` is None), ``CSVLogger``
    (``output_dir/history.csv``) and ``TerminateOnNaN``.

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training import default_callbacks
    >>> for callback in default_callbacks(tempfile.mkdtemp(), average_weights=True):
    ...     print(type(callback).__name__)
    ReduceLROnPlateau
    BackupAndRestore
    AverageWeights
    ModelCheckpoint
    EarlyStopping
    CSVLogger
    TerminateOnNaN
    """
    out = Path(output_dir)
    mode = monitor_mode(monitor)
    loss_monitor = "val_loss" if monitor.startswith("val_") else "loss"
    callbacks: list[keras.callbacks.Callback] = []
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
    callbacks.append(keras.callbacks.BackupAndRestore(str(out / "backup")))
    if average_weights:
        callbacks.append(AverageWeights())
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
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    return callbacks


class AverageWeights(keras.callbacks.Callback):
    """Validate, checkpoint and save the optimizer's moving average of the weights (EMA).

    For an optimizer made with ``use_ema=True`` (``Trainer(ema=0.999)``). Keras' optimizer
    keeps the average; this callback puts it in the model for validation (``on_test_begin``)
    and from the end of each epoch (so the epoch-end callbacks after it, ModelCheckpoint for
    one, see it) until the next epoch begins, when the raw weights go back for training. After
    the last epoch, or an early stop, the model keeps the average, as Keras' ``fit`` leaves it.

    Place it after ``BackupAndRestore`` (the backup must hold the raw weights, so that a
    resumed run trains on from them) and before ``ModelCheckpoint``; :func:`default_callbacks`
    does. It holds a host copy of the raw trainable weights while the average is in the model.
    With an optimizer without ``use_ema`` it does nothing. Unlike Keras' ``SwapEMAWeights`` it
    never writes into the optimizer's average.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from emorec.training.callbacks import AverageWeights
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), "mse")
    >>> x, y = np.ones((8, 2)), np.zeros((8, 1))
    >>> _ = model.fit(x, y, epochs=2, callbacks=[AverageWeights()], verbose=0)
    """

    def __init__(self) -> None:
        super().__init__()
        self._raw: list[np.ndarray] | None = None

    @property
    def holds_average(self) -> bool:
        """Whether the model holds the averaged weights now (and this callback the raw ones)."""
        return self._raw is not None

    def _uses_ema(self) -> bool:
        optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
        return bool(getattr(optimizer, "use_ema", False))

    def _put_average(self) -> None:
        if self._raw is not None or not self._uses_ema():
            return
        variables = self.model.trainable_variables
        self._raw = [keras.ops.convert_to_numpy(v) for v in variables]
        self.model.optimizer.finalize_variable_values(variables)

    def _put_raw(self) -> None:
        if self._raw is None:
            return
        for variable, value in zip(self.model.trainable_variables, self._raw):
            variable.assign(value)
        self._raw = None

    def on_train_begin(self, logs: Any = None) -> None:
        self._raw = None

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._put_raw()

    def on_test_begin(self, logs: Any = None) -> None:
        self._put_average()

    def on_test_end(self, logs: Any = None) -> None:
        self._put_raw()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._put_average()

    def on_train_end(self, logs: Any = None) -> None:
        self._raw = None  # the model keeps the average


class RestoreBestSoFar(keras.callbacks.Callback):
    """On ``on_train_begin``, give ``callbacks`` the best-so-far of the epochs in ``history``.

    It must come after ``callbacks`` in the list Keras runs (their own ``on_train_begin``
    resets them); :meth:`emorec.Trainer.fit` appends one after :attr:`Trainer.callbacks` when it
    resumes a run, with the run's history so far. See :func:`restore_callback_state`.

    Examples
    --------
    >>> import keras
    >>> from emorec.training.callbacks import RestoreBestSoFar
    >>> stop = keras.callbacks.EarlyStopping(monitor="loss", patience=5)
    >>> restore = RestoreBestSoFar([stop], {"loss": [1.0, 0.8, 0.9]})
    >>> restore.on_train_begin()
    >>> stop.best, stop.wait
    (0.8, 1)
    """

    def __init__(
        self,
        callbacks: Sequence[keras.callbacks.Callback],
        history: Mapping[str, Sequence[float]],
    ) -> None:
        super().__init__()
        self.callbacks = callbacks
        self.history = history

    def on_train_begin(self, logs: Any = None) -> None:
        if self.history:
            restore_callback_state(self.callbacks, self.history)


def restore_callback_state(
    callbacks: Sequence[keras.callbacks.Callback], history: Mapping[str, Sequence[float]]
) -> None:
    """Give best-tracking callbacks the state they had after the epochs in ``history``.

    Replays each callback's monitor over ``history`` (``{metric: value per epoch}``, the run's
    ``history.csv``) with its ``mode`` and ``min_delta`` and sets ``best`` and ``wait`` (and
    the cooldown of ReduceLROnPlateau) of Keras' ``ModelCheckpoint``, ``EarlyStopping`` and
    ``ReduceLROnPlateau`` (and subclasses). Other callbacks, and monitors ``history`` lacks,
    are left alone.

    Examples
    --------
    >>> import keras
    >>> from emorec.training import restore_callback_state
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max")
    >>> restore_callback_state([stop], {"val_accuracy": [0.5, 0.7, 0.6, 0.65]})
    >>> stop.best, stop.wait
    (0.7, 2)
    """
    kinds = (
        keras.callbacks.ModelCheckpoint,
        keras.callbacks.EarlyStopping,
        keras.callbacks.ReduceLROnPlateau,
    )
    rates = np.asarray(history.get("learning_rate", []), dtype=float)
    for cb in callbacks:
        if not isinstance(cb, kinds):
            continue
        values = np.asarray(history.get(cb.monitor, []), dtype=float)
        seen = [i for i in range(len(values)) if not np.isnan(values[i])]
        if not seen:
            continue
        higher = monitor_mode(cb.monitor, getattr(cb, "mode", "auto")) == "max"
        delta = abs(float(getattr(cb, "min_delta", 0.0) or 0.0))
        plateau = isinstance(cb, keras.callbacks.ReduceLROnPlateau)
        best, wait, cooldown = float(values[seen[0]]), 0, 0
        for i in seen[1:]:
            value = float(values[i])
            if plateau and cooldown > 0:
                cooldown -= 1
                wait = 0
            better = value - delta > best if higher else value + delta < best
            if better:
                best, wait = value, 0
            elif not (plateau and cooldown > 0):
                wait += 1
                # ReduceLROnPlateau lowers the rate here unless it is at min_lr already
                if plateau and wait >= cb.patience and _could_reduce(cb, rates, i):
                    cooldown, wait = int(cb.cooldown), 0
        cb.best = best
        if hasattr(cb, "wait"):
            cb.wait = wait
        if plateau:
            cb.cooldown_counter = cooldown


def _could_reduce(cb: keras.callbacks.ReduceLROnPlateau, rates: np.ndarray, epoch: int) -> bool:
    """Whether the rate of ``epoch`` (from the history, when logged) was above ``min_lr``."""
    if epoch >= len(rates) or np.isnan(rates[epoch]):
        return True
    return bool(rates[epoch] > np.float32(cb.min_lr))
