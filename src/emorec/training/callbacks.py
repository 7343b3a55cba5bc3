"""Every callback emorec adds to Keras ``fit``, and the Trainer's default list.

The defaults are stock Keras callbacks (:func:`default_callbacks`). emorec writes a callback only
where Keras has none, and each is a named class here:

- :class:`AverageWeights` (in the default list when the optimizer keeps an exponential moving
  average of the weights, ``Trainer(ema=...)``): validation, the epoch-end callbacks after it
  (ModelCheckpoint) and the saved model see the averaged weights, training the raw ones.
- :class:`RunBackup` (in the default list, last): the training state at the end of every
  epoch, written atomically and kept twice, and the commit point of the epoch: the best
  model ModelCheckpoint wrote for that epoch becomes ``best.keras`` only once the backup of
  the epoch is on disk, and a resumed run rolls ``history.csv`` back to the backup. Keras'
  ``BackupAndRestore`` writes its file in place (a kill mid-write leaves a torn file that
  every later run fails on) and commits nothing else; :meth:`emorec.Trainer.fit` restores a
  :class:`RunBackup` itself and passes ``initial_epoch`` to ``fit``.
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

import json
import logging
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from .._files import atomic_file, check_free_space, remove_partials
from .run_folder import RunFolder

__all__ = [
    "AverageWeights",
    "RestoreBestSoFar",
    "RunBackup",
    "default_callbacks",
    "monitor_mode",
    "restore_callback_state",
    "weights_finite",
]

#: Names whose larger values are better (what ``mode="auto"`` means for a monitor).
HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1")

logger = logging.getLogger("emorec")


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

    ``ReduceLROnPlateau`` (when ``plateau``, i.e. the ``"plateau"`` schedule), then
    :class:`AverageWeights` (when ``average_weights``: the epoch-end callbacks after it see
    the average), ``ModelCheckpoint`` (the best model by ``monitor``, written for each
    improving epoch into ``output_dir/backup/best-NNNN.keras``), ``EarlyStopping`` (unless
    ``early_stopping_patience`` is None), ``CSVLogger`` (``output_dir/history.csv``),
    ``TerminateOnNaN``, and last :class:`RunBackup` (``output_dir/backup``), which commits the
    epoch: it writes the training state and only then makes the epoch's best model
    ``output_dir/best.keras``. A kill at any moment leaves a state a rerun resumes from.

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training import default_callbacks
    >>> for callback in default_callbacks(tempfile.mkdtemp(), average_weights=True):
    ...     print(type(callback).__name__)
    ReduceLROnPlateau
    AverageWeights
    ModelCheckpoint
    EarlyStopping
    CSVLogger
    TerminateOnNaN
    RunBackup
    """
    run = RunFolder(output_dir)
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
    average = AverageWeights() if average_weights else None
    if average is not None:
        callbacks.append(average)
    backup = RunBackup(run.backup_dir, best_model=run.best_model, average=average)
    callbacks.append(
        keras.callbacks.ModelCheckpoint(
            str(backup.candidate_pattern), monitor=monitor, mode=mode, save_best_only=True
        )
    )
    if early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=early_stopping_patience, verbose=1
            )
        )
    callbacks += [
        keras.callbacks.CSVLogger(str(run.history_file), append=True),
        keras.callbacks.TerminateOnNaN(),
        backup,
    ]
    return callbacks


class AverageWeights(keras.callbacks.Callback):
    """Validate, checkpoint and save the optimizer's moving average of the weights (EMA).

    For an optimizer made with ``use_ema=True`` (``Trainer(ema=0.999)``). Keras' optimizer
    keeps the average; this callback puts it in the model for validation (``on_test_begin``)
    and from the end of each epoch (so the epoch-end callbacks after it, ModelCheckpoint for
    one, see it) until the next epoch begins, when the raw weights go back for training. After
    the last epoch, or an early stop, the model keeps the average, as Keras' ``fit`` leaves it.

    Place it before ``ModelCheckpoint``; :func:`default_callbacks` does. A :class:`RunBackup`
    given it (``average=``) backs up the raw weights, so that a resumed run trains on from
    them. It holds a host copy of the raw trainable weights while the average is in the model.
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

    def raw_weights(self) -> list[np.ndarray] | None:
        """The raw trainable weights while the model holds the average, else None."""
        return self._raw

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


class RunBackup(keras.callbacks.Callback):
    """Back up the training state at the end of every epoch, atomically, and commit the epoch.

    The state (weights and optimizer variables, Keras ``save_weights``) of the run after ``N``
    epochs is ``backup_dir/epoch-NNNN.weights.h5``, written under a temporary name, flushed and
    renamed (a kill mid-write leaves the previous state); the ``keep`` newest states stay, so a
    state that is damaged later (a full disk, a bad copy) falls back to the one before. The
    epoch count is in the file's name, so weights and epoch cannot disagree.

    The backup is the commit point of an epoch: list it last. When ``best_model`` is given,
    the model ModelCheckpoint wrote for the epoch (:attr:`candidate_pattern`,
    ``best-NNNN.keras``) becomes ``best_model`` (a rename) only after the epoch's state is on
    disk, and :meth:`restore` finishes or undoes that step for a run killed in between. An
    epoch whose loss or weights are not finite is never committed: the run stops
    (:attr:`diverged` holds the epoch) and the last good state and best model stay.

    :meth:`emorec.Trainer.fit` calls :meth:`restore` before ``fit`` and passes the epochs it
    returns as ``initial_epoch``; the folder is removed by
    :meth:`emorec.training.run_folder.RunFolder.finish` once the final model is saved.

    Parameters
    ----------
    backup_dir : str or path-like
        The folder of the states (created when needed).
    best_model : str or path-like, optional
        Where the committed best model goes (``best.keras``).
    average : AverageWeights, optional
        The run's :class:`AverageWeights`, whose raw weights are backed up while the model
        holds the average.
    keep : int
        States kept (at least 1; default 2).

    Examples
    --------
    >>> import keras, numpy as np, tempfile
    >>> from emorec.training.callbacks import RunBackup
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = RunBackup(tempfile.mkdtemp())
    >>> _ = model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=3, callbacks=[backup], verbose=0)
    >>> [path.name for _, path in backup.states()]
    ['epoch-0003.weights.h5', 'epoch-0002.weights.h5']
    >>> backup.restore(model)
    3
    """

    _STATE = re.compile(r"epoch-(\d+)\.weights\.h5\Z")
    _CANDIDATE = re.compile(r"best-(\d+)\.keras\Z")

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        *,
        best_model: str | os.PathLike[str] | None = None,
        average: AverageWeights | None = None,
        keep: int = 2,
    ) -> None:
        super().__init__()
        if keep < 1:
            raise ValueError(f"keep={keep}; keep at least one backup")
        self.backup_dir = Path(backup_dir)
        self.best_model = Path(best_model) if best_model is not None else None
        self.average = average
        self.keep = int(keep)
        #: The epoch (0-based) at which the loss or the weights stopped being finite, if any.
        self.diverged: int | None = None

    @property
    def candidate_pattern(self) -> Path:
        """ModelCheckpoint's ``filepath``: ``best-{epoch:04d}.keras`` in the backup folder."""
        return self.backup_dir / "best-{epoch:04d}.keras"

    def state_file(self, epochs: int) -> Path:
        """The state after ``epochs`` epochs."""
        return self.backup_dir / f"epoch-{epochs:04d}.weights.h5"

    def candidate(self, epochs: int) -> Path:
        """The best model ModelCheckpoint wrote at the end of epoch ``epochs`` (1-based)."""
        return self.backup_dir / f"best-{epochs:04d}.keras"

    def _numbered(self, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
        if not self.backup_dir.is_dir():
            return []
        found = []
        for path in self.backup_dir.iterdir():
            match = pattern.match(path.name)
            if match and path.is_file() and not path.is_symlink():
                found.append((int(match.group(1)), path))
        return sorted(found, reverse=True)

    def states(self) -> list[tuple[int, Path]]:
        """The backed-up states, newest first: ``[(epochs, path), ...]``."""
        return self._numbered(self._STATE)

    # ------------------------------------------------------------------ restoring
    def restore(self, model: keras.Model | None = None) -> int:
        """Load the newest state that loads, and return its number of epochs (0: none).

        A state that fails to load (damaged, or from another model) is reported with a
        warning and the one before it is tried; the model is reset to its weights before the
        attempt, so that a failed load leaves nothing behind. A legacy Keras
        ``BackupAndRestore`` folder (``latest.weights.h5`` and ``training_metadata.json``) is
        read too. Leftovers of writes killed half-way are removed, and the best model of the
        restored epochs is settled (:attr:`best_model`).
        """
        model = model if model is not None else self.model
        if self.backup_dir.is_dir():
            remove_partials(self.backup_dir)
        optimizer = model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables = list(model.variables) + (list(optimizer.variables) if optimizer else [])
        start = [keras.ops.convert_to_numpy(v) for v in variables]
        tried = []
        for epochs, path in [*self.states(), *self._legacy()]:
            try:
                model.load_weights(path)
                if not weights_finite(model):
                    raise ValueError("its weights are not finite")
            except Exception as exc:  # h5py, Keras and OS errors alike: the file is unusable
                tried.append(path.name)
                for variable, value in zip(variables, start):
                    variable.assign(value)
                warnings.warn(
                    f"{path}: a damaged training backup ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:200] if str(exc) else 'unreadable'}); "
                    "trying the one before it",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            if tried:
                logger.warning("resumed from %s after %s", path.name, ", ".join(tried))
            self._settle(epochs)
            return epochs
        if tried:
            warnings.warn(
                f"{self.backup_dir}: no training backup could be loaded ({', '.join(tried)}); "
                "the run starts again from its first epoch",
                RuntimeWarning,
                stacklevel=2,
            )
        self._settle(0)
        return 0

    def _legacy(self) -> list[tuple[int, Path]]:
        weights = self.backup_dir / "latest.weights.h5"
        meta = self.backup_dir / "training_metadata.json"
        if not (weights.is_file() and meta.is_file()):
            return []
        try:
            return [(int(json.loads(meta.read_text())["epoch"]), weights)]
        except (ValueError, KeyError, TypeError, OSError):
            return []

    def _settle(self, epochs: int) -> None:
        """Finish the promotion of the best model of the committed epochs, drop the rest."""
        candidates = self._numbered(self._CANDIDATE)
        done = [(n, p) for n, p in candidates if n <= epochs]
        if done and self.best_model is not None:
            os.replace(done[0][1], self.best_model)
            done = done[1:]
        for _, path in [*done, *((n, p) for n, p in candidates if n > epochs)]:
            path.unlink(missing_ok=True)
        for n, path in self.states():
            if n > epochs:  # states past the restored one (it was damaged) are not resumed
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the states and candidates (a new run)."""
        for _, path in [*self.states(), *self._numbered(self._CANDIDATE)]:
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ backing up
    def on_train_begin(self, logs: Any = None) -> None:
        self.diverged = None

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        epochs = epoch + 1
        loss = (logs or {}).get("loss")
        if (loss is not None and not np.isfinite(loss)) or not weights_finite(self.model):
            self.diverged = epoch
            self.model.stop_training = True
            self.candidate(epochs).unlink(missing_ok=True)
            return
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        check_free_space(
            self.state_file(epochs),
            _state_bytes(self.model),
            "run the same command again: the run resumes from its last backed-up epoch",
        )
        with atomic_file(self.state_file(epochs)) as tmp:
            self._save_raw(tmp)
        candidate = self.candidate(epochs)
        if self.best_model is not None and candidate.is_file():
            with open(candidate, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(candidate, self.best_model)
        for _, path in self.states()[self.keep :]:
            path.unlink(missing_ok=True)

    def _save_raw(self, path: Path) -> None:
        raw = self.average.raw_weights() if self.average is not None else None
        if raw is None:
            self.model.save_weights(path)
            return
        variables = self.model.trainable_variables
        averaged = [keras.ops.convert_to_numpy(v) for v in variables]
        for variable, value in zip(variables, raw):
            variable.assign(value)
        try:
            self.model.save_weights(path)
        finally:
            for variable, value in zip(variables, averaged):
                variable.assign(value)


def weights_finite(model: keras.Model) -> bool:
    """Whether every weight of ``model`` is finite."""
    return all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)


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


def _state_bytes(model: Any) -> int:
    """About what ``save_weights`` writes: the model's and its optimizer's variables."""
    variables = list(model.weights)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        variables += list(getattr(optimizer, "variables", []))
    total = 0
    for v in variables:
        size = int(np.prod(v.shape)) if len(v.shape) else 1
        total += size * np.dtype(getattr(v, "dtype", "float32")).itemsize
    return total
