"""The streaming engines behind :meth:`~emorec.EmotionClassifier.predict_iter` and
:meth:`~emorec.EmotionClassifier.predict_video`.

:func:`stream` runs a collection through the two steps the classifier gives it: ``prepare``
(decode one image and find its faces), on a pool of worker threads, and ``classify`` (the
faces of a chunk of images in one batched model call), on the caller's thread; it yields the
results in input order. :func:`video_stream` feeds the frames of a video through
:func:`stream` in order, follows the faces from frame to frame (:mod:`emorec.tracking`),
smooths their probabilities over their tracks and can write an annotated copy.

Memory is bounded however long the input: at most ``3 * chunk_size`` images are in flight
(one chunk being classified, two being decoded and searched for faces), and an image once
prepared is held as its face crops, not its pixels. The input is read only as results are
consumed, so a generator works.

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> from emorec.streaming import stream
>>> def prepare(image, index):  # the record: its source (and its face crops)
...     return SimpleNamespace(source=f"#{index}", crops=np.zeros((1, 48, 48, 1), np.uint8))
>>> def classify(prepared):  # one result per image: here, no faces
...     return [[] for _ in prepared]
>>> list(stream(enumerate("abc"), prepare, classify, chunk_size=2, threads=2))
[('#0', []), ('#1', []), ('#2', [])]
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from .predictions import FacePrediction, FramePrediction, SkippedImage

if TYPE_CHECKING:
    from .tracking import IoUTracker
    from .video import VideoReader, VideoWriter

__all__ = ["Record", "stream", "video_stream"]


class Record(Protocol):
    """What ``prepare`` returns: at least the image's source (its path, or ``<type #index>``
    for an in-memory image); :class:`emorec.pipeline.PreparedImage` is one.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from emorec.streaming import Record
    >>> record: Record = SimpleNamespace(source="photos/a.jpg")
    >>> record.source
    'photos/a.jpg'
    """

    source: str


R = TypeVar("R", bound=Record)


def stream(
    sources: Iterator[tuple[int, Any]],
    prepare: Callable[[Any, int], R],
    classify: Callable[[Sequence[R]], list[list[FacePrediction] | SkippedImage]],
    *,
    chunk_size: int,
    threads: int,
) -> Generator[tuple[str, list[FacePrediction] | SkippedImage], None, None]:
    """Prepare images on worker threads and classify them by chunks: ``(source, result)``
    in input order, with at most three chunks in flight (one classified, two decoding).

    Parameters
    ----------
    sources : iterator of (int, image)
        The images and their indices, read as the results are consumed.
    prepare : callable
        ``prepare(image, index)`` gives the image's record (a :class:`Record`, holding its
        face crops); it runs on the worker threads. What it raises is raised here once the results
        before its image have been yielded (to skip bad images, return a record instead).
    classify : callable
        ``classify(prepared)`` gives one result per prepared image, in one batched call.
    chunk_size : int
        Images classified together.
    threads : int
        Worker threads (at least one is used).

    Yields
    ------
    (str, list of FacePrediction or SkippedImage)
        Each image's source and result. An error of ``sources`` itself (a glob that matches
        nothing) is raised after the results of the images before it.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from emorec.streaming import stream
    >>> def prepare(image, index):  # runs on a worker thread
    ...     return SimpleNamespace(source=f"#{index}", crops=np.zeros((0, 48, 48, 1), np.uint8))
    >>> def classify(prepared):  # one batched call a chunk; here every image has no face
    ...     return [[] for _ in prepared]
    >>> [s for s, _ in stream(enumerate(range(5)), prepare, classify, chunk_size=2, threads=2)]
    ['#0', '#1', '#2', '#3', '#4']
    """
    pool = ThreadPoolExecutor(max(1, int(threads)), thread_name_prefix="emorec-predict")
    pending: deque[Future[R]] = deque()
    source_error: list[BaseException] = []  # the inputs themselves failed (a bad glob)

    def submit() -> None:
        try:
            for index, image in itertools.islice(sources, 2 * chunk_size - len(pending)):
                pending.append(pool.submit(prepare, image, index))
        except Exception as exc:  # raised once the items before it are yielded
            source_error.append(exc)

    try:
        submit()
        while pending:
            chunk, failed = [], None
            for _ in range(min(chunk_size, len(pending))):
                try:
                    chunk.append(pending.popleft().result())
                except Exception as exc:  # errors="raise": after the items before it
                    failed = exc
                    break
            if failed is None and not source_error:
                submit()  # the next chunk decodes while this one is classified
            for item, result in zip(chunk, classify(chunk)):
                yield item.source, result
            if failed is not None:
                raise failed
        if source_error:
            raise source_error[0]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def video_stream(
    reader: VideoReader,
    tracker: IoUTracker,
    writer: VideoWriter | None,
    prepare: Callable[[Any, int], R],
    classify: Callable[[Sequence[R]], list[list[FacePrediction] | SkippedImage]],
    labels: Sequence[str],
    *,
    chunk_size: int,
    threads: int,
    start: int = 0,
    known: Mapping[int, Sequence[tuple[Sequence[float], int]]] | None = None,
) -> Generator[FramePrediction, None, None]:
    """The frames of ``reader`` through :func:`stream`, in order: a :class:`FramePrediction`
    per frame, its faces tracked and smoothed by ``tracker``.

    Frames before ``start`` (a resumed job's, read again) are tracked but not yielded nor
    written: each of their faces takes the track id that ``known`` gives the face with the
    most overlapping box in that frame (intersection over union at least 0.5), so that the
    tracks, their ids and their smoothing go on from ``start`` as if the job had not stopped;
    tracks ``known`` does not name get the ids from the tracker's :attr:`~emorec.tracking.
    IoUTracker.next_id` on.

    Parameters
    ----------
    reader : emorec.video.VideoReader
        The frames (closed when the stream ends, however it ends).
    tracker : emorec.tracking.IoUTracker
        Gives each face its track and smooths its probabilities over the track.
    writer : emorec.video.VideoWriter, optional
        Receives each frame classified, annotated; closed when the stream ends or is closed
        early, aborted (no file) when it fails.
    prepare, classify
        As for :func:`stream`; ``prepare`` takes RGB frames and raises on a bad one.
    labels : sequence of str
        The classifier's labels, the order of the probabilities that are smoothed.
    chunk_size, threads
        As for :func:`stream`.
    start : int
        The first frame index to yield; the frames read before it are replayed.
    known : mapping, optional
        ``{frame index: [(box, track id), ...]}`` for replayed frames, as a resumed job's rows
        have them (boxes ``(x, y, width, height)``).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from types import SimpleNamespace
    >>> from emorec.streaming import video_stream
    >>> from emorec.tracking import IoUTracker
    >>> from emorec.video import VideoReader, VideoWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.mp4")
    >>> with VideoWriter(path, fps=10) as out:
    ...     for value in range(0, 100, 10):
    ...         out.write(np.full((48, 64, 3), value, np.uint8))
    >>> def prepare(image, index):
    ...     return SimpleNamespace(source=f"#{index}", crops=np.zeros((0, 48, 48, 1), np.uint8))
    >>> frames = video_stream(
    ...     VideoReader(path, every=4), IoUTracker(), None, prepare,
    ...     lambda prepared: [[] for _ in prepared], ["happy", "sad"], chunk_size=2, threads=1)
    >>> [(f.frame, f.time, f.faces) for f in frames]
    [(0, 0.0, []), (4, 0.4, []), (8, 0.8, [])]
    """
    from .plots import annotate

    read: deque[Any] = deque()  # the frames in flight, in order (their pixels if annotating)

    def images() -> Iterator[npt.NDArray[np.uint8]]:
        for frame in reader:
            read.append(frame if writer is not None else (frame.index, frame.time))
            yield frame.image

    results = stream(enumerate(images()), prepare, classify, chunk_size=chunk_size, threads=threads)
    first_new = tracker.next_id  # replayed tracks get these ids until they take the known ones
    replaying = True
    try:
        for _, result in results:
            frame = read.popleft()
            index, at = (frame.index, frame.time) if writer is not None else frame
            if index >= start and replaying:
                replaying = False
                _end_replay(tracker, first_new)
            faces = _track_faces(tracker, result, labels)  # type: ignore[arg-type]
            if index < start:
                _take_known_ids(tracker, faces, (known or {}).get(index, ()))
                continue
            if writer is not None:
                writer.write(np.asarray(annotate(frame.image, faces)))
            yield FramePrediction(index, at, faces)
    except GeneratorExit:  # the caller stopped early: keep what was read
        results.close()
        if writer is not None:
            writer.close()
        raise
    except BaseException:
        results.close()
        if writer is not None:
            writer.abort()
        raise
    else:
        if writer is not None:
            writer.close()
    finally:
        reader.close()


def _take_known_ids(
    tracker: IoUTracker,
    faces: Sequence[FacePrediction],
    known: Sequence[tuple[Sequence[float], int]],
) -> None:
    """Renumber the tracks of a replayed frame's ``faces`` to the ids ``known`` gives their
    boxes (the best overlap at IoU >= 0.5; an id another open track holds is left alone)."""
    from .tracking import iou

    mapping: dict[int, int] = {}
    taken = set(tracker.active)
    for face in faces:
        overlaps = [(iou(face.box, box), track) for box, track in known]
        best, track = max(overlaps, default=(0.0, None))
        if track is None or best < 0.5 or face.track is None or track == face.track:
            continue
        if track not in taken and track not in mapping.values():
            mapping[face.track] = track
    tracker.renumber(mapping)


def _end_replay(tracker: IoUTracker, first_new: int) -> None:
    """After the replayed frames: the open tracks no known id named get ids from
    ``first_new`` on, and so do the tracks that start from here."""
    unnamed = [t for t in tracker.active if t >= first_new]
    tracker.renumber(
        {t: first_new + i for i, t in enumerate(unnamed)}, next_id=first_new + len(unnamed)
    )


def _track_faces(
    tracker: IoUTracker, faces: list[FacePrediction], labels: Sequence[str]
) -> list[FacePrediction]:
    """Faces with their track ids, and probabilities smoothed over their tracks."""
    if not faces:
        tracker.update([])  # the tracks age
        return []
    probs = np.array([[f.probabilities[n] for n in labels] for f in faces], np.float32)
    ids, smoothed = tracker.update_smoothed([f.box for f in faces], probs)
    out = []
    for face, track, p in zip(faces, ids, smoothed):
        k = int(p.argmax())
        out.append(
            replace(
                face,
                label=labels[k],
                score=float(p[k]),
                probabilities={n: float(v) for n, v in zip(labels, p)},
                track=track,
            )
        )
    return out
