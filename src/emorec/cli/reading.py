"""The options of the commands that read a dataset, and the reading itself."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_reading_arguments", "data_source", "image_size", "read_dataset"]


def read_dataset(path: str, args: argparse.Namespace) -> Any:
    from ..data import EmotionDataset

    p = Path(path)
    kwargs = {"progress_bar": None}
    ferplus = getattr(args, "ferplus", None)
    is_table = p.suffix.lower() == ".csv" or p.name.lower().endswith((".tar.gz", ".tgz", ".tar"))
    from ..data.shard_files import MANIFEST

    is_shards = "://" in path or (p.is_dir() and (p / MANIFEST).is_file())
    if is_shards:  # written by EmotionDataset.to_shards (FER+ targets, if any, are inside)
        if ferplus is not None:
            raise ValueError(
                f"--ferplus with {path}: shards carry the FER+ votes they were written with; "
                "leave --ferplus out"
            )
        return EmotionDataset.from_shards(path)
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
        image_size=image_size(getattr(args, "image_size", None)),
        **kwargs,
    )


def image_size(text: str | None) -> tuple[int, int] | None:
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


def data_source(args: argparse.Namespace) -> str:
    """The data as the run's config and card record it: the path, and FER+'s mode if read."""
    if getattr(args, "ferplus", None) is None:
        return str(args.data)
    votes = Path(args.data).parent / "fer2013new.csv" if args.ferplus == "" else args.ferplus
    extra = ", contempt" if args.contempt else ""
    return f"{args.data} + FER+ {Path(votes).name} ({args.ferplus_mode}{extra})"


def add_reading_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the commands that read a dataset (:func:`read_dataset` takes them)."""
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
