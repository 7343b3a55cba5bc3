"""The files of one training run: :class:`RunFolder`.

A run's folder holds:

- ``config.json``: every setting (:meth:`emorec.Trainer.config`), the status (``running`` /
  ``finished``), times, the command and the machine;
- ``history.csv``: one row per epoch (Keras' ``CSVLogger``), read by :func:`read_history`;
- ``backup/`` while the run is unfinished (Keras' ``BackupAndRestore``);
- ``best.keras`` (Keras' ``ModelCheckpoint``) and ``final.keras``, each with its
  :class:`~emorec.models.ModelCard`;
- ``training_curves.png`` (:func:`emorec.plots.plot_history`).

:meth:`RunFolder.open` is the state machine: an empty folder starts a new run; an unfinished
run with the same settings resumes; a finished run, or an unfinished one with other settings,
is refused unless ``overwrite`` (the error names the settings that differ). The files emorec
writes itself (config.json, final.keras, the cards, the curves) are written atomically: a
temporary name in the same folder, flushed to disk, renamed over the target
(:func:`atomic_file`). ``history.csv``, ``best.keras`` and ``backup/`` are Keras' to write.

``overwrite=True`` deletes the :data:`RUN_FILES` and ``backup/`` by name; deleting only what
it can prove emorec wrote is left to a later change (issue 13).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._files import atomic_file
from ..models.card import ModelCard

if TYPE_CHECKING:
    import keras

__all__ = [
    "RUN_FILES",
    "RunFolder",
    "atomic_file",
    "join_history",
    "now",
    "read_history",
    "validation_metrics",
]

#: Files a run writes into its output folder (the ones ``overwrite=True`` removes, with backup/).
RUN_FILES = ("config.json", "history.csv", "best.keras", "final.keras", "training_curves.png")

History = dict[str, list[float]]


def now() -> str:
    """The current UTC time, ISO 8601 to the second (the times in ``config.json``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_history(path: str | os.PathLike[str]) -> History:
    """Read a Keras ``CSVLogger`` file into ``{column: values}``, one value per epoch.

    Rows repeated for an epoch (a run killed after logging an epoch and before backing it up
    runs that epoch again) keep the last one. Empty cells become NaN.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file has no ``epoch`` column or a cell is not a number.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec.training.run_folder import read_history
    >>> path = os.path.join(tempfile.mkdtemp(), "history.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("epoch,loss\\n0,1.5\\n1,1.2\\n1,1.1\\n")
    >>> read_history(path)["loss"]
    [1.5, 1.1]
    """
    by_epoch: dict[int, dict[str, str]] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is not None and "epoch" not in reader.fieldnames:
            raise ValueError(
                f"{path}: columns {reader.fieldnames} have no 'epoch'; expected a Keras "
                "CSVLogger file"
            )
        for row in reader:
            by_epoch[int(row["epoch"])] = row
    columns: History = {}
    for epoch in sorted(by_epoch):
        for key, value in by_epoch[epoch].items():
            try:
                number = float(value) if value not in ("", None) else np.nan
            except ValueError:
                raise ValueError(
                    f"{path}: epoch {epoch}, column {key!r} is {value!r}; expected a number"
                ) from None
            columns.setdefault(key, []).append(number)
    return columns


def join_history(
    previous: Mapping[str, Sequence[float]],
    new: Mapping[str, Sequence[float]],
    epochs: Sequence[int],
) -> History:
    """The whole run's history: ``previous`` (the ``history.csv`` rows from before a resume)
    up to the first of ``epochs``, then ``new`` (``keras.callbacks.History.history`` of this
    ``fit``, whose epoch numbers are ``History.epoch``), with an ``epoch`` column.

    Examples
    --------
    >>> from emorec.training.run_folder import join_history
    >>> join_history({"epoch": [0, 1], "loss": [3.0, 2.0]}, {"loss": [1.5, 1.0]}, [1, 2])
    {'epoch': [0, 1, 2], 'loss': [3.0, 1.5, 1.0]}
    """
    done = [int(e) for e in previous.get("epoch", [])]
    start = int(epochs[0]) if len(epochs) else len(done)
    keep = [i for i, e in enumerate(done) if e < start]
    joined: History = {"epoch": [*(done[i] for i in keep), *(int(e) for e in epochs)]}
    for key in [*previous, *(k for k in new if k not in previous)]:
        if key == "epoch":
            continue
        before = previous.get(key, [])
        old = [float(before[i]) if i < len(before) else np.nan for i in keep]
        after = list(new.get(key, []))
        joined[key] = old + [float(v) for v in after] + [np.nan] * (len(epochs) - len(after))
    return joined


def validation_metrics(history: Mapping[str, Sequence[float]], epoch: int) -> dict[str, Any]:
    """``{"accuracy", "loss", "epoch"}`` on the validation data at (0-based) ``epoch`` of
    ``history`` (a card's ``metrics[val_split]``; ``epoch`` is 1-based there).

    Examples
    --------
    >>> from emorec.training.run_folder import validation_metrics
    >>> validation_metrics({"val_accuracy": [0.5, 0.7], "val_loss": [1.0, 0.8]}, 1)
    {'accuracy': 0.7, 'loss': 0.8, 'epoch': 2}
    """
    losses = history.get("val_loss", [])
    return {
        "accuracy": float(history["val_accuracy"][epoch]),
        "loss": float(losses[epoch]) if epoch < len(losses) else None,
        "epoch": int(epoch) + 1,
    }


class RunFolder:
    """The files of one training run in ``path`` (see the module's description).

    Parameters
    ----------
    path : str or path-like
        The run's folder (made on :meth:`open` if missing).

    Examples
    --------
    >>> import tempfile
    >>> from emorec.training.run_folder import RunFolder
    >>> run = RunFolder(tempfile.mkdtemp())
    >>> run.open({"epochs": 2})
    'new'
    >>> run.write_config(status="running", config={"epochs": 2})
    >>> run.open({"epochs": 2}), run.record["status"]
    ('resume', 'running')
    >>> run.open({"epochs": 3})
    Traceback (most recent call last):
    ...
    FileExistsError: ... holds an unfinished run with other settings (epochs: 2 there, 3 now); ...
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        #: What ``config.json`` holds (as last read by :meth:`open` or written).
        self.record: dict[str, Any] = {}

    # ------------------------------------------------------------------ names
    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def history_file(self) -> Path:
        return self.path / "history.csv"

    @property
    def backup_dir(self) -> Path:
        return self.path / "backup"

    @property
    def best_model(self) -> Path:
        return self.path / "best.keras"

    @property
    def final_model(self) -> Path:
        return self.path / "final.keras"

    @property
    def curves(self) -> Path:
        return self.path / "training_curves.png"

    # ------------------------------------------------------------------ state
    def open(self, config: Mapping[str, Any], *, overwrite: bool = False) -> str:
        """Make the folder ready for a run with settings ``config``: ``"new"`` or ``"resume"``.

        A new run starts from an empty folder (the :data:`RUN_FILES` and ``backup/`` of an
        earlier run are removed when ``overwrite``). A resumed run without a backup to resume
        from (removed, or killed before its first epoch ended) starts its epochs again.

        Raises
        ------
        FileExistsError
            Unless ``overwrite``: if the folder holds a finished run, an unfinished one whose
            settings differ from ``config`` (the message names them), or run files without a
            ``config.json``.
        ValueError
            If ``config.json`` is not readable JSON and not ``overwrite``.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        self.record = {}
        if not self.config_file.exists():
            leftovers = [n for n in RUN_FILES if (self.path / n).exists()]
            if leftovers and not overwrite:
                raise FileExistsError(
                    f"{self.path} holds {', '.join(leftovers)} from another run but no "
                    "config.json; pass overwrite=True (--overwrite) or choose another folder"
                )
            self.clear()
            return "new"
        if overwrite:
            self.clear()
            return "new"
        try:
            saved = json.loads(self.config_file.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"{self.config_file}: not readable JSON ({exc}); pass overwrite=True "
                "(--overwrite) to start a new run there, or choose another folder"
            ) from None
        if saved.get("status") == "finished":
            raise FileExistsError(
                f"{self.path} holds a finished run ({saved.get('config', {}).get('model')}, "
                f"{saved.get('epochs_done')} epochs, finished {saved.get('finished')}); pass "
                "overwrite=True (--overwrite) to train again there, or choose another folder"
            )
        mine = json.loads(json.dumps(dict(config), default=str))
        theirs = saved.get("config", {})
        diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        if diff:
            details = "; ".join(f"{k}: {theirs.get(k)!r} there, {mine.get(k)!r} now" for k in diff)
            raise FileExistsError(
                f"{self.path} holds an unfinished run with other settings ({details}); "
                "run the same command to resume it, pass overwrite=True (--overwrite) to "
                "start again, or choose another folder"
            )
        if not self.backup_dir.exists():
            self.history_file.unlink(missing_ok=True)
        self.record = saved
        return "resume"

    def clear(self) -> None:
        """Remove the :data:`RUN_FILES` and ``backup/`` (what a new run replaces)."""
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        self.record = {}

    def read_history(self) -> History:
        """The epochs logged so far (:func:`read_history` of ``history.csv``; ``{}`` if none)."""
        return read_history(self.history_file) if self.history_file.exists() else {}

    # ------------------------------------------------------------------ writing
    def write_config(self, **fields: Any) -> None:
        """Add ``fields`` to ``config.json`` (atomically)."""
        self.record.update(fields)
        text = json.dumps(self.record, indent=2, default=str)
        with atomic_file(self.config_file) as tmp:
            tmp.write_text(text)

    def finish(
        self,
        model: keras.Model,
        labels: Sequence[str],
        *,
        training: Mapping[str, Any],
        history: Mapping[str, Sequence[float]],
        val_split: str | None,
        saved_as: Callable[[keras.Model], keras.Model] | None = None,
        calibrate: Callable[[keras.Model], dict[str, Any]] | None = None,
    ) -> ModelCard:
        """Save ``final.keras`` with its card, put the card of ``best.keras`` in it (if
        ModelCheckpoint wrote one) and mark the run finished in ``config.json``.

        ``training`` is the card's training record; ``history`` is the whole run's, from
        which the cards take the validation metrics: the last epoch's for ``final.keras``, the
        best validation accuracy's for ``best.keras``. ``saved_as`` (for example
        :func:`~emorec.training.precision.as_float32`) turns the trained model, and the
        ``best.keras`` ModelCheckpoint wrote, into the model to save; ``calibrate`` (for
        example :func:`emorec.calibration.calibrate` on the validation split) gives each
        saved model's card its ``calibration``. Returns the final model's card.
        """
        final_metrics: dict[str, Any] = {}
        best_metrics: dict[str, Any] = {}
        scores = list(history.get("val_accuracy", []))
        if val_split and scores and not np.all(np.isnan(scores)):
            final_metrics = {val_split: validation_metrics(history, len(scores) - 1)}
            best_metrics = {val_split: validation_metrics(history, int(np.nanargmax(scores)))}
        if saved_as is not None:
            model = saved_as(model)
        card = ModelCard.from_model(
            model,
            labels,
            training=dict(training),
            metrics=final_metrics,
            checkpoint="final",
            calibration=calibrate(model) if calibrate is not None else None,
        )
        with atomic_file(self.final_model) as tmp:
            model.save(tmp)
            card.write(tmp)
        if self.best_model.exists():
            checkpoint = converted = None
            if saved_as is not None or calibrate is not None:
                import keras

                checkpoint = keras.saving.load_model(self.best_model, compile=False)
                converted = saved_as(checkpoint) if saved_as is not None else checkpoint
            best = ModelCard.from_model(
                model,
                labels,
                training=dict(training),
                metrics=best_metrics,
                checkpoint="best",
                calibration=calibrate(converted) if calibrate is not None else None,
            )
            if converted is not None and converted is not checkpoint:
                with atomic_file(self.best_model) as tmp:
                    converted.save(tmp)
                    best.write(tmp)
            else:
                best.write(self.best_model)
        self.write_config(
            status="finished",
            finished=training.get("finished", now()),
            epochs_done=training.get("epochs_done"),
            training_time_s=training.get("training_time_s"),
        )
        return card

    def plot(self, history: Mapping[str, Sequence[float]], *, title: str | None = None) -> Path:
        """Draw ``training_curves.png`` from ``history`` (atomically)."""
        from ..plots import plot_history

        with atomic_file(self.curves) as tmp:
            plot_history(history, tmp, title=title)
        return self.curves
