"""``emorec predict``: photos, folders, globs, videos and standard input, to text or rows.

Photos stream through :meth:`emorec.EmotionClassifier.predict_iter`, videos through
:meth:`~emorec.EmotionClassifier.predict_video`, in the order given; ``--output`` rows go out
as they come (:class:`emorec.results.RowWriter`), and ``--resume`` goes on from them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._files import remove_partials_of
from ..images import DEFAULT_MAX_PIXELS
from .inputs import (
    STDIN_NAMES,
    as_recorded,
    input_names,
    is_video_input,
    photo_sources,
    segments,
)
from .outputs import annotation_targets, check_output_path, check_timeline

T = TypeVar("T")

__all__ = ["add_classifier_arguments", "add_predict_parser", "run"]


def add_classifier_arguments(p: Any, *, model_help: str) -> None:
    """The options that choose the classifier and how it finds faces: ``--model``,
    ``--detector``, ``--detect-faces``, ``--tta`` (``predict`` and ``beam-predict``)."""
    p.add_argument("--model", default=None, help=model_help)
    p.add_argument("--detector", default="default", help="face detector (blazeface, haar, ...)")
    p.add_argument(
        "--detect-faces",
        choices=["auto", "yes", "no"],
        default="auto",
        help="auto: small images (<= 96 px) are face crops; no: whole image",
    )
    p.add_argument(
        "--tta",
        choices=["none", "flip", "shift"],
        default=None,
        help="test-time augmentation (default: the model card's)",
    )


def add_predict_parser(sub: Any) -> None:
    """The ``predict`` subcommand and its options."""
    p = sub.add_parser("predict", help="the emotion of every face in photos and videos")
    p.add_argument(
        "photos",
        nargs="+",
        metavar="INPUT",
        help="image files, video files (.mp4, .avi, .mov, .mkv, .webm...), folders and globs "
        "('photos/*.jpg') of them, or - for a photo on standard input",
    )
    add_classifier_arguments(
        p, model_help="bundled model name, or a .tflite, .onnx, .keras or .h5 file"
    )
    p.add_argument(
        "--annotate",
        metavar="OUT.jpg|OUT.mp4|DIR",
        help="draw boxes and emotions: a file for one input, else a folder that mirrors the "
        "inputs' folders (a video's annotated copy is a video)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the results to FILE: .csv, .jsonl or .parquet (a row a face, written as "
        "they come) or .json (one document at the end)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted job from its --output .csv/.jsonl: photos and video "
        "frames already there are not done again",
    )
    p.add_argument("--recursive", action="store_true", help="look into sub-folders of folders")
    sampling = p.add_mutually_exclusive_group()
    sampling.add_argument(
        "--every", type=int, metavar="N", help="videos: classify every N-th frame (default: all)"
    )
    sampling.add_argument(
        "--fps", type=float, metavar="F", help="videos: classify about F frames a second"
    )
    p.add_argument(
        "--smooth",
        type=int,
        default=1,
        metavar="N",
        help="videos: average each face's probabilities over the last N frames classified "
        "of its track (1: none)",
    )
    p.add_argument(
        "--timeline",
        metavar="IMAGE",
        help="videos: draw each face track's emotions over time into IMAGE (.png, .svg, "
        ".pdf; one video)",
    )
    p.add_argument(
        "--errors",
        choices=["raise", "skip"],
        default="raise",
        help="on an unreadable photo: stop (default), or report it and go on (exit status 2 "
        "at the end)",
    )
    p.add_argument(  # the earlier spelling, still taken
        "--skip-errors", action="store_const", const="skip", dest="errors", help=argparse.SUPPRESS
    )
    p.add_argument(
        "--max-pixels",
        type=_max_pixels,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse photos and video frames of more than N pixels, unread (default "
        "%(default)s, Pillow's warning level; 0: no limit)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def _max_pixels(text: str) -> int:
    """``--max-pixels``: a number of pixels, 0 for no limit."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a number of pixels (e.g. 150000000), or 0 for no limit"
        )
    return value


class _Job:
    """One ``emorec predict``: its inputs, where results go, and what was found."""

    def __init__(self, args: argparse.Namespace, names: list[str]):
        from ..classifier import EmotionClassifier
        from ..results import RowWriter, output_format

        self.args = args
        self.names = names
        self.out = Path(args.output) if args.output else None
        self.fmt = None
        if self.out is not None:
            try:
                self.fmt = "json" if self.out.suffix.lower() == ".json" else output_format(self.out)
            except ValueError as exc:  # the command line also writes one JSON document
                raise ValueError(
                    f"{exc}, or .json (one JSON document, written at the end)"
                ) from None
            check_output_path(self.out, "--output")
            if args.resume and self.fmt not in ("csv", "jsonl"):
                raise ValueError(
                    f"--resume {self.out}: resuming needs a .csv or .jsonl output file"
                )
            if self.out.exists() and not (args.overwrite or args.resume):
                more = ", or --resume to continue it" if self.fmt in ("csv", "jsonl") else ""
                raise FileExistsError(f"{self.out} exists; pass --overwrite to replace it{more}")
        elif args.resume:
            raise ValueError("--resume needs --output FILE (.csv or .jsonl), the file to resume")
        self.targets = annotation_targets([Path(n) for n in names], args.annotate)
        inputs = {Path(n).resolve() for n in names if n not in STDIN_NAMES}
        for target in self.targets:
            if target.resolve() in inputs:
                raise ValueError(
                    f"--annotate {args.annotate}: {target}, an annotated copy, would replace "
                    "an input; annotate into another file or folder"
                )
        if self.out is not None and self.out.resolve() in inputs:
            raise ValueError(f"--output {self.out}: an input; write the rows to another file")
        self.clf = EmotionClassifier.load(
            args.model, detector=args.detector, tta=args.tta, max_pixels=args.max_pixels or None
        )
        self.writer = (
            RowWriter(self.out, self.clf.labels, resume=args.resume, overwrite=args.overwrite)
            if self.out is not None and self.fmt != "json"
            else None
        )
        self.labels = as_recorded(
            ["<stdin>" if n in STDIN_NAMES else n for n in names],
            self.writer.named if self.writer is not None else set(),
        )
        self.detect: Any = {"auto": "auto", "yes": True, "no": False}[args.detect_faces]
        self.quiet_stdout = self.out is not None or args.json  # results go to the file or JSON
        self.show_bar = bool(getattr(sys.stderr, "isatty", lambda: False)()) and (
            self.quiet_stdout or not sys.stdout.isatty()
        )
        self.payload: list[dict[str, Any]] = []
        self.failed = self.faces = self.done_inputs = 0

    def todo(self) -> list[int]:
        """The inputs still to do: all but the photos the resumed file has (its videos go
        on from their last frame there)."""
        done = self.writer.done if self.writer is not None else set()
        frames = self.writer.frames if self.writer is not None else {}
        todo = [i for i, label in enumerate(self.labels) if label not in done or label in frames]
        for i in todo:  # before any work: a video goes on under the sampling it began with
            if self.labels[i] in frames:
                self._check_sampling(self.labels[i])
        # a resumed job redoes its annotations of the inputs still to do (the last was cut)
        clash = [str(self.targets[i]) for i in todo if self.targets and self.targets[i].exists()]
        if clash and not (self.args.overwrite or self.args.resume):
            raise FileExistsError(f"{clash[0]} exists; pass --overwrite to replace it")
        for i in todo if self.targets else ():
            self.targets[i].parent.mkdir(parents=True, exist_ok=True)
        # the hidden temporaries of writes a kill cut short (an annotated video's among them)
        remove_partials_of([*self.targets, *(p for p in (self.out, self.args.timeline) if p)])
        if done:
            print(
                f"resuming: {len(self.names) - len(todo)} of {len(self.names)} inputs are done "
                f"in {self.out}" + (f", {len(frames)} video(s) in part" if frames else ""),
                file=sys.stderr,
            )
        return todo

    def _check_sampling(self, label: str) -> None:
        """Refuse to resume a video whose frames in the file are not those this run's
        ``--every`` / ``--fps`` reads (over the file's last frames): its rows would mix two
        samplings."""
        from ..video import VideoError, read_frames

        assert self.writer is not None
        had = set(self.writer.known_tracks.get(label, {}))
        if not had:
            return
        try:
            reader = read_frames(label, every=self.args.every, fps=self.args.fps)
        except (OSError, VideoError):
            return  # unreadable now: the video's turn reports it (under --errors)
        try:
            odd = next(
                (f for f in range(min(had), max(had) + 1) if reader.keeps(f) != (f in had)),
                None,
            )
        finally:
            reader.close()
        if odd is None:
            return
        given = "every frame (no --every or --fps)"
        if self.args.every:
            given = f"--every {self.args.every}"
        elif self.args.fps:
            given = f"--fps {self.args.fps:g}"
        where, would = ("has", "would not read") if odd in had else ("skips", "reads")
        raise ValueError(
            f"--resume {self.out}: the file {where} frame {odd} of {label}, which {given} "
            f"{would}: the job began with another --every or --fps; resume with the "
            "options it began with, or write another file"
        )

    def bar(self, items: Iterable[T], total: int | None, desc: str, unit: str) -> Iterable[T]:
        """``items``, with a tqdm progress bar on stderr when it is a terminal."""
        from .._progress import progress

        return progress(items, total, desc, unit, enabled=self.show_bar)

    def photos(self, todo: list[int]) -> None:
        """Predict a run of photos, streamed."""
        from .._files import atomic_file
        from ..classifier import SkippedImage
        from ..plots import annotate
        from ..results import result_rows

        sources = photo_sources([self.names[i] for i in todo])
        stream = self.clf.predict_iter(
            (s if isinstance(s, bytes) else str(s) for s in sources),
            detect_faces=self.detect,
            errors=self.args.errors,
        )
        for k, (_, result) in enumerate(self.bar(stream, len(todo), "photos", "photo")):
            index = todo[k]
            label = self.labels[index]
            if self.writer is not None:
                self.writer.write(result_rows(label, result, self.clf.labels))
            if self.fmt == "json" or self.args.json:
                self.payload.append(
                    {"source": label, "error": result.error}
                    if isinstance(result, SkippedImage)
                    else {"source": label, "faces": [f.to_dict() for f in result]}
                )
            self.done_inputs += 1
            if isinstance(result, SkippedImage):
                self.failed += 1
                print(f"emorec: error: {_error_line(label, result.error)}", file=sys.stderr)
                continue
            self.faces += len(result)
            if self.targets:
                with atomic_file(self.targets[index]) as tmp:
                    annotate(sources[k], result).save(tmp)
            if not self.quiet_stdout:
                _print_faces(label, result)

    def video(self, index: int) -> None:
        """Predict the frames of one video, streamed, going on from a resumed file."""
        import warnings

        from ..classifier import SkippedImage
        from ..results import result_rows
        from ..video import VideoError

        label = self.labels[index]
        start, first_track = 0, 1
        target = self.targets[index] if self.targets else None
        self.resumed = False
        if self.writer is not None and label in self.writer.frames:
            self.resumed = True
            start = self.writer.frames[label] + 1
            first_track = self.writer.tracks.get(label, 0) + 1
            if target is not None and target.exists() and not self.args.overwrite:
                warnings.warn(  # an earlier run's copy is never replaced by part of one
                    f"{target}: kept as it is; {label} resumes at frame {start} (pass "
                    "--overwrite to replace it with the frames from there on)",
                    stacklevel=1,
                )
                target = None
            elif target is not None:
                warnings.warn(
                    f"{target}: {label} resumes at frame {start}; its annotated copy shows "
                    "the frames from there on only",
                    stacklevel=1,
                )
        try:
            frames = self._video_frames(index, label, start, first_track, target)
        except VideoError as exc:
            if self.args.errors != "skip":
                raise
            self.failed += 1
            self.done_inputs += 1
            error = SkippedImage(index, label, str(exc))
            if self.writer is not None:
                self.writer.write(result_rows(label, error, self.clf.labels))
            if self.fmt == "json" or self.args.json:
                self.payload.append({"source": label, "error": error.error})
            print(f"emorec: error: {exc}", file=sys.stderr)
            return
        shown: list[dict[str, Any]] = []
        kept: list[Any] = []  # for --timeline
        tracks: set[int] = set()
        count = 0
        try:
            total = self._expected(label, start) if self.show_bar else 0
            for frame in self.bar(frames, total or None, "frames", "frame"):
                count += 1
                if self.writer is not None:
                    self.writer.write(result_rows(label, frame, self.clf.labels))
                if self.fmt == "json" or self.args.json:
                    shown.append(frame.to_dict())
                if self.args.timeline:
                    kept.append(frame)
                self.faces += len(frame.faces)
                tracks.update(f.track for f in frame.faces if f.track is not None)
                if not self.quiet_stdout:
                    where = f"{label} frame {frame.frame} ({frame.time:.2f} s)"
                    _print_faces(where, frame.faces, empty=False)
        except BaseException as exc:  # a failure here (a full disk, Ctrl-C): no annotated copy
            with contextlib.suppress(BaseException):
                frames.throw(exc)
            raise
        finally:
            frames.close()
        if self.fmt == "json" or self.args.json:
            self.payload.append({"source": label, "frames": shown})
        if self.args.timeline:
            self._timeline(label, kept)
        self.done_inputs += 1
        print(
            f"{label}: {count} frames from frame {start}, {len(tracks)} face tracks",
            file=sys.stderr,
        )

    def _video_frames(
        self, index: int, label: str, start: int, first_track: int, target: Path | None
    ) -> Any:
        """The stream of one video's frames (opened now: an unreadable file raises here)."""
        return self.clf.predict_video(
            label,
            every=self.args.every,
            fps=self.args.fps,
            start=start,
            smooth=self.args.smooth,
            first_track=first_track,
            known_tracks=(
                self.writer.known_tracks.get(label) if self.writer and self.resumed else None
            ),
            annotate=target,
            overwrite=self.args.overwrite or self.resumed,
            detect_faces=self.detect,
        )

    def _timeline(self, label: str, frames: list[Any]) -> None:
        from .._files import atomic_file
        from ..plots import plot_timeline

        if self.resumed and Path(self.args.timeline).exists() and not self.args.overwrite:
            print(
                f"emorec: warning: {self.args.timeline}: kept as it is ({label} was resumed; "
                "pass --overwrite to draw the frames done now)",
                file=sys.stderr,
            )
            return
        if not any(frame.faces for frame in frames):
            print(f"emorec: warning: {label}: no face found; no timeline", file=sys.stderr)
            return
        with atomic_file(self.args.timeline) as tmp:
            plot_timeline(frames, tmp, title=Path(label).name)
        print(f"wrote {self.args.timeline}", file=sys.stderr)

    def _expected(self, label: str, start: int) -> int:
        from ..video import read_frames

        with read_frames(label, every=self.args.every, fps=self.args.fps, start=start) as r:
            return r.expected

    def finish(self, todo: list[int]) -> int:
        from .._files import write_atomic

        if self.fmt == "json" and self.out is not None:
            write_atomic(self.out, json.dumps(self.payload, indent=2))
        if self.args.json:
            print(json.dumps(self.payload, indent=2))
        for target in (self.targets[i] for i in todo) if self.targets else ():
            if target.exists():
                print(f"wrote {target}", file=sys.stderr)
        if self.out is not None:
            print(
                f"wrote {self.out}: {self.done_inputs} inputs, {self.faces} faces"
                + (f", {self.failed} unreadable" if self.failed else ""),
                file=sys.stderr,
            )
        return 2 if self.failed else 0


def run(args: argparse.Namespace) -> int:
    """Run ``emorec predict``; the exit status (2 when a photo could not be read)."""
    names = input_names(args)
    check_timeline(args, sum(map(is_video_input, names)))
    job = _Job(args, names)
    try:
        todo = job.todo()
        for is_video, indices in segments(job.names, todo):
            if is_video:
                job.video(indices[0])
            else:
                job.photos(indices)
    finally:
        if job.writer is not None:
            job.writer.close()
    return job.finish(todo)


def _error_line(label: str, error: str) -> str:
    """An input's error, named once: image errors begin with the name they read (standard
    input's as ``<bytes>``)."""
    for named in (f"{label}: ", "<bytes>: "):
        if error.startswith(named):
            error = error[len(named) :]
            break
    return f"{label}: {error}"


def _print_faces(label: str, faces: Sequence[Any], *, empty: bool = True) -> None:
    if not faces and empty:
        print(f"{label}: no face found")
    for n, face in enumerate(faces, 1):
        others = sorted(face.probabilities.items(), key=lambda kv: -kv[1])[1:3]
        rest = ", ".join(f"{k} {v:.0%}" for k, v in others)
        x, y, w, h = face.box
        where = f"(x={x}, y={y}, w={w}, h={h})"
        who = f"track {face.track}" if face.track is not None else f"face {n}"
        print(f"{label}: {who} at {where}: {face.label} {face.score:.0%} ({rest})")
