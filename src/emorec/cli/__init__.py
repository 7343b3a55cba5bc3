"""The ``emorec`` command line.

Subcommands::

    emorec info                          versions and where things are
    emorec dataset summary PATH          counts per split and class of a folder, .zip or .csv
    emorec download fer2013 [--csv]      download FER2013 through the Kaggle API
    emorec download ferplus              download FER+'s votes (fer2013new.csv) from GitHub
    emorec predict INPUT...              the emotion of every face in photos, folders, videos
    emorec models                        registered architectures and bundled models
    emorec train DATA --model NAME ...   train (resumes an unfinished run by itself)
    emorec evaluate MODEL DATA --split   accuracy, macro-F1, per-class figures, confusion matrix

A user error (bad path, bad file, missing credentials) prints one line to stderr and exits
with status 2; ``--debug`` (before or after the command's name) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._optional import MissingDependencyError, missing_extra
from .._version import __version__, installed_version
from ..data.ferplus_download import DownloadError
from ..data.kaggle import KaggleError
from .export import add_export_parser
from .predict import add_predict_parser

__all__ = ["main"]

#: Exceptions that are the user's to fix: reported in one line, exit status 2.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    OSError,
    KaggleError,
    DownloadError,
    MissingDependencyError,
)


def _read_dataset(path: str, args: argparse.Namespace) -> Any:
    from ..data import EmotionDataset

    p = Path(path)
    kwargs = {"progress_bar": None}
    ferplus = getattr(args, "ferplus", None)
    is_table = p.suffix.lower() == ".csv" or p.name.lower().endswith((".tar.gz", ".tgz", ".tar"))
    if ferplus is not None and not is_table:
        raise ValueError(
            f"--ferplus with {path}: FER+ votes go with fer2013.csv (or the challenge's "
            "fer2013.tar.gz), whose rows they follow; pass that file as the data"
        )
    if is_table:
        return EmotionDataset.from_csv(
            p,
            ferplus=None if ferplus is None else (True if ferplus == "" else ferplus),
            ferplus_mode=getattr(args, "ferplus_mode", "majority"),
            contempt=getattr(args, "contempt", False),
            **kwargs,
        )
    return EmotionDataset.from_directory(
        p,
        color_mode=getattr(args, "color_mode", "grayscale"),
        errors=getattr(args, "errors", "raise"),
        image_size=_image_size(getattr(args, "image_size", None)),
        **kwargs,
    )


def _image_size(text: str | None) -> tuple[int, int] | None:
    """``"48"`` or ``"48x64"`` (height x width) -> a size; None stays None."""
    if text is None:
        return None
    parts = text.lower().split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        size = ()
    if len(size) not in (1, 2) or min(size) < 1:
        raise ValueError(f"--image-size {text!r}; expected a size such as 48 or 48x48")
    return (size[0], size[-1])


def _cmd_info(args: argparse.Namespace) -> int:
    info = {
        "emorec": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": installed_version("tensorflow"),
        "keras": installed_version("keras"),
        "numpy": installed_version("numpy"),
        "pillow": installed_version("pillow"),
        "kaggle": installed_version("kaggle"),
        "package_dir": str(Path(__file__).resolve().parent.parent),  # emorec/, not emorec/cli/
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key.ljust(width)}  {value}")
    return 0


def _cmd_dataset_summary(args: argparse.Namespace) -> int:
    ds = _read_dataset(args.path, args)
    if args.json:
        print(
            json.dumps(
                {
                    "label_names": list(ds.label_names),
                    "splits": {s: ds.class_counts(s) for s in ds.split_names},
                    "image_shape": {s: list(ds[s].images.shape[1:]) for s in ds.split_names},
                    "skipped": [list(x) for x in ds.skipped],
                },
                indent=2,
            )
        )
    else:
        print(f"{args.path}: {len(ds)} images, {len(ds.label_names)} classes")
        print(ds.summary())
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    if args.dataset == "ferplus":
        from ..data.ferplus_download import download_ferplus

        if args.csv:
            raise ValueError("--csv is for fer2013; FER+'s votes are one file, fer2013new.csv")
        path = download_ferplus(args.dir, force=args.force)
    else:
        from ..data.kaggle import download_fer2013

        path = download_fer2013("csv" if args.csv else "images", path=args.dir, force=args.force)
    print(path)
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from ..inference import DEFAULT_TTA
    from ..models import build_model, list_models, list_pretrained, read_card
    from ..models.card import DEFAULT_PRETRAINED

    names = list_models(args.pattern)
    rows = []
    for name in names:
        params = build_model(name).count_params() if args.params else None
        rows.append({"name": name, "parameters": params})
    pretrained: list[dict[str, Any]] = []
    for name in list_pretrained():
        card = read_card(name)
        pretrained.append(
            {
                "name": name,
                "architecture": card.architecture_name,
                "labels": list(card.labels),
                "default": name == DEFAULT_PRETRAINED,
                "tta": card.tta or DEFAULT_TTA,  # what the classifier applies by default
                "metrics": card.metrics,
            }
        )
    if args.json:
        print(json.dumps({"architectures": rows, "pretrained": pretrained}, indent=2))
        return 0
    print("architectures (emorec train --model NAME):")
    for row in rows:
        extra = f"  {row['parameters']:,} parameters at 48x48x1" if row["parameters"] else ""
        print(f"  {row['name']}{extra}")
    print("pretrained models (EmotionClassifier.load(NAME)):")
    for item in pretrained:
        public_test = item["metrics"].get("public_test", {})
        acc = public_test.get("accuracy")
        tta = public_test.get("tta") or item["tta"]
        figure = f", PublicTest accuracy {acc:.1%}" if acc else ""
        plus = item["metrics"].get("public_test_ferplus", {}).get("accuracy")
        if acc and plus:  # measured against both label sets (benchmarks/accuracy.py)
            figure += f" (FER2013 labels), {plus:.1%} (FER+ majority)"
        figure += f" at tta={tta}" if acc and tta else ""
        default = "default; " if item["default"] else ""
        print(f"  {item['name']} ({default}{item['architecture']}{figure})")
    if not pretrained:
        print("  none bundled yet")
    return 0


def _parse_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
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


def _cmd_train(args: argparse.Namespace) -> int:
    import shlex

    from ..training import Trainer

    ds = _read_dataset(args.data, args)
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
        augment=False if args.no_augment else (_parse_kwargs(args.augment) or True),
        class_weight=args.class_weight,
        output_dir=args.output,
        seed=args.seed,
        model_kwargs=_parse_kwargs(args.model_arg),
        init_from=args.init_from,
        early_stopping_patience=(None if args.early_stopping == 0 else args.early_stopping)
        if args.early_stopping is not None
        else "auto",
        overwrite=args.overwrite,
        data_source=_data_source(args),
        command=command,
        precision=args.precision,
        jit_compile=args.jit_compile,
        teacher=args.teacher or None,
        distill=args.distill,
    )
    print(
        f"training {args.model} on {args.data}: {len(ds)} images, splits {ds.split_names}",
        file=sys.stderr,
    )
    trainer.fit()
    out = Path(args.output)
    print(
        f"done: {out / 'best.keras'} (best on validation), {out / 'final.keras'}, "
        f"{out / 'history.csv'}, {out / 'training_curves.png'}"
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate

    ds = _read_dataset(args.data, args)
    report = evaluate(args.model, ds, args.split, tta=args.tta, batch_size=args.batch_size)
    if args.confusion_matrix:
        report.plot_confusion_matrix(args.confusion_matrix)
    print(report.to_json() if args.json else report)
    return 0


def _data_source(args: argparse.Namespace) -> str:
    """The data as the run's config and card record it: the path, and FER+'s mode if read."""
    if getattr(args, "ferplus", None) is None:
        return str(args.data)
    votes = Path(args.data).parent / "fer2013new.csv" if args.ferplus == "" else args.ferplus
    extra = ", contempt" if args.contempt else ""
    return f"{args.data} + FER+ {Path(votes).name} ({args.ferplus_mode}{extra})"


def _add_reading_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the commands that read a dataset (``_read_dataset`` takes them)."""
    p.add_argument(
        "--ferplus",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="label fer2013.csv's faces by FER+'s votes: FILE is fer2013new.csv (default: the "
        "one beside the data; `emorec download ferplus` fetches it)",
    )
    p.add_argument(
        "--ferplus-mode",
        choices=["majority", "probability", "fer2013"],
        default="majority",
        help="with --ferplus: label by the majority emotion (ties dropped) or by the vote "
        "distribution (soft targets), or keep FER2013's labels and report FER+'s beside them",
    )
    p.add_argument(
        "--contempt",
        action="store_true",
        help="with --ferplus: keep FER+'s eighth class, contempt",
    )
    p.add_argument(
        "--color-mode",
        choices=["grayscale", "rgb"],
        default="grayscale",
        help="channels to read the images as",
    )
    p.add_argument("--image-size", metavar="HxW", help="resize images on reading, e.g. 48x48")
    p.add_argument(
        "--errors",
        choices=["raise", "skip"],
        default="raise",
        help="on an unreadable image: stop (default) or skip it with a warning and go on",
    )


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
    """Warnings (a skipped image, a damaged backup) as one ``emorec: warning:`` line."""
    print(f"emorec: warning: {message}", file=sys.stderr)


class _HelpFormatter(argparse.HelpFormatter):
    """``--help`` with each option's default (unless its help says it) and the examples."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            not action.option_strings
            or "default" in text
            or default is None
            or default is False
            or default == []
            or default == argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):  # the examples keep their lines
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


DEBUG_HELP = "show tracebacks and debug logs"

#: One or two runnable lines per command, shown at the end of its ``--help``.
EXAMPLES = {
    "info": "emorec info --json",
    "dataset summary": "emorec dataset summary fer2013.zip --errors skip",
    "download": "emorec download fer2013 --csv --dir data/\n  emorec download ferplus --dir data/",
    "predict": "emorec predict photo.jpg --annotate photo_emotions.jpg\n"
    "  emorec predict photos/ --recursive --output results.csv --errors skip\n"
    "  emorec predict interview.mp4 --fps 5 --smooth 5 --output frames.csv --annotate out/",
    "models": "emorec models 'vgg*' --params",
    "train": "emorec train fer2013.zip --model vgg_m --epochs 60 --schedule cosine "
    "--output runs/vgg_m",
    "evaluate": "emorec evaluate runs/vgg_m/best.keras fer2013.zip --split test "
    "--confusion-matrix cm.png",
}


def _dress(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Give every (sub)command the help formatter, its examples and ``--debug`` (accepted
    before or after the command's name)."""
    parser.formatter_class = _HelpFormatter
    command = prefix.strip()
    if command in EXAMPLES:
        parser.epilog = f"example:\n  {EXAMPLES[command]}"
    if command:
        # SUPPRESS: left out, it leaves the --debug given before the command as it is.
        parser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                _dress(child, f"{prefix} {name}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``emorec`` command."""
    parser = argparse.ArgumentParser(
        prog="emorec", description="Recognise emotions in faces: data, training, prediction."
    )
    parser.add_argument("--version", action="version", version=f"emorec {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="show versions of emorec and its dependencies")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("dataset", help="inspect a dataset")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "summary", help="count images per split and class in a folder, .zip or fer2013.csv"
    )
    q.add_argument("path", help="class folders (optionally under split folders), a .zip, or a .csv")
    q.add_argument("--json", action="store_true", help="print JSON")
    _add_reading_arguments(q)
    q.set_defaults(func=_cmd_dataset_summary)

    p = sub.add_parser(
        "download",
        help="download FER2013 (Kaggle API) or FER+'s votes (fer2013new.csv, GitHub)",
    )
    p.add_argument("dataset", choices=["fer2013", "ferplus"])
    p.add_argument(
        "--csv",
        action="store_true",
        help="fer2013: the original challenge CSV instead of the image folders",
    )
    p.add_argument("--dir", default=None, help="download folder (default ~/.cache/emorec/...)")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.set_defaults(func=_cmd_download)

    add_predict_parser(sub)
    add_export_parser(sub)

    p = sub.add_parser("models", help="list architectures and bundled pretrained models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'vgg*'")
    p.add_argument("--params", action="store_true", help="build each to count its parameters")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_models)

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
    p.add_argument("--epochs", type=int, default=30, help="training epochs")
    p.add_argument("--batch-size", type=int, default=64, help="images per training step")
    p.add_argument(
        "--optimizer",
        choices=["sgd", "adam", "adamw"],
        default="sgd",
        help="sgd: Nesterov momentum 0.9",
    )
    p.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        default=None,
        help="default 0.05 for sgd, 0.001 for adam(w)",
    )
    p.add_argument(
        "--schedule",
        choices=["plateau", "cosine", "constant"],
        default="plateau",
        help="learning-rate schedule",
    )
    p.add_argument("--warmup-epochs", type=int, default=0, help="epochs of linear warm-up")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay")
    p.add_argument(
        "--label-smoothing", type=float, default=0.1, help="label smoothing of the targets"
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="MOMENTUM",
        help="validate and save a moving average of the weights, e.g. --ema 0.999 (default: off)",
    )
    p.add_argument(
        "--val-split",
        default=0.1,
        help="fraction of train to validate on (default 0.1), a split name, or 0",
    )
    p.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
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
        choices=["float32", "mixed_bfloat16", "mixed_float16"],
        default="float32",
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
        default=0.5,
        help="weight of the teachers' probabilities in the targets (default 0.5)",
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
        help="patience in epochs (0: off; default 10 with plateau, off otherwise)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed of weights, split and augmentation")
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
    _add_reading_arguments(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a model file on a dataset split")
    p.add_argument("model", help="a .keras file (or a bundled model's name)")
    p.add_argument(
        "data", help="class folders, a .zip of them, fer2013.csv or the challenge's fer2013.tar.gz"
    )
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default=None,
        choices=["none", "flip", "shift"],
        help="test-time augmentation (default: the model card's, as predict applies it; "
        "--tta alone: flip; shift: 10 views)",
    )
    p.add_argument("--batch-size", type=int, default=256, help="images per model call")
    p.add_argument("--confusion-matrix", metavar="IMAGE", help="write the confusion matrix image")
    p.add_argument("--json", action="store_true", help="print JSON")
    _add_reading_arguments(p)
    p.set_defaults(func=_cmd_evaluate)
    _dress(parser)
    return parser


def _uses_tensorflow(args: argparse.Namespace) -> bool:
    """Whether the command will import TensorFlow: training, evaluating and exporting do, and
    predicting with a Keras file does; predicting with a bundled or TFLite model does not."""
    if args.command in ("train", "evaluate", "export"):
        return True
    return str(getattr(args, "model", None) or "").lower().endswith((".keras", ".h5"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``emorec`` command; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", stream=sys.stderr
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .. import _native

    shown = _native.SHOW
    _native.SHOW = shown or args.debug  # for this command only (main may run in a program)
    try:
        if _uses_tensorflow(args):
            with contextlib.suppress(ImportError):  # not installed: the command says which extra
                _native.import_tensorflow_quietly()  # its C++ start-up lines off the terminal
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _show_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("emorec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # ``emorec ... | head``: the reader has gone; end quietly
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)  # Python flushes stdout at exit
            os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell tool killed by the closed pipe
    except ImportError as exc:  # an optional package (an extra) missing: say which to install
        friendly: ImportError | None = (
            exc
            if isinstance(exc, MissingDependencyError)
            else missing_extra(exc, f"emorec {args.command}")
        )
        if args.debug or friendly is None:
            raise
        print(f"emorec: error: {friendly}", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"emorec: error: {message}", file=sys.stderr)
        return 2
    finally:
        _native.SHOW = shown
