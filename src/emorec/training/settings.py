"""The settings of a training run: :class:`TrainerSettings`.

One frozen, validated record of every setting of :class:`~emorec.Trainer` that is plain data
(everything but the model, the dataset, the callbacks, the distribution strategy and the
distillation teachers). The Trainer builds one from its keyword arguments (or takes one,
``settings=``) and keeps it as :attr:`Trainer.settings`; :meth:`TrainerSettings.to_config`
is what ``config.json`` records of them, and the ``emorec train`` command takes its defaults
from :meth:`TrainerSettings.defaults`. Building one imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any

from .precision import check_precision

if TYPE_CHECKING:
    import keras

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "PLATEAU_PATIENCE",
    "RUN_FACTS",
    "SCHEDULES",
    "TrainerSettings",
    "settings_from_arguments",
]

#: The learning-rate schedules (``schedule=``).
SCHEDULES = ("plateau", "cosine", "constant")
#: The optimizers a name picks (``optimizer=``).
OPTIMIZERS = ("sgd", "adam", "adamw")
#: The learning rate of each optimizer when ``learning_rate`` is None.
DEFAULT_LEARNING_RATES = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
#: EarlyStopping's patience with the plateau schedule when ``early_stopping_patience="auto"``.
PLATEAU_PATIENCE = 10

#: The keys of ``config.json``'s ``config``, in the order it holds them. Keys that a run leaves
#: out unless it uses them (``ema``, ``precision``, ``jit_compile``, ``targets``, ``teacher``
#: and ``distill``) keep the configs of runs from before those options comparing equal.
CONFIG_KEYS = (
    "model",
    "model_kwargs",
    "parameters",
    "input_shape",
    "labels",
    "data",
    "train_split",
    "train_images",
    "val_split",
    "val_images",
    "batch_size",
    "epochs",
    "optimizer",
    "learning_rate",
    "schedule",
    "warmup_epochs",
    "weight_decay",
    "label_smoothing",
    "ema",
    "augment",
    "init_from",
    "class_weight",
    "early_stopping_patience",
    "seed",
    "precision",
    "jit_compile",
    "targets",
    "teacher",
    "distill",
)
#: The entries of the config that the run, not its settings, knows (``to_config(**facts)``).
RUN_FACTS = (
    "model",
    "parameters",
    "input_shape",
    "labels",
    "train_images",
    "val_images",
    "init_from",
    "targets",
    "teacher",
)


@dataclass(frozen=True)
class TrainerSettings:
    """Every setting of a :class:`~emorec.Trainer` run that is plain data, validated.

    The Trainer's keyword arguments of the same names build one (:attr:`Trainer.settings`);
    ``Trainer(model, dataset, settings=TrainerSettings(...))`` passes one whole. Numbers are
    stored as the types below (``weight_decay=0`` becomes ``0.0``).

    Parameters
    ----------
    val_split : float, str or None
        Fraction of the training split to hold out for validation (default 0.1, ignored when the
        dataset has a ``"val"`` split), the name of an existing split to validate on, or None
        for no validation (the callbacks then monitor training accuracy).
    train_split : str
        The split to train on.
    batch_size : int
        Images per step.
    epochs : int
        Epochs to train (EarlyStopping may stop sooner).
    optimizer : {"sgd", "adam", "adamw"} or keras.optimizers.Optimizer
        ``"sgd"`` is SGD with Nesterov momentum 0.9. A Keras optimizer is used as given
        (``learning_rate``, ``schedule`` and ``weight_decay`` then do not apply).
    learning_rate : float, optional
        Initial (peak) learning rate; default 0.05 for SGD, 0.001 for Adam(W)
        (:attr:`peak_learning_rate`).
    schedule : {"plateau", "cosine", "constant"}
        ``"plateau"`` halves the learning rate when validation loss stalls
        (``ReduceLROnPlateau`` in the callbacks); ``"cosine"`` decays it to zero over the run
        (after ``warmup_epochs`` of linear warm-up), and leaves ReduceLROnPlateau out.
    warmup_epochs : int
        Linear warm-up epochs for the cosine schedule.
    weight_decay : float
        Decoupled weight decay (not applied to biases and batch-norm parameters).
    label_smoothing : float
        Label smoothing of the cross-entropy loss.
    ema : float, optional
        Keep an exponential moving average of the weights (Polyak averaging) with this momentum,
        for example ``0.999`` (an average over about the last 1,000 steps), and validate,
        checkpoint and save the averaged weights: Keras' ``use_ema`` optimizer option with its
        :class:`~emorec.training.callbacks.AverageWeights` callback in the Trainer's callbacks.
        It smooths out the last steps' noise, most with a constant or plateau schedule.
        Batch-norm statistics are the running ones of the raw weights. A Keras optimizer passed
        as ``optimizer`` brings its own ``use_ema`` setting instead (the default callbacks then
        include AverageWeights too).
    augment : bool, dict or callable
        Augment the training images (:func:`emorec.data.augment.default_augmentation`), with
        the options in a dict (for example ``{"erasing": 0.5}``), or a Keras layer / callable
        to apply to each batch instead. The Trainer checks a dict's options.
    class_weight : {"balanced", None} or dict
        Weight the loss by class: ``"balanced"`` uses :meth:`EmotionDataset.class_weights`.
    output_dir : str or path-like
        Folder for the run's files (:class:`~emorec.training.run_folder.RunFolder`).
    seed : int, optional
        Makes a run reproducible on one machine: data order, augmentation, initial weights.
    model_kwargs : dict, optional
        Options for the architecture when the model is a name.
    init_from : str or path-like, optional
        Start from the weights of this model: a ``.keras`` file (a Trainer's ``best.keras``, for
        example) or a bundled model's name (:func:`emorec.list_pretrained`). Its architecture
        must match the one built, head included (for a new label set use
        :meth:`emorec.EmotionClassifier.fine_tune`). The learning-rate schedule starts again.
        The config and the cards record the file's name and SHA-256 (never its path), and the
        card keeps the donor's own training record (``training.started_from``).
    early_stopping_patience : int, None or "auto"
        Epochs without improvement before EarlyStopping ends the run; None for no early
        stopping. ``"auto"`` (the default): 10 with the plateau schedule, None with the others
        (:attr:`patience`).
    overwrite : bool
        Replace a finished run, or an unfinished one with other settings, in ``output_dir``.
    data_source : str, optional
        Where the data came from (recorded in the config and the model card).
    command : str, optional
        The command line that started the run (recorded likewise).
    precision : {"float32", "mixed_bfloat16", "mixed_float16"}
        Keras mixed precision for a model the Trainer builds by name: ``"mixed_bfloat16"``
        computes in bfloat16 with float32 weights, about twice as fast on CPUs with AVX-512
        BF16 (measured in ``benchmarks/training_throughput.py``). ``best.keras`` and
        ``final.keras`` are saved in float32 either way
        (:func:`emorec.training.precision.as_float32`).
    jit_compile : bool
        Compile the training step with XLA (Keras ``compile(jit_compile=True)``).
    distill : float
        Weight of the teachers' probabilities in the target (above 0, at most 1), when the
        Trainer is given teachers (``teacher=``).
    verbose : int or "auto"
        Keras ``fit`` verbosity; ``"auto"``: a progress bar on a terminal, one line per epoch
        otherwise.

    Raises
    ------
    ValueError
        If a setting is out of range or not one of its choices (the message names it).

    Examples
    --------
    >>> from emorec.training import TrainerSettings
    >>> settings = TrainerSettings(epochs=60, optimizer="adamw", schedule="cosine")
    >>> settings.peak_learning_rate, settings.patience
    (0.001, None)
    >>> settings.to_config()["early_stopping_patience"], TrainerSettings.defaults()["epochs"]
    (None, 30)
    >>> TrainerSettings(batch_size=0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size=0; expected a positive integer
    """

    val_split: float | str | None = 0.1
    train_split: str = "train"
    batch_size: int = 64
    epochs: int = 30
    optimizer: str | keras.optimizers.Optimizer = "sgd"
    learning_rate: float | None = None
    schedule: str = "plateau"
    warmup_epochs: int = 0
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    ema: float | None = None
    augment: Any = True
    class_weight: str | dict[int, float] | None = None
    output_dir: str | os.PathLike[str] = "emorec-run"
    seed: int | None = None
    model_kwargs: dict[str, Any] | None = None
    init_from: str | os.PathLike[str] | None = None
    early_stopping_patience: int | str | None = "auto"
    overwrite: bool = False
    data_source: str | None = None
    command: str | None = None
    precision: str = "float32"
    jit_compile: bool = False
    distill: float = 0.5
    verbose: int | str = "auto"

    def __post_init__(self) -> None:
        _check(
            isinstance(self.batch_size, int) and self.batch_size > 0,
            f"batch_size={self.batch_size!r}; expected a positive integer",
        )
        _check(
            isinstance(self.epochs, int) and self.epochs > 0,
            f"epochs={self.epochs!r}; expected a positive integer",
        )
        _check(
            self.schedule in SCHEDULES, f"schedule={self.schedule!r}; expected one of {SCHEDULES}"
        )
        optimizer = self.optimizer
        _check(
            (isinstance(optimizer, str) and optimizer in OPTIMIZERS)
            or _is_keras_optimizer(optimizer),
            f"optimizer={optimizer!r}; expected one of {OPTIMIZERS} or a keras optimizer",
        )
        smoothing = self.label_smoothing
        _check(0 <= smoothing < 1, f"label_smoothing={smoothing}; expected 0..1")
        ema = self.ema
        _check(
            ema is None or (isinstance(ema, (int, float)) and 0 < ema < 1),
            f"ema={ema!r}; expected None or a momentum between 0 and 1, such as 0.999",
        )
        _check(
            ema is None or isinstance(optimizer, str),
            f"ema={ema} with a Keras optimizer ({type(optimizer).__name__}); create the "
            "optimizer with use_ema=True and ema_momentum instead",
        )
        _check(
            self.class_weight in (None, "balanced") or isinstance(self.class_weight, dict),
            f"class_weight={self.class_weight!r}; expected 'balanced', None or a dict",
        )
        check_precision(self.precision)
        _check(
            0 < self.distill <= 1,
            f"distill={self.distill!r}; expected a weight above 0, at most 1",
        )
        # The types config.json records (weight_decay=0 is written 0.0, as it always was).
        for name, kind in (
            ("warmup_epochs", int),
            ("weight_decay", float),
            ("label_smoothing", float),
            ("distill", float),
            ("jit_compile", bool),
        ):
            object.__setattr__(self, name, kind(getattr(self, name)))
        for name in ("ema", "learning_rate"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))

    # ------------------------------------------------------------------ derived
    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{setting: default}`` for every field (what the ``emorec train`` options default to).

        Examples
        --------
        >>> from emorec.training import TrainerSettings
        >>> TrainerSettings.defaults()["weight_decay"]
        0.0005
        """
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}

    @property
    def optimizer_name(self) -> str:
        """The optimizer's name: ``optimizer`` itself, or a Keras optimizer's class name."""
        optimizer = self.optimizer
        return optimizer if isinstance(optimizer, str) else type(optimizer).__name__

    @property
    def peak_learning_rate(self) -> float:
        """``learning_rate``, or the optimizer's default (:data:`DEFAULT_LEARNING_RATES`)."""
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATES.get(self.optimizer_name, 1e-3)

    @property
    def patience(self) -> int | None:
        """EarlyStopping's patience: ``early_stopping_patience`` with ``"auto"`` resolved
        (:data:`PLATEAU_PATIENCE` with the plateau schedule, None with the others)."""
        if self.early_stopping_patience == "auto":
            return PLATEAU_PATIENCE if self.schedule == "plateau" else None
        return self.early_stopping_patience  # type: ignore[return-value]

    @property
    def validation_name(self) -> str | None:
        """The split the run validates on, as ``config.json`` records it: None for no
        validation, a split's name as given, else ``"val"`` (the dataset's, or the fraction
        the Trainer carves out of the training split under that name)."""
        if self.val_split is None or self.val_split == 0:
            return None
        return self.val_split if isinstance(self.val_split, str) else "val"

    def to_config(self, **facts: Any) -> dict[str, Any]:
        """What ``config.json`` records as ``config``: these settings and the run's ``facts``,
        in :data:`CONFIG_KEYS` order. A resumed run must give the same config.

        ``facts`` are what the run knows and the settings do not (:data:`RUN_FACTS`): the
        ``model``'s name, ``parameters``, ``input_shape``, ``labels``, ``train_images`` and
        ``val_images``, ``targets`` (``"probability"`` for soft targets), the ``teacher``
        record (``distill`` is recorded with it) and ``init_from``'s ``{"file", "sha256"}``
        (computed from ``init_from`` when not given). Settings that are not about the model
        (``output_dir``, ``overwrite``, ``command``, ``verbose``) are not in it.

        Raises
        ------
        TypeError
            If a fact is not one of :data:`RUN_FACTS`.

        Examples
        --------
        >>> from emorec.training import TrainerSettings
        >>> config = TrainerSettings(ema=0.99).to_config(model="vgg_m")
        >>> list(config)[:3], config["ema"], "precision" in config
        (['model', 'model_kwargs', 'data'], 0.99, False)
        """
        unknown = sorted(set(facts) - set(RUN_FACTS))
        if unknown:
            raise TypeError(
                f"to_config() got {', '.join(unknown)}; the run's facts are {', '.join(RUN_FACTS)}"
            )
        augment = self.augment
        own: dict[str, Any] = {
            "model_kwargs": dict(self.model_kwargs or {}),
            "data": self.data_source,
            "train_split": self.train_split,
            "val_split": self.validation_name,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "optimizer": self.optimizer_name,
            "learning_rate": self.peak_learning_rate,
            "schedule": self.schedule,
            "warmup_epochs": self.warmup_epochs,
            "weight_decay": self.weight_decay,
            "label_smoothing": self.label_smoothing,
            "augment": augment if isinstance(augment, (bool, dict)) else repr(augment),
            "init_from": None,
            "class_weight": self.class_weight,
            "early_stopping_patience": self.patience,
            "seed": self.seed,
        }
        # Only when set: configs of runs from before these options still compare equal.
        if self.ema is not None:
            own["ema"] = self.ema
        if self.precision != "float32":
            own["precision"] = self.precision
        if self.jit_compile:
            own["jit_compile"] = True
        if facts.get("teacher"):
            own["distill"] = self.distill
        else:
            facts.pop("teacher", None)
        if not facts.get("targets"):
            facts.pop("targets", None)
        if "init_from" not in facts and self.init_from is not None:
            from ..models.card import file_provenance, resolve_keras_model

            facts["init_from"] = file_provenance(resolve_keras_model(self.init_from, "init_from"))
        merged = {**own, **facts}
        return {key: merged[key] for key in CONFIG_KEYS if key in merged}


def settings_from_arguments(
    arguments: dict[str, Any], settings: TrainerSettings | None = None
) -> TrainerSettings:
    """The :class:`TrainerSettings` of a Trainer called with keyword ``arguments`` (each
    field's value, default or not) and, optionally, ``settings=``.

    Raises
    ------
    ValueError
        If ``settings`` is given with keyword settings other than their defaults.

    Examples
    --------
    >>> from emorec.training.settings import TrainerSettings, settings_from_arguments
    >>> given = {**TrainerSettings.defaults(), "epochs": 5}
    >>> settings_from_arguments(given).epochs
    5
    >>> settings_from_arguments(given, TrainerSettings(epochs=60))
    Traceback (most recent call last):
    ...
    ValueError: epochs=5 given with settings=; ...
    """
    values = {f.name: arguments[f.name] for f in fields(TrainerSettings)}
    if settings is None:
        return TrainerSettings(**values)
    if not isinstance(settings, TrainerSettings):
        raise TypeError(f"settings={settings!r}; expected a TrainerSettings")
    defaults = TrainerSettings.defaults()
    changed = [
        f"{name}={value!r}"
        for name, value in values.items()
        if not (value is defaults[name] or _equal(value, defaults[name]))
    ]
    if changed:
        raise ValueError(
            f"{', '.join(changed)} given with settings=; pass the settings one way: put them "
            "in the TrainerSettings (dataclasses.replace(settings, ...)), or leave settings= out"
        )
    return settings


def _equal(value: Any, default: Any) -> bool:
    try:
        return bool(type(value) is type(default) and value == default)
    except Exception:  # an object whose == is not a plain bool (an array): not the default
        return False


def _is_keras_optimizer(value: Any) -> bool:
    # An instance of a Keras class means Keras is imported: look, without importing it.
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.optimizers.Optimizer)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)
