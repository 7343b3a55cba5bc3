"""The files of one training run: :class:`RunFolder`.

A run's folder holds:

- ``.emorec-run.json``: the marker that says emorec made this run folder (:data:`MARKER`);
- ``config.json``: every setting (:meth:`emorec.Trainer.config`), the status (``running``,
  ``finished`` or ``failed``), times, the command and the machine;
- ``history.csv``: one row per epoch (Keras' ``CSVLogger``), read by :func:`read_history`;
- ``backup/`` while the run is unfinished (:class:`~emorec.training.callbacks.RunBackup`):
  the last two training states, and the best model of an epoch until the epoch is committed;
- ``best.keras`` and ``final.keras``, each with its :class:`~emorec.models.ModelCard`;
- ``training_curves.png`` (:func:`emorec.plots.plot_history`).

:meth:`RunFolder.open` is the state machine: a folder without run files starts a new run; an
unfinished run with the same settings resumes; a failed run (its loss became NaN) resumes with
the same settings and starts again with others; a finished run, or an unfinished one with other
settings, is refused unless ``overwrite`` (the error names the settings that differ).

Nothing of the user's is lost. emorec deletes only what it can prove it wrote: the
:data:`RUN_FILES` and ``backup/`` of a folder that carries the marker (or the ``config.json`` of
a run of an earlier emorec). Run files in a folder without that proof are refused, with or
without ``overwrite``, and other files are never touched. Every file emorec writes is written
atomically (:func:`emorec._files.atomic_file`: a temporary name in the same folder, flushed
to disk, renamed over the target), so a kill at any moment leaves the old file or the new
one; ``history.csv`` (appended by Keras) is rolled back to the restored backup on resume
(:meth:`RunFolder.rewind`), which also drops a torn last row.
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

from .._files import atomic_file, remove_partials, write_atomic
from .._version import __version__
from ..models.card import ModelCard

if TYPE_CHECKING:
    import keras

__all__ = [
    "MARKER",
    "RUN_FILES",
    "RunFolder",
    "TrainingDiverged",
    "atomic_file",
    "join_history",
    "now",
    "read_history",
    "validation_metrics",
]

#: Files a run writes into its output folder (the ones ``overwrite=True`` removes, with backup/).
RUN_FILES = ("config.json", "history.csv", "best.keras", "final.keras", "training_curves.png")
#: The file that proves a folder is an emorec run's (what emorec may delete there).
MARKER = ".emorec-run.json"
#: The statuses ``config.json`` records.
STATUSES = ("running", "finished", "failed")


class TrainingDiverged(ValueError):
    """The loss or the weights of a training run stopped being finite (NaN or infinity).

    The run is marked ``failed`` in its ``config.json``; its last good backup and best model
    are kept and nothing is saved from the diverged weights. The usual cause is a learning
    rate that is too high: run again with a lower one.

    Examples
    --------
    >>> from emorec.training import TrainingDiverged
    >>> issubclass(TrainingDiverged, ValueError)  # the CLI reports it as one error line
    True
    """


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
    @property
    def marker(self) -> Path:
        return self.path / MARKER

    def owned(self) -> bool:
        """Whether the folder is provably an emorec run's: it has the :data:`MARKER`, or a
        ``config.json`` that is an emorec run record (runs of emorec before the marker)."""
        if self.marker.is_file():
            return True
        try:
            saved = json.loads(self.config_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        return (
            isinstance(saved, dict)
            and "emorec_version" in saved
            and saved.get("status") in STATUSES
            and isinstance(saved.get("config"), dict)
        )

    def _present(self) -> list[str]:
        names = [n for n in RUN_FILES if (self.path / n).exists()]
        return names + (["backup/"] if self.backup_dir.exists() else [])

    def open(self, config: Mapping[str, Any], *, overwrite: bool = False) -> str:
        """Make the folder ready for a run with settings ``config``: ``"new"`` or ``"resume"``.

        A new run starts from a folder without run files (the :data:`RUN_FILES` and
        ``backup/`` of an earlier emorec run there are removed when ``overwrite``, or when
        that run failed and ``config`` differs from its settings).

        Raises
        ------
        FileExistsError
            If the folder holds run files emorec cannot prove it wrote (no :data:`MARKER`),
            whatever ``overwrite`` says; unless ``overwrite``: if it holds a finished run, or
            an unfinished one whose settings differ from ``config`` (the message names them).
        ValueError
            If ``config.json`` is not readable JSON and not ``overwrite``.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        self.record = {}
        if not self.owned():
            present = self._present()
            if present:
                raise FileExistsError(
                    f"{self.path} holds {', '.join(present)}, which no emorec run wrote (it has "
                    f"no {MARKER}); emorec deletes only what it wrote: move them away or "
                    "choose another output folder"
                )
            self._start()
            return "new"
        remove_partials(self.path)
        if overwrite or not self.config_file.exists():
            self._start()
            return "new"
        try:
            saved = json.loads(self.config_file.read_text())
            if not isinstance(saved, dict):
                raise ValueError(f"a JSON {type(saved).__name__}, not an object")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(
                f"{self.config_file}: not a readable run record ({exc}); pass overwrite=True "
                "(--overwrite) to start a new run there, or choose another folder"
            ) from None
        if saved.get("status") == "finished":
            # A kill between the finish mark and the backup's removal leaves it: it is ours
            # and of no more use.
            shutil.rmtree(self.backup_dir, ignore_errors=True)
            raise FileExistsError(
                f"{self.path} holds a finished run ({saved.get('config', {}).get('model')}, "
                f"{saved.get('epochs_done')} epochs, finished {saved.get('finished')}); pass "
                "overwrite=True (--overwrite) to train again there, or choose another folder"
            )
        mine = json.loads(json.dumps(dict(config), default=str))
        theirs = saved.get("config", {})
        diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        if diff and saved.get("status") == "failed":
            self._start()
            return "new"
        if diff:
            details = "; ".join(f"{k}: {theirs.get(k)!r} there, {mine.get(k)!r} now" for k in diff)
            raise FileExistsError(
                f"{self.path} holds an unfinished run with other settings ({details}); "
                "run the same command to resume it, pass overwrite=True (--overwrite) to "
                "start again, or choose another folder"
            )
        self.record = saved
        return "resume"

    def _start(self) -> None:
        """Mark the folder as an emorec run's and remove an earlier run's files."""
        write_atomic(self.marker, json.dumps({"emorec_version": __version__, "created": now()}))
        self.clear()

    def clear(self) -> None:
        """Remove the :data:`RUN_FILES` and ``backup/`` of the emorec run in the folder.

        Raises
        ------
        FileExistsError
            If the folder is not provably an emorec run's (:meth:`owned`).
        """
        if not self.owned():
            raise FileExistsError(f"{self.path}: not an emorec run folder (no {MARKER})")
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        remove_partials(self.path)
        self.record = {}

    def rewind(self, epochs: int) -> History:
        """Roll ``history.csv`` back to its first ``epochs`` epochs (the restored backup's) and
        return them: rows of later epochs (run again after a resume) and a torn last row (a
        kill while Keras appended it) are dropped, and the file rewritten atomically."""
        if not self.history_file.exists():
            return {}
        with open(self.history_file, encoding="utf-8", errors="replace", newline="") as fh:
            lines = fh.readlines()
        if lines and not lines[-1].endswith("\n"):
            lines = lines[:-1]  # killed mid-row
        kept = lines[:1]
        if lines:
            header = next(csv.reader(lines[:1]), [])
            for line in lines[1:]:
                row = next(csv.reader([line]), [])
                if len(row) != len(header) or "epoch" not in header:
                    continue
                try:
                    if int(row[header.index("epoch")]) < epochs:
                        kept.append(line)
                except ValueError:
                    continue
        if len(kept) <= 1:
            self.history_file.unlink()
            return {}
        write_atomic(self.history_file, "".join(kept))
        return read_history(self.history_file)

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
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        return card

    def fail(self, message: str, **fields: Any) -> None:
        """Mark the run ``failed`` in ``config.json`` with ``message`` (see
        :class:`TrainingDiverged`); the backup and ``best.keras`` stay."""
        self.write_config(status="failed", failed=now(), failure=message, **fields)

    def plot(self, history: Mapping[str, Sequence[float]], *, title: str | None = None) -> Path:
        """Draw ``training_curves.png`` from ``history`` (atomically)."""
        from ..plots import plot_history

        with atomic_file(self.curves) as tmp:
            plot_history(history, tmp, title=title)
        return self.curves
