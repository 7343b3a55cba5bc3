"""``emorec beam-predict``: the faces of a collection of files, scored on Apache Beam
(``pip install "emorec[beam]"``), through :func:`emorec.beam.predict_pipeline`.

Rows go to ``PREFIX-SSSSS-of-NNNNN.jsonl`` (or ``.parquet``); files that cannot be read go to
the dead letter, ``PREFIX-errors-SSSSS-of-NNNNN.jsonl``, and the job goes on (exit status 2
at the end, as ``emorec predict --errors skip``). Flags after ``--`` are Beam's pipeline
options, for the runner (``--runner=DataflowRunner --project=... --region=...``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from .predict import add_classifier_arguments

__all__ = ["add_beam_parser", "run", "split_pipeline_args"]

log = logging.getLogger("emorec")


def add_beam_parser(sub: Any) -> None:
    """The ``beam-predict`` subcommand and its options."""
    p = sub.add_parser(
        "beam-predict",
        help="score a collection of image files on Apache Beam (a row a face)",
        usage="emorec beam-predict PATTERN --output PREFIX [options] [-- BEAM_OPTIONS...]",
    )
    p.add_argument(
        "pattern",
        metavar="PATTERN",
        help="the files, as Beam's file systems match them ('photos/*.jpg', "
        "'gs://bucket/photos/**')",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="PREFIX",
        help="where the rows go: PREFIX-SSSSS-of-NNNNN.jsonl (or .parquet), and unreadable "
        "files to PREFIX-errors-*.jsonl",
    )
    p.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl", help="row files")
    add_classifier_arguments(
        p, model_help="bundled model name, or a model file every worker can read"
    )
    p.add_argument("--batch-size", type=int, default=32, help="the most images classified at once")
    p.add_argument(
        "--runner",
        default=None,
        help="Beam's runner (default: FnApiRunner, Beam's in-process Python runner; "
        "DataflowRunner, FlinkRunner, SparkRunner... with their options after --)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local runner: N worker processes (default: Beam's, one)",
    )
    p.set_defaults(func=run, pipeline_args=[])
    # argparse leaves what follows "--" unparsed once PATTERN is taken: split it off first
    parse = p.parse_known_args

    def parse_known_args(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        own, beam = split_pipeline_args(list(args or []))
        parsed, rest = parse(own, namespace)
        parsed.pipeline_args = beam
        return parsed, rest

    p.parse_known_args = parse_known_args


def split_pipeline_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The command's own arguments, and Beam's: those after the first ``--``.

    Examples
    --------
    >>> from emorec.cli.beam import split_pipeline_args
    >>> split_pipeline_args(["a/*.jpg", "--output", "o", "--", "--runner=FlinkRunner"])
    (['a/*.jpg', '--output', 'o'], ['--runner=FlinkRunner'])
    """
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and wait; report what it did."""
    from ..beam import output_files, pipeline_options, predict_pipeline

    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}; expected 1 or more images")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}; expected 1 or more worker processes")
    if not args.debug:  # Beam logs each bundle and worker at INFO, and a warning a batch
        logging.getLogger("apache_beam").setLevel(logging.ERROR)
    detect: Any = {"auto": "auto", "yes": True, "no": False}[args.detect_faces]
    options = pipeline_options(args.pipeline_args, runner=args.runner, workers=args.workers)
    result = predict_pipeline(
        args.pattern,
        args.output,
        model=args.model,
        detector=args.detector,
        fmt=args.format,
        options=options,
        batch_size=args.batch_size,
        detect_faces=detect,
        tta=args.tta,
    )
    counts = _counters(result)
    rows, errors = output_files(args.output, args.format)
    log.info(
        "emorec beam-predict: %s images scored into %s",
        counts.get("images", "?"),
        rows,
    )
    unreadable = counts.get("unreadable", 0)
    if unreadable:
        log.warning("emorec beam-predict: %d files could not be read: see %s", unreadable, errors)
        return 2
    return 0


def _counters(result: Any) -> dict[str, int]:
    """The job's ``emorec`` counters (``images``, ``unreadable``); empty where the runner
    reports none."""
    try:
        found = result.metrics().query()["counters"]
    except (AttributeError, KeyError, NotImplementedError):
        return {}
    counts: dict[str, int] = {}
    for metric in found:
        if metric.key.metric.namespace == "emorec":
            name = metric.key.metric.name
            counts[name] = counts.get(name, 0) + int(metric.committed or metric.attempted or 0)
    return counts
