"""The ``emorec`` command line.

Subcommands::

    emorec info                          versions and where things are
    emorec dataset summary PATH          counts per split and class of a folder, .zip or .csv
    emorec download fer2013 [--csv]      download FER2013 through the Kaggle API
    emorec download ferplus              download FER+'s votes (fer2013new.csv) from GitHub
    emorec predict INPUT...              the emotion of every face in photos, folders, videos
    emorec export MODEL OUT              a model as .keras, .tflite, .onnx or a SavedModel
    emorec models                        registered architectures and bundled models
    emorec train DATA --model NAME ...   train (resumes an unfinished run by itself)
    emorec evaluate MODEL DATA --split   accuracy, macro-F1, per-class figures, confusion matrix
    emorec beam-predict PATTERN --output PREFIX   score a collection on Apache Beam

Each command lives in its own module (``emorec.cli.train`` and so on), with the function that
adds its parser and ``run(args)``. A user error (bad path, bad file, missing credentials)
prints one line to stderr and exits with status 2; ``--debug`` (before or after the command's
name) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .._optional import MissingDependencyError, missing_extra
from .._version import __version__
from ..data.ferplus_download import DownloadError
from ..data.kaggle import KaggleError
from .beam import add_beam_parser
from .dataset import add_dataset_parser
from .download import add_download_parser
from .evaluate import add_evaluate_parser
from .export import add_export_parser
from .info import add_info_parser
from .models import add_models_parser
from .predict import add_predict_parser
from .serve import add_serve_parser
from .train import add_train_parser, wants_jax

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
    "beam-predict": "emorec beam-predict 'photos/*.jpg' --output out/emotions --workers 2\n"
    "  emorec beam-predict 'gs://bucket/photos/*' --output gs://bucket/out/emotions "
    "--runner DataflowRunner -- --project=my-project --region=europe-west1 "
    "--temp_location=gs://bucket/tmp",
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
    for add in (
        add_info_parser,
        add_dataset_parser,
        add_download_parser,
        add_predict_parser,
        add_export_parser,
        add_models_parser,
        add_train_parser,
        add_evaluate_parser,
        add_serve_parser,
        add_beam_parser,
    ):
        add(sub)
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
        if args.command == "train" and wants_jax(args):  # before anything imports Keras
            os.environ.setdefault("KERAS_BACKEND", "jax")
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
