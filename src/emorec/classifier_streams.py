"""Streaming predictions of :class:`~emorec.EmotionClassifier`: collections, folders and
videos (``predict_iter``, ``predict_folder``, ``predict_video``).

:class:`StreamingPredictions` is one of the classifier's bases, as Keras's ``Model`` takes
``fit`` and ``predict`` from its ``Trainer`` class in a module of their own: the methods are
the classifier's, documented there; they run the classifier's two stages
(:meth:`~emorec.EmotionClassifier.prepare` on worker threads,
:meth:`~emorec.EmotionClassifier.classify` by chunks) through :mod:`emorec.streaming`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .images import ChannelOrder
from .inference import TTA, tta_mode
from .predictions import FacePrediction, FramePrediction, SkippedImage
from .sources import expand_sources
from .streaming import stream, video_stream

if TYPE_CHECKING:
    from .pipeline import PreparedImage

__all__ = ["StreamingPredictions"]


class StreamingPredictions:
    """The streaming methods of :class:`~emorec.EmotionClassifier` (its base class)."""

    tta: TTA
    labels: tuple[str, ...]
    max_pixels: int | None

    # the classifier's two stages (defined by EmotionClassifier)
    prepare: Callable[..., PreparedImage]
    classify: Callable[..., list[list[FacePrediction] | SkippedImage]]

    def predict_iter(
        self,
        images: Any,
        *,
        detect_faces: bool | Literal["auto"] = "auto",
        errors: Literal["raise", "skip"] = "raise",
        tta: TTA | None = None,
        channel_order: ChannelOrder = "rgb",
        pattern: str = "*",
        recursive: bool = False,
        chunk_size: int = 32,
        workers: int | None = None,
    ) -> Iterator[tuple[str, list[FacePrediction] | SkippedImage]]:
        """Predict over a collection, streaming: yields ``(source, faces)`` in input order.

        Decoding and face detection run on ``workers`` threads while the model classifies
        the faces of ``chunk_size`` images in one batched call; at most ``3 * chunk_size``
        images are in flight (their face crops, not their pixels), so memory stays bounded
        however long the collection is.

        Parameters
        ----------
        images : path, folder, glob, image, or an iterable of them
            Expanded by :func:`emorec.sources.expand_sources` (folders and globs give their
            image files, sorted; ``pattern`` and ``recursive`` apply to them); any iterable
            works, a generator included, and is read as the results are consumed.
        detect_faces, errors, tta, channel_order
            As for :meth:`predict`; with ``errors="skip"`` an unreadable item yields a
            :class:`SkippedImage`, with ``"raise"`` its error is raised when its turn comes
            (the results before it have been yielded).
        chunk_size : int
            Images classified together.
        workers : int, optional
            Threads that decode and detect (default: the CPU count, at most 4). emorec's
            detectors are safe to share between threads; pass ``workers=1`` for a detector
            of your own that is not.

        Yields
        ------
        (str, list of FacePrediction or SkippedImage)
            The source (the path, or ``<type #index>`` for an in-memory image) and its result.

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> crops = (np.full((48, 48), v, np.uint8) for v in (0, 128, 255))  # any iterable
        >>> [(source, len(faces)) for source, faces in clf.predict_iter(crops)]
        [('<ndarray #0>', 1), ('<ndarray #1>', 1), ('<ndarray #2>', 1)]
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'skip'")
        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size!r}; expected an int of at least 1")
        mode = self.tta if tta is None else tta_mode(tta)
        threads = workers if workers is not None else min(4, os.cpu_count() or 1)
        sources = enumerate(expand_sources(images, pattern=pattern, recursive=recursive))
        prepare = partial(
            self.prepare,
            detect_faces=detect_faces,
            channel_order=channel_order,
            skip=errors == "skip",
        )
        classify = partial(self.classify, tta=mode)
        # checked now, not at the first next(): the stream below is a generator
        return stream(sources, prepare, classify, chunk_size=chunk_size, threads=threads)

    def predict_video(
        self,
        video: str | os.PathLike[str] | int,
        *,
        every: int | None = None,
        fps: float | None = None,
        start: int = 0,
        smooth: int = 1,
        iou_threshold: float = 0.3,
        max_age: int = 5,
        first_track: int = 1,
        known_tracks: Mapping[int, Sequence[tuple[Sequence[float], int]]] | None = None,
        annotate: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        detect_faces: bool | Literal["auto"] = "auto",
        tta: TTA | None = None,
        chunk_size: int | None = None,
        workers: int | None = None,
    ) -> Generator[FramePrediction, None, None]:
        """Predict over the frames of a video file or a camera, streaming, with face tracks.

        Frames are decoded in order on this thread and their faces found on worker threads, as
        :meth:`predict_iter` does for photos (at most ``3 * chunk_size`` frames in flight, so
        memory stays flat over any length of video). Each face gets a ``track``: faces are
        followed from frame to frame by their boxes' overlap (:class:`emorec.tracking.IoUTracker`).

        Parameters
        ----------
        video : path or int
            A video file (anything OpenCV reads: .mp4, .avi, .mov, .mkv, .webm...) or a camera
            index (0 for the first camera; stop by closing the stream or leaving the loop).
        every : int, optional
            Classify every ``every``-th frame (the others are skipped undecoded).
        fps : float, optional
            Classify about ``fps`` frames a second instead. Not both.
        start : int
            First frame index to read (a resumed job starts past the frames it has).
        smooth : int
            Average each face's probabilities over the last ``smooth`` frames of its track
            (frames classified, the current one included; 1: no smoothing). The label and
            score follow the average: a face's label then changes only when the
            expression holds for about ``smooth / 2`` frames.
        iou_threshold, max_age
            The tracker's: the least box overlap that continues a track, and the frames a
            track may go unseen before it ends.
        first_track : int
            The first track's id (a job resumed with ``start`` goes on from its ids).
        known_tracks : mapping, optional
            For a job resumed with ``start``: the faces of the frames it has, ``{frame index:
            [((x, y, width, height), track id), ...]}``. The last ``max_age + smooth`` of
            those frames are read and tracked again, not yielded, each face taking the id
            given for its box, so that the faces keep their track ids across the resume and
            their smoothing goes on: the frames from ``start`` come out as from a run that
            never stopped. ``emorec predict --resume`` passes the rows of its file.
        annotate : path, optional
            Write a copy of the frames classified, faces boxed with track and emotion, to
            this video (.mp4, .m4v, .mov, .mkv or .avi), at the rate they were read. It
            appears when the stream ends (also when it is closed early); an error drops it.
        overwrite : bool
            Replace an existing ``annotate`` file.
        detect_faces, tta
            As for :meth:`predict`.
        chunk_size, workers
            Frames classified together (default 8 for a file; 1 for a camera, so that each
            frame comes out as soon as it is classified), and threads that decode and detect.

        Yields
        ------
        FramePrediction
            The frame's index and time (seconds) and its faces, in frame order.

        Raises
        ------
        FileNotFoundError, emorec.video.VideoError
            When there is no such video or OpenCV cannot read it (raised by the call).

        Examples
        --------
        >>> import os, tempfile, numpy as np
        >>> from emorec import EmotionClassifier
        >>> from emorec.video import VideoWriter
        >>> path = os.path.join(tempfile.mkdtemp(), "blank.mp4")
        >>> with VideoWriter(path, fps=10) as out:  # ten blank frames
        ...     for _ in range(10):
        ...         out.write(np.zeros((120, 160, 3), np.uint8))
        >>> clf = EmotionClassifier.load()
        >>> [(f.frame, f.time, len(f.faces)) for f in clf.predict_video(path, every=5)]
        [(0, 0.0, 0), (5, 0.5, 0)]
        """
        from .tracking import IoUTracker
        from .video import VideoWriter, read_frames

        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size={chunk_size!r}; expected an int of at least 1")
        mode = self.tta if tta is None else tta_mode(tta)
        tracker = IoUTracker(
            iou_threshold=iou_threshold, max_age=max_age, smooth=smooth, first_id=first_track
        )
        threads = workers if workers is not None else min(4, os.cpu_count() or 1)
        replay = sorted(f for f in known_tracks or () if f < start)[-(max_age + smooth) :]
        reader = read_frames(
            video,
            every=every,
            fps=fps,
            start=replay[0] if replay else start,
            max_pixels=self.max_pixels,
        )
        try:
            writer = (
                None
                if annotate is None
                else VideoWriter(annotate, fps=reader.rate, overwrite=overwrite)
            )
        except BaseException:
            reader.close()
            raise
        chunk = chunk_size if chunk_size is not None else 1 if reader.camera else 8
        prepare = partial(self.prepare, detect_faces=detect_faces, channel_order="rgb")
        classify = partial(self.classify, tta=mode)
        return video_stream(
            reader,
            tracker,
            writer,
            prepare,
            classify,
            self.labels,
            chunk_size=chunk,
            threads=threads,
            start=start,
            known=known_tracks,
        )

    def predict_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        pattern: str = "*",
        recursive: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[str, list[FacePrediction] | SkippedImage]]:
        """:meth:`predict_iter` over the image files of ``folder`` (sorted; ``pattern`` filters
        the names, e.g. ``"*.jpg"``; ``recursive`` includes sub-folders).

        Raises
        ------
        NotADirectoryError
            If ``folder`` is not a folder.

        Examples
        --------
        >>> import tempfile
        >>> from emorec import EmotionClassifier
        >>> list(EmotionClassifier.load().predict_folder(tempfile.mkdtemp()))  # empty folder
        []
        """
        if not Path(folder).is_dir():
            raise NotADirectoryError(f"{folder}: not a folder")
        return self.predict_iter(folder, pattern=pattern, recursive=recursive, **kwargs)
