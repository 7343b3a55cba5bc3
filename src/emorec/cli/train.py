"""``emorec train``: train a registered architecture; the same command resumes an unfinished run."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from ..training.distributed import LaunchSettings, initialize, is_writer, requested, shutdown
from ..training.precision import PRECISIONS
from ..training.settings import (
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    PLATEAU_PATIENCE,
    SCHEDULES,
    TrainerSettings,
)
from .reading import add_reading_arguments, data_source, read_dataset

__all__ = ["add_train_parser", "run", "wants_jax"]

DISTRIBUTED_HELP = (
    "train with several processes (Keras's data parallelism on the JAX backend): each feeds "
    "its share of every --batch-size batch, process 0 writes the run. Needs JAX "
    "(pip install 'emorec[distributed]'); sets KERAS_BACKEND=jax unless it is set. Who is who "
    "comes from the flags below, else from KERAS_DISTRIBUTION_JOB_ADDRESSES, "
    "KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID, else from the "
    "cluster (Slurm, Open MPI); start the same command in every process"
)


def wants_jax(args: argparse.Namespace) -> bool:
    """Whether this ``train`` runs across processes, so that Keras must start on JAX: the
    ``emorec`` command sets ``KERAS_BACKEND=jax`` (unless it is set) before anything imports
    Keras, whose backend is fixed at its first import."""
    flags = ("coordinator", "num_processes", "process_id")
    return bool(
        getattr(args, "distributed", False)
        or any(getattr(args, f, None) is not None for f in flags)
        or requested()
    )


def add_train_parser(sub: Any) -> None:
    """The ``train`` subcommand and its options (their defaults are the Trainer's:
    :meth:`TrainerSettings.defaults`)."""
    default = TrainerSettings.defaults()
    patience = PLATEAU_PATIENCE  # EarlyStopping's with early_stopping_patience="auto"
    p = sub.add_parser(
        "train",
        help="train a model; the same command resumes an unfinished run",
        description="Train a registered architecture on DATA and write the run into --output. "
        "Started again after an interruption, the same command resumes where it stopped.",
    )
    p.add_argument(
        "data", help="class folders, a .zip of them, fer2013.csv or the challenge's fer2013.tar.gz"
    )
    p.add_argument("--model", required=True, help="architecture name (see: emorec models)")
    p.add_argument("--output", required=True, help="folder for the run's files")
    p.add_argument("--epochs", type=int, default=default["epochs"], help="training epochs")
    p.add_argument(
        "--batch-size", type=int, default=default["batch_size"], help="images per training step"
    )
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=default["optimizer"],
        help="sgd: Nesterov momentum 0.9",
    )
    p.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        default=default["learning_rate"],
        help="default "
        + ", ".join(f"{rate:g} for {name}" for name, rate in DEFAULT_LEARNING_RATES.items()),
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=default["schedule"],
        help="learning-rate schedule",
    )
    p.add_argument(
        "--warmup-epochs",
        type=int,
        default=default["warmup_epochs"],
        help="epochs of linear warm-up",
    )
    p.add_argument(
        "--weight-decay", type=float, default=default["weight_decay"], help="L2 weight decay"
    )
    p.add_argument(
        "--label-smoothing",
        type=float,
        default=default["label_smoothing"],
        help="label smoothing of the targets",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=default["ema"],
        metavar="MOMENTUM",
        help="validate and save a moving average of the weights, e.g. --ema 0.999 (default: off)",
    )
    p.add_argument(
        "--val-split",
        default=default["val_split"],
        help="fraction of train to validate on (default %(default)s), a split name, or 0",
    )
    p.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=default["class_weight"],
        help="weigh the loss by inverse class frequency (default: off)",
    )
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument(
        "--augment",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="augmentation option, e.g. --augment erasing=0.5 or --augment rotation=0 "
        "(shift, flip, rotation, brightness, contrast, erasing, zoom, gamma, downscale, blur, "
        "equalize)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=default["precision"],
        help="compute precision (mixed_bfloat16: about 1.6x faster on CPUs with AVX-512 BF16 "
        "or AMX, but emulated and several times slower on others, which emorec warns about; "
        "the saved models are float32 either way)",
    )
    p.add_argument("--jit-compile", action="store_true", help="compile the training step with XLA")
    p.add_argument(
        "--teacher",
        action="append",
        default=[],
        metavar="MODEL",
        help="distil from this model (.keras file or bundled name; repeat for an ensemble)",
    )
    p.add_argument(
        "--distill",
        type=float,
        default=default["distill"],
        help="weight of the teachers' probabilities in the targets (default %(default)s)",
    )
    p.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from this model's weights (.keras file or bundled name; same architecture)",
    )
    p.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        help=f"patience in epochs (0: off; default {patience} with plateau, off otherwise)",
    )
    p.add_argument(
        "--seed", type=int, default=default["seed"], help="seed of weights, split and augmentation"
    )
    p.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="architecture option (JSON value), e.g. --model-arg dropout=0.4",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a finished run, or an unfinished one with other settings",
    )
    group = p.add_argument_group("training across processes (JAX backend)")
    group.add_argument("--distributed", action="store_true", help=DISTRIBUTED_HELP)
    group.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="process 0's address and a free port, reachable by all (implies --distributed)",
    )
    group.add_argument(
        "--num-processes",
        type=int,
        metavar="N",
        help="how many processes train together (implies --distributed)",
    )
    group.add_argument(
        "--process-id",
        type=int,
        metavar="I",
        help="this process's index, 0 to N-1; 0 writes the run (implies --distributed)",
    )
    add_reading_arguments(p)
    p.set_defaults(func=run, distributed=False)


def parse_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--model-arg {pair!r}; expected KEY=VALUE, e.g. dropout=0.4")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _launch(args: argparse.Namespace) -> LaunchSettings | None:
    """The settings of a run across processes, or None for one process."""
    given = {
        "coordinator": getattr(args, "coordinator", None),
        "num_processes": getattr(args, "num_processes", None),
        "process_id": getattr(args, "process_id", None),
    }
    if not (getattr(args, "distributed", False) or requested()) and given == dict.fromkeys(given):
        return None
    return LaunchSettings.from_environment().merged(**given)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) the run; print where its files are."""
    launch = _launch(args)
    if launch is None:
        return _train(args)
    if not getattr(args, "debug", False):  # JAX's start-up lines (no TPU, the service)
        logging.getLogger("jax").setLevel(logging.WARNING)
    initialize(launch)
    if not is_writer():  # the same lines from every process: process 0's are enough
        logging.getLogger("emorec").setLevel(logging.WARNING)
    try:
        return _train(args)
    finally:
        shutdown()


def _train(args: argparse.Namespace) -> int:
    import shlex

    from ..training import Trainer

    ds = read_dataset(args.data, args)
    command = "emorec " + " ".join(shlex.quote(a) for a in (args.argv or []))
    val: float | str | None = args.val_split
    if isinstance(val, str):
        with contextlib.suppress(ValueError):
            val = float(val)
    trainer = Trainer(
        args.model,
        ds,
        val_split=None if val in (0, 0.0, "none") else val,
        batch_size=args.batch_size,
        epochs=args.epochs,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        schedule=args.schedule,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        ema=args.ema,
        augment=False if args.no_augment else (parse_kwargs(args.augment) or True),
        class_weight=args.class_weight,
        output_dir=args.output,
        seed=args.seed,
        model_kwargs=parse_kwargs(args.model_arg),
        init_from=args.init_from,
        early_stopping_patience=(None if args.early_stopping == 0 else args.early_stopping)
        if args.early_stopping is not None
        else "auto",
        overwrite=args.overwrite,
        data_source=data_source(args),
        command=command,
        precision=args.precision,
        jit_compile=args.jit_compile,
        teacher=args.teacher or None,
        distill=args.distill,
    )
    writer = is_writer()  # with several processes, process 0 alone reports
    if writer:
        print(
            f"training {args.model} on {args.data}: {len(ds)} images, splits {ds.split_names}",
            file=sys.stderr,
        )
    trainer.fit()
    if not writer:
        return 0
    run = trainer.run_folder
    print(
        f"done: {run.best_model} (best on validation), {run.final_model}, "
        f"{run.history_file}, {run.curves}"
    )
    return 0
