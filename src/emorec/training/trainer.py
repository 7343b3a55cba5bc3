"""`Trainer`: Keras ``fit`` with good defaults, automatic resume, and a complete output folder.

The Trainer adds no training loop of its own: it checks the settings
(:class:`~emorec.training.settings.TrainerSettings`), builds (or takes) a model,
optionally starts it from another model's weights (``init_from``), compiles it with the chosen
optimizer, schedule and loss, feeds it through :meth:`EmotionDataset.to_tf`, and calls
``model.fit`` with :attr:`Trainer.callbacks`, an ordinary list of Keras callbacks
(:mod:`emorec.training.callbacks`). Knowledge distillation (``teacher=``, ``distill=``) is
:mod:`emorec.training.distill`. What it adds:

- ``output_dir`` holds everything about a run (:class:`~emorec.training.run_folder.RunFolder`):
  ``config.json`` (all settings, status, time, machine), ``history.csv``, ``best.keras`` and
  ``final.keras`` (each with its model card), ``training_curves.png`` and ``backup/`` while the
  run is unfinished;
- the same command started again after the process was killed, at any moment, resumes from the
  last completed epoch (:class:`~emorec.training.callbacks.RunBackup`, restored here and passed
  to ``fit`` as ``initial_epoch``, plus the best-so-far of the other callbacks) and ends with
  the same number of epochs and a complete ``history.csv``;
- a loss that becomes NaN or infinite stops the run, which is marked ``failed``; nothing is
  saved from the diverged weights (:class:`~emorec.training.TrainingDiverged`);
- the saved models are float32 (whatever ``precision`` trained them) and, when the run has a
  validation split, calibrated: each card holds the temperature fitted on it
  (:mod:`emorec.calibration`);
- nothing is overwritten silently: a finished run, or an unfinished one with other settings,
  is kept unless ``overwrite=True``, and the error says which settings differ; files emorec
  did not write are never deleted.

Across processes (Keras's JAX backend, after :func:`emorec.training.distributed.initialize`),
each process trains on its share of every batch and process 0 alone writes the run folder
(:mod:`emorec.training.distributed`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._optional import require
from .._version import __version__
from ..data.augment import make_augmenter
from ..models.bundle import load_bundle
from ..models.registry import architecture_of, build_model
from ..pixels import InputSpec
from . import distributed as dist
from .distill import load_teachers, with_teacher_targets
from .machine import describe_machine
from .precision import as_float32, precision_scope, precision_warning
from .run_folder import RunFolder, TrainingDiverged, join_history, now
from .settings import DEFAULT_LEARNING_RATES as DEFAULT_LEARNING_RATES  # its home was here
from .settings import OPTIMIZERS as OPTIMIZERS  # its home was here
from .settings import SCHEDULES as SCHEDULES  # its home was here
from .settings import TrainerSettings, settings_from_arguments

if TYPE_CHECKING:
    import keras

    from ..data.dataset import EmotionDataset

__all__ = ["Trainer"]

logger = logging.getLogger("emorec")


class Trainer:
    """Train a model on an :class:`~emorec.EmotionDataset`.

    Parameters
    ----------
    model : str or keras.Model
        A registered architecture name (see :func:`emorec.list_models`), built for the data's
        image size and label set, or a Keras model taking 0..255 pixels and outputting
        probabilities over the dataset's labels.
    dataset : EmotionDataset
        The data. Trains on ``train_split``; validates on the split named ``"val"`` if there is
        one, else on a stratified ``val_split`` fraction carved out of the training split.
        A split with soft targets (:attr:`~emorec.DatasetSplit.targets`, FER+'s vote
        distributions) is trained on them: the cross-entropy to the distribution, class weights
        by the most likely class, and a validation accuracy against it.
    val_split, train_split, batch_size, epochs, optimizer, learning_rate, ..., verbose
        The run's settings, the fields of :class:`~emorec.training.TrainerSettings` with the
        same defaults, documented there: ``val_split``, ``train_split``, ``batch_size``,
        ``epochs``, ``optimizer``, ``learning_rate``, ``schedule``, ``warmup_epochs``,
        ``weight_decay``, ``label_smoothing``, ``ema``, ``augment``, ``class_weight``,
        ``output_dir``, ``seed``, ``model_kwargs``, ``init_from``,
        ``early_stopping_patience``, ``overwrite``, ``data_source``, ``command``,
        ``precision``, ``jit_compile``, ``distill`` and ``verbose``. They become
        :attr:`settings`.
    callbacks : list of keras.callbacks.Callback, optional
        Replaces the default callbacks (:func:`emorec.training.default_callbacks`). The list is
        :attr:`callbacks`: append to it, remove from it or replace it before :meth:`fit`
        (which adds one callback of its own after them when it resumes a run:
        :class:`~emorec.training.callbacks.RestoreBestSoFar`).
    strategy : tf.distribute.Strategy, optional
        Build and compile the model inside this strategy's scope (several GPUs or workers).
    teacher : str, path-like, keras.Model or a list of them, optional
        Knowledge distillation: train towards the teachers' probabilities as well as the labels.
        Each training batch, augmented, goes through every teacher (a bundled model's name, a
        ``.keras`` file or a model with the same input; a teacher with a model card must name
        the same labels in the same order), and the target becomes
        ``(1 - distill) * label + distill * mean of the teachers' probabilities`` (then
        smoothed by ``label_smoothing``, which you may want at 0 here). Several teachers are an
        ensemble distilled into one network. Class weights follow the true labels, as sample
        weights. TensorFlow backend only.
    settings : TrainerSettings, optional
        All the settings at once, instead of the keyword settings above (which must then be
        left at their defaults: ``dataclasses.replace(settings, epochs=60)`` changes one).

    Raises
    ------
    ValueError
        If a setting is out of range (:class:`~emorec.training.TrainerSettings`), the training
        split is empty or lacks a class, or the model does not fit the data.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec import EmotionDataset, Trainer
    >>> rng = np.random.default_rng(0)
    >>> ds = EmotionDataset.from_arrays(rng.integers(0, 255, (40, 48, 48), np.uint8),
    ...                                 rng.integers(0, 7, 40) % 3, ["a", "b", "c"])
    >>> trainer = Trainer("mini_xception", ds, epochs=1, batch_size=16, seed=0,
    ...                   output_dir=tempfile.mkdtemp(), verbose=0)
    >>> [type(c).__name__ for c in trainer.callbacks][-3:]
    ['CSVLogger', 'TerminateOnNaN', 'RunBackup']
    >>> trainer.settings.epochs, trainer.settings.patience  # plateau schedule: EarlyStopping 10
    (1, 10)
    >>> history = trainer.fit()
    >>> sorted(p.name for p in trainer.output_dir.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['.emorec-run.json', 'best.keras', 'config.json', 'final.keras', 'history.csv',
     'training_curves.png']
    """

    def __init__(
        self,
        model: str | keras.Model,
        dataset: EmotionDataset,
        *,
        val_split: float | str | None = 0.1,
        train_split: str = "train",
        batch_size: int = 64,
        epochs: int = 30,
        optimizer: str | keras.optimizers.Optimizer = "sgd",
        learning_rate: float | None = None,
        schedule: str = "plateau",
        warmup_epochs: int = 0,
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.1,
        ema: float | None = None,
        augment: Any = True,
        class_weight: str | dict[int, float] | None = None,
        callbacks: Sequence[keras.callbacks.Callback] | None = None,
        output_dir: str | os.PathLike[str] = "emorec-run",
        seed: int | None = None,
        strategy: Any = None,
        model_kwargs: dict[str, Any] | None = None,
        init_from: str | os.PathLike[str] | None = None,
        early_stopping_patience: int | str | None = "auto",
        overwrite: bool = False,
        data_source: str | None = None,
        command: str | None = None,
        precision: str = "float32",
        jit_compile: bool = False,
        teacher: Any = None,
        distill: float = 0.5,
        verbose: int | str = "auto",
        settings: TrainerSettings | None = None,
    ) -> None:
        # every keyword setting, as given: the fields of TrainerSettings are its names
        arguments = dict(locals())
        require("keras", "training")
        import keras

        #: The run's settings (:class:`~emorec.training.TrainerSettings`), validated.
        self.settings = settings_from_arguments(arguments, settings)
        s = self.settings
        if s.precision != "float32" and not isinstance(model, str):
            raise ValueError(
                f"precision={s.precision!r} needs a model name, which the Trainer builds under "
                "that policy; build your keras.Model inside "
                "emorec.training.precision.precision_scope instead"
            )
        self.dataset = dataset
        self.train_split = s.train_split
        self.labels: tuple[str, ...] = tuple(dataset.label_names)
        self._check_train_split()
        self.val_name, self.dataset = self._validation(s.val_split)
        # The settings as attributes, as the Trainer always had them (resolved where "auto").
        self.batch_size, self.epochs, self.schedule = s.batch_size, s.epochs, s.schedule
        self.warmup_epochs, self.weight_decay = s.warmup_epochs, s.weight_decay
        self.label_smoothing, self.ema, self.augment = s.label_smoothing, s.ema, s.augment
        make_augmenter(s.augment)  # fail early on bad options
        self.class_weight, self.seed, self.strategy = s.class_weight, s.seed, strategy
        self.overwrite, self.data_source, self.command = s.overwrite, s.data_source, s.command
        self.verbose, self.precision, self.jit_compile = s.verbose, s.precision, s.jit_compile
        slow = precision_warning(self.precision)
        if slow is not None:
            warnings.warn(slow, UserWarning, stacklevel=2)
        self.distill = s.distill
        # several processes (distributed.py): each feeds its share of the global batch, and
        # all but process 0 write into a scratch copy of the run folder
        self._local_batch = dist.per_process_batch(s.batch_size)
        self._shuffle_seed = dist.shared_seed(s.seed)
        self.output_dir = dist.scratch_copy(s.output_dir)
        self.run_folder = RunFolder(self.output_dir)
        self.optimizer_name = s.optimizer_name
        self.learning_rate = s.peak_learning_rate
        self.early_stopping_patience = s.patience
        self.model_kwargs = dict(s.model_kwargs or {})
        #: The donor of ``init_from``: ``{"file": name, "sha256": digest}``, or None.
        self.init_from: dict[str, str] | None = None
        self._donor_training: dict[str, Any] | None = None
        if s.seed is not None:
            keras.utils.set_random_seed(s.seed)
        scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
        with scope, precision_scope(self.precision):
            self.model = self._model(model)
            if s.init_from is not None:
                self._initialise(s.init_from)
            self._compile(s.optimizer)
        #: The distillation teachers (Keras models) and their provenance, if any.
        self.teachers, self._teacher_record = load_teachers(teacher, self.model, self.labels)
        monitor = "val_accuracy" if self.val_name else "accuracy"
        #: The callbacks ``fit`` passes to Keras: edit, extend or replace this list freely.
        self.callbacks: list[keras.callbacks.Callback]
        if callbacks is not None:
            self.callbacks = list(callbacks)
        else:
            from .callbacks import default_callbacks

            self.callbacks = default_callbacks(
                self.output_dir,
                monitor=monitor,
                plateau=s.schedule == "plateau",
                early_stopping_patience=s.patience,
                average_weights=self._averages_weights(),
            )

    # ------------------------------------------------------------------------ setup
    def _check_train_split(self) -> None:
        part = self.dataset[self.train_split]
        if len(part) == 0:
            raise ValueError(f"split {self.train_split!r} is empty: nothing to train on")
        counts = part.class_counts()
        missing = [label for label, n in counts.items() if n == 0]
        if missing:
            raise ValueError(
                f"no training images of class(es) {', '.join(missing)} in split "
                f"{self.train_split!r}; add images, or read the data with only the classes "
                "you have"
            )

    def _validation(self, val_split: float | str | None) -> tuple[str | None, Any]:
        ds = self.dataset
        if val_split is None or val_split == 0:
            return None, ds
        if isinstance(val_split, str):
            if val_split not in ds:
                raise ValueError(
                    f"val_split={val_split!r}: no such split; the dataset has "
                    f"{', '.join(ds.split_names)}"
                )
            return val_split, ds
        if "val" in ds:
            return "val", ds
        if not 0 < float(val_split) < 1:
            raise ValueError(f"val_split={val_split}; expected a fraction between 0 and 1")
        return "val", ds.split("val", fraction=float(val_split), seed=0, source=self.train_split)

    def _model(self, model: str | keras.Model) -> keras.Model:
        import keras

        sample = self.dataset[self.train_split].images
        if isinstance(model, str):
            self.model_name = model
            return build_model(
                model,
                num_classes=len(self.labels),
                input_shape=tuple(sample.shape[1:]),
                **self.model_kwargs,
            )
        if not isinstance(model, keras.Model):
            raise TypeError(f"model={model!r}; expected a registered name or a keras.Model")
        self.model_name = (architecture_of(model) or {}).get("name") or model.name
        outputs = model.output_shape[-1]
        if outputs != len(self.labels):
            raise ValueError(
                f"the model outputs {outputs} classes but the dataset has {len(self.labels)} "
                f"labels ({', '.join(self.labels)}); build it with num_classes={len(self.labels)}"
            )
        shape = model.input_shape
        if len(shape) != 4 or shape[-1] not in (1, 3):
            raise ValueError(
                f"the model's input shape is {shape}; expected (batch, height, width, 1 or 3)"
            )
        return model

    def _initialise(self, source: str | os.PathLike[str]) -> None:
        bundle = load_bundle(source, trains="init_from", fallback_labels=self.labels)
        path, donor = bundle.path, bundle.model
        mine = [tuple(w.shape) for w in self.model.weights]
        theirs = [tuple(w.shape) for w in donor.weights]
        if mine != theirs:
            raise ValueError(
                f"init_from={str(source)!r}: its weights ({len(theirs)} arrays, "
                f"{donor.count_params():,} parameters, input {donor.input_shape[1:]}, "
                f"{donor.output_shape[-1]} outputs) do not fit {self.model_name} "
                f"({len(mine)} arrays, {self.model.count_params():,} parameters, input "
                f"{self.model.input_shape[1:]}, {self.model.output_shape[-1]} outputs); build "
                "the same architecture for the same input and labels, or use "
                "EmotionClassifier.fine_tune for a new label set"
            )
        self.model.set_weights(donor.get_weights())
        # Name and digest, never the path: the config and the card travel to other machines.
        self.init_from = bundle.provenance
        # The donor's own training record goes into this run's card: the chain of commands
        # that made a model stays in the model file.
        card = bundle.card
        self._donor_training = card.training if card is not None else None
        logger.info("starting from the weights of %s", path)

    def _class_weights(self) -> dict[int, float]:
        """``{class index: weight}`` that ``class_weight`` asks for (empty for none)."""
        if self.class_weight == "balanced":
            return dict(self.dataset.class_weights(self.train_split))
        return dict(self.class_weight) if isinstance(self.class_weight, dict) else {}

    def _soft(self, split: str) -> bool:
        """Whether ``split`` has soft targets (:attr:`DatasetSplit.targets`) to train on."""
        return self.dataset[split].targets is not None

    def _steps_per_epoch(self) -> int:
        return dist.steps_per_epoch(len(self.dataset[self.train_split]), self.batch_size)

    def _averages_weights(self) -> bool:
        """Whether the compiled optimizer keeps a moving average of the weights (EMA)."""
        optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
        return bool(getattr(optimizer, "use_ema", False))

    def _compile(self, optimizer: str | keras.optimizers.Optimizer) -> None:
        import keras

        if not isinstance(optimizer, str):
            opt = optimizer
        else:
            lr: Any = self.learning_rate
            if self.schedule == "cosine":
                steps = self._steps_per_epoch()
                warm = self.warmup_epochs * steps
                lr = keras.optimizers.schedules.CosineDecay(
                    initial_learning_rate=0.0 if warm else self.learning_rate,
                    decay_steps=max(1, self.epochs * steps - warm),
                    warmup_target=self.learning_rate if warm else None,
                    warmup_steps=warm,
                )
            wd = self.weight_decay or None
            ema: dict[str, Any] = (
                {"use_ema": True, "ema_momentum": self.ema} if self.ema is not None else {}
            )
            if optimizer == "sgd":
                opt = keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=wd, **ema)
            elif optimizer == "adam":
                opt = keras.optimizers.Adam(lr, weight_decay=wd, **ema)
            else:
                opt = keras.optimizers.AdamW(lr, weight_decay=self.weight_decay, **ema)
            if wd:
                opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        self.model.compile(
            optimizer=opt,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=["accuracy"],
            jit_compile=self.jit_compile,
        )

    # ------------------------------------------------------------------------ config
    def config(self) -> dict[str, Any]:
        """Every setting that defines the run (what ``config.json`` records and compares).

        ``init_from`` is the donor file's ``{"file": name, "sha256": digest}``: the same
        weights under another path are the same run, other weights under the same name not.
        """
        return self.settings.to_config(
            model=self.model_name,
            parameters=int(self.model.count_params()),
            input_shape=list(self.model.input_shape[1:]),
            labels=list(self.labels),
            train_images=len(self.dataset[self.train_split]),
            val_images=len(self.dataset[self.val_name]) if self.val_name else 0,
            init_from=self.init_from,
            targets="probability" if self._soft(self.train_split) else None,
            teacher=self._teacher_record or None,
        )

    # ------------------------------------------------------------------------ data
    def _data(self, split: str, *, train: bool) -> Any:
        import keras

        spec = InputSpec.from_model(self.model)
        kwargs: dict[str, Any] = dict(
            image_size=spec.size,
            color_mode=spec.color_mode,
            augment=self.augment if train else False,
            shuffle=train,
            seed=self._shuffle_seed,
            # soft targets (FER+'s vote distributions) where the split has them
            label_mode="probability" if self._soft(split) else "categorical",
        )
        if keras.backend.backend() != "tensorflow":
            with dist.undistributed():  # the feed's own layers (augmentation) stay local
                feed = self.dataset.to_keras(split, self._local_batch, **kwargs)
            n = len(self.dataset[split])
            return dist.shard_batches(feed, n, self._local_batch) if train else feed
        data = self.dataset.to_tf(split, self.batch_size, **kwargs)
        if train and self.teachers:
            # the class weights go with the true labels, as sample weights (see distill.py)
            data = with_teacher_targets(
                data,
                self.teachers,
                weight=self.distill,
                class_weights=self._class_weights(),
                num_classes=len(self.labels),
            )
        return data

    # ------------------------------------------------------------------------ fit
    def fit(self) -> keras.callbacks.History:
        """Train; returns the Keras ``History`` (of the epochs run by this call).

        Writes ``config.json``, ``history.csv``, ``best.keras``, ``final.keras`` and
        ``training_curves.png`` into :attr:`output_dir`; resumes an unfinished run with the same
        settings by itself. Keras runs :attr:`callbacks`, and, when the run resumes, a
        :class:`~emorec.training.callbacks.RestoreBestSoFar` after them that gives them back
        the best-so-far of the epochs already done.

        Raises
        ------
        FileExistsError
            If ``output_dir`` holds a finished run, or an unfinished one with other settings,
            and ``overwrite`` is False; or run files emorec did not write (whatever
            ``overwrite`` says).
        TrainingDiverged
            If the loss or the weights stop being finite (a ``ValueError``): the run is
            marked failed, and its last good backup and best model stay.
        """
        try:
            return self._fit()
        finally:
            dist.discard_scratch(self.run_folder.path)  # another process's copy: deleted

    def _fit(self) -> keras.callbacks.History:
        from .callbacks import RestoreBestSoFar, RunBackup

        run = self.run_folder
        config = self.config()
        dist.barrier("emorec: run folder copied")  # the others copy it before process 0 starts
        state = run.open(config, overwrite=self.overwrite)
        backup = next((c for c in self.callbacks if isinstance(c, RunBackup)), None)
        initial = 0
        if backup is not None:
            # the newest backup that loads; history.csv rolls back to it (the one read of it)
            initial = backup.restore(self.model) if state == "resume" else 0
            previous = run.rewind(initial) if state == "resume" else {}
        else:
            previous = run.read_history() if state == "resume" else {}
        dist.check_same(initial, "the epoch the run resumes from")
        started = time.time()
        run.write_config(
            emorec_version=__version__,
            status="running",
            config=config,
            command=self.command,
            machine=describe_machine(),
            **({"started": now()} if state == "new" else {"resumed": now()}),
        )
        if state == "resume":
            logger.info(
                "resuming the unfinished run in %s (%d epochs done)",
                self.output_dir,
                initial if backup is not None else len(previous.get("epoch", [])),
            )
        train = self._data(self.train_split, train=True)
        val = self._data(self.val_name, train=False) if self.val_name else None
        # with teachers the pipeline gives the class weights as sample weights (see _data)
        class_weight = None if self.teachers else (self._class_weights() or None)
        callbacks = list(self.callbacks)
        if previous:
            callbacks.append(RestoreBestSoFar(self.callbacks, previous))
        verbose = self.verbose
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        verbose = verbose if dist.is_writer() else 0
        history = self.model.fit(
            train,
            validation_data=val,
            epochs=self.epochs,
            initial_epoch=initial,
            shuffle=False,  # the pipeline shuffles, reproducibly with the seed
            class_weight=class_weight,
            callbacks=callbacks,
            verbose=verbose,
        )
        self._check_finite(run, backup, history, previous)
        whole = join_history(previous, history.history, history.epoch)
        epochs_done = int(whole["epoch"][-1]) + 1 if whole["epoch"] else 0
        total_time = float(run.record.get("training_time_s") or 0.0) + (time.time() - started)
        training: dict[str, Any] = {
            "config": config,
            "command": self.command,
            "epochs_done": epochs_done,
            "training_time_s": round(total_time, 1),
            "machine": describe_machine(),
            "finished": now(),
        }
        if self.init_from is not None:
            training["started_from"] = {
                **self.init_from,
                **({"training": self._donor_training} if self._donor_training else {}),
            }
        if any(k in whole for k in ("loss", "accuracy")):  # before the run is marked finished
            try:
                run.plot(whole, title=f"{self.model_name} on {self.data_source or 'data'}")
            except Exception as exc:  # a picture is not worth a finished run: say so, go on
                warnings.warn(
                    f"{run.curves}: the training curves could not be drawn ({exc}); "
                    "history.csv has the figures",
                    RuntimeWarning,
                    stacklevel=2,
                )
        run.finish(
            self.model,
            self.labels,
            training=training,
            history=whole,
            val_split=self.val_name,
            saved_as=as_float32,
            calibrate=dist.on_this_process(self._calibrate) if self.val_name else None,
        )
        return history

    def _check_finite(
        self,
        run: RunFolder,
        backup: Any,
        history: keras.callbacks.History,
        previous: Mapping[str, Sequence[float]],
    ) -> None:
        """Stop a run whose loss or weights stopped being finite: mark it failed, save
        nothing of the diverged weights, and raise :class:`TrainingDiverged`."""
        from .callbacks import weights_finite

        losses = np.asarray(history.history.get("loss", []), dtype=float)
        bad = [history.epoch[i] for i in range(len(losses)) if not np.isfinite(losses[i])]
        epoch = backup.diverged if backup is not None and backup.diverged is not None else None
        if epoch is None and bad:
            epoch = bad[0]
        if epoch is None and weights_finite(self.model):
            return
        where = f"in epoch {epoch + 1}" if epoch is not None else "by the end of training"
        rate = self.learning_rate
        kept = (
            f"{run.best_model.name} holds the best model of the epochs before"
            if run.best_model.exists()
            else "no epoch ended with finite weights, so there is no best model"
        )
        message = (
            f"the training loss became NaN or infinite {where} (learning rate {rate:g}); the "
            f"run in {run.path} stopped and is marked failed: {kept}, and nothing was saved "
            "from the diverged weights. Run again with a lower learning rate (--lr): a "
            "failed run's folder is reused"
        )
        done = len(previous.get("epoch", [])) + sum(np.isfinite(losses))
        run.fail(message, epochs_done=int(done))
        raise TrainingDiverged(message)

    def _calibrate(self, model: keras.Model) -> dict[str, Any]:
        """The temperature of a saved model, fitted on the validation split."""
        from ..calibration import calibrate
        from ..inference import DEFAULT_TTA, predict_proba

        assert self.val_name is not None
        part = self.dataset[self.val_name]
        if len(part) == 0:
            raise ValueError(f"split {self.val_name!r} is empty: no images to calibrate on")
        probs = predict_proba(model, part.images, tta=DEFAULT_TTA)
        return calibrate(probs, part.labels, split=self.val_name, tta=DEFAULT_TTA)
