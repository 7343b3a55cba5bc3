"""``emorec export``: a model as a Keras, TFLite or ONNX file, or a TensorFlow SavedModel.

The command line face of :meth:`emorec.EmotionClassifier.export`: the same formats, the same
checks (a suffix that disagrees with ``--format`` is an error; each TFLite and ONNX file is run
beside the Keras model on 256 crops before it is kept), and the model card travels with the
file, so ``EmotionClassifier.load(OUT)`` and ``emorec predict --model OUT`` need no other
setting.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_export_parser", "run"]


def add_export_parser(sub: Any) -> None:
    """The ``export`` subcommand and its options."""
    p = sub.add_parser(
        "export",
        help="write a model as a .keras, .tflite or .onnx file or a SavedModel folder",
    )
    p.add_argument("model", help="a bundled model's name or a .keras file")
    p.add_argument("output", help="the file (.keras, .tflite, .onnx) or SavedModel folder")
    p.add_argument(
        "--format",
        choices=["keras", "tflite", "onnx", "saved_model"],
        default=None,
        help="default: from OUTPUT's suffix (a name without one is a SavedModel folder)",
    )
    p.add_argument(
        "--quantize",
        choices=["int8", "float16"],
        default=None,
        help="TFLite only: int8 (weights and activations; needs --representative) or float16",
    )
    p.add_argument(
        "--representative",
        metavar="DATA",
        help="for int8: a dataset (class folders, a .zip, fer2013.csv) whose training images "
        "calibrate the activation ranges",
    )
    p.add_argument(
        "--representative-count",
        type=int,
        default=500,
        metavar="N",
        help="training images drawn (seed 0) from --representative (default 500)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--json", action="store_true", help="print the exported file's record as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; print where, how large, and how close to the Keras model."""
    import numpy as np

    from ..classifier import EmotionClassifier
    from ..export import check_target, format_of
    from ..models.card import ModelCard

    fmt = args.format or format_of(args.output)
    check_target(args.output, fmt)  # before loading anything
    if args.quantize == "int8" and not args.representative:
        raise ValueError("--quantize int8 needs --representative DATA to calibrate on")
    if args.representative_count < 1:
        raise ValueError(f"--representative-count {args.representative_count}; expected >= 1")
    crops = None
    if args.representative:
        from .reading import read_dataset

        train = read_dataset(args.representative, args)["train"]
        rng = np.random.default_rng(0)
        count = min(args.representative_count, len(train))
        crops = np.asarray(train.images)[np.sort(rng.choice(len(train), count, replace=False))]
    clf = EmotionClassifier.load(args.model)
    out = clf.export(
        args.output,
        fmt,
        quantize=args.quantize,
        representative=crops,
        overwrite=args.overwrite,
    )
    record: dict[str, Any] = {"output": str(out), "format": fmt}
    if out.is_file():
        record["bytes"] = out.stat().st_size
    if fmt in ("tflite", "onnx"):
        exported = ModelCard.read(out).extra.get("exported", {})
        record["quantize"] = exported.get("quantize")
        record["check"] = exported.get("check")
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    size = f" ({record['bytes'] / 1e6:.2f} MB)" if "bytes" in record else ""
    print(f"wrote {out}{size}, format {fmt}")
    check = record.get("check")
    if check:
        print(
            f"checked against the Keras model on {check['crops']} crops: max |difference| "
            f"{check['max_abs_difference']:.1e}, top label agrees on "
            f"{check['argmax_agreement']:.1%}"
        )
    return 0
