"""Video in and out: frames read from a file or a camera, and annotated videos written.

:func:`read_frames` reads a video file (anything OpenCV's FFmpeg reads: ``.mp4``, ``.avi``,
``.mov``, ``.mkv``, ``.webm``...) or a camera (an ``int`` index) with
:class:`cv2.VideoCapture`, every frame or every ``every``-th frame or ``fps`` frames a
second; the frames skipped are not decoded (``grab`` without ``retrieve``).
:class:`VideoWriter` writes frames to a new video through a temporary file renamed into
place at the end, so that a kill leaves no half video under the target's name.
:meth:`emorec.EmotionClassifier.predict_video` puts them together with the face tracker.

Examples
--------
>>> import tempfile, os, numpy as np
>>> from emorec.video import VideoWriter, read_frames, video_info
>>> path = os.path.join(tempfile.mkdtemp(), "grey.mp4")
>>> with VideoWriter(path, fps=10) as out:
...     for value in range(0, 250, 10):
...         out.write(np.full((48, 64, 3), value, np.uint8))
>>> video_info(path).frames, video_info(path).fps
(25, 10.0)
>>> frames = read_frames(path, fps=4)
>>> frames.expected, [(f.index, f.time) for f in frames][:3]
(10, [(0, 0.0), (3, 0.3), (5, 0.5)])
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ._files import current_umask, partial_affixes, replace_durably
from ._native import quiet_ffmpeg, quiet_native
from ._optional import require
from .images import DEFAULT_MAX_PIXELS

__all__ = [
    "VIDEO_EXTENSIONS",
    "WRITABLE_VIDEO_EXTENSIONS",
    "Frame",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "is_video",
    "read_frames",
    "video_info",
]

#: Lower-case suffixes taken to be videos (``emorec predict`` sends them to the video path).
VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp"}
)

#: The codecs :class:`VideoWriter` tries for each suffix it can write, in order (FourCC): the
#: first the installed OpenCV's FFmpeg can encode is used (the ``opencv-python-headless``
#: wheels have VP9 and VP8 but no H.264).
_CODECS: Final[dict[str, tuple[str, ...]]] = {
    ".mp4": ("avc1", "mp4v"),
    ".m4v": ("avc1", "mp4v"),
    ".mov": ("avc1", "mp4v"),
    ".mkv": ("VP90", "avc1", "mp4v"),
    ".webm": ("VP90", "VP80"),
    ".avi": ("MJPG",),
}
#: The codecs browsers and notebooks play (H.264, VP9, VP8), by their FourCC.
BROWSER_CODECS: Final[frozenset[str]] = frozenset({"avc1", "VP90", "VP80"})
_CODEC_NAMES: Final[dict[str, str]] = {
    "avc1": "H.264",
    "mp4v": "MPEG-4 Part 2",
    "VP90": "VP9",
    "VP80": "VP8",
    "MJPG": "Motion JPEG",
}

#: The suffixes :class:`VideoWriter` writes.
WRITABLE_VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(_CODECS)


class VideoError(ValueError):
    """A video that cannot be opened or read, or arguments that do not fit it."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video says of itself.

    Attributes
    ----------
    fps : float
        Frames per second (0 when the container does not say).
    frames : int
        The frame count the container gives (an estimate for some formats; 0 for a camera).
    width, height : int
        Frame size in pixels.
    """

    fps: float
    frames: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        """Seconds, from the frame count and rate (0 when either is unknown)."""
        return self.frames / self.fps if self.fps > 0 else 0.0


@dataclass(frozen=True)
class Frame:
    """One frame read: its index in the video, its time in seconds, its RGB pixels."""

    index: int
    time: float
    image: npt.NDArray[np.uint8]


def is_video(path: str | os.PathLike[str]) -> bool:
    """Whether a path names a video, by its suffix (:data:`VIDEO_EXTENSIONS`)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def _label(source: str | os.PathLike[str] | int) -> str:
    return f"camera {source}" if isinstance(source, int) else str(source)


def _open(source: str | os.PathLike[str] | int) -> Any:
    """An opened :class:`cv2.VideoCapture`, or a clear error."""
    cv2 = require("cv2", "reading videos")

    quiet_ffmpeg()
    if isinstance(source, bool) or not isinstance(source, int | str | os.PathLike):
        raise TypeError(f"video={source!r}; expected a path or a camera index (int)")
    if not isinstance(source, int):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such video file")
        if path.is_dir():
            raise IsADirectoryError(f"{path}: is a folder, not a video file")
    with quiet_native():  # FFmpeg's and OpenCV's own complaints; the error below says it
        capture = cv2.VideoCapture(source if isinstance(source, int) else os.fspath(source))
    if not capture.isOpened():
        capture.release()
        what = "no camera there" if isinstance(source, int) else "OpenCV cannot read it as a video"
        raise VideoError(
            f"{_label(source)}: {what}; expected a video file (.mp4, .avi, .mov, .mkv, .webm...)"
            " or the index of a connected camera"
        )
    return capture


def _info(capture: Any) -> VideoInfo:
    import cv2

    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return VideoInfo(
        fps=fps if math.isfinite(fps) and 0 < fps < 10_000 else 0.0,
        frames=max(0, frames),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    )


def video_info(source: str | os.PathLike[str] | int) -> VideoInfo:
    """Frame rate, frame count and size of a video (or a camera), without reading frames.

    Raises
    ------
    FileNotFoundError, VideoError
        When there is no such file, or OpenCV cannot open it.
    """
    capture = _open(source)
    try:
        return _info(capture)
    finally:
        capture.release()


def _sampling(every: int | None, fps: float | None) -> None:
    if every is not None and fps is not None:
        raise ValueError("give every= or fps=, not both")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(f"every={every!r}; expected a whole number of frames, 1 or more")
    if fps is not None and (
        isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps < math.inf
    ):
        raise ValueError(f"fps={fps!r}; expected frames per second, a number above 0")


def read_frames(
    source: str | os.PathLike[str] | int,
    *,
    every: int | None = None,
    fps: float | None = None,
    start: int = 0,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> VideoReader:
    """The frames of a video file or camera, as RGB arrays with index and time: a
    :class:`VideoReader` (iterate over it; the video is opened now, so a bad file fails here).

    Parameters
    ----------
    source : path or int
        A video file, or a camera index (0 for the first camera).
    every : int, optional
        Read every ``every``-th frame (0, every, 2 * every...).
    fps : float, optional
        Read about ``fps`` frames a second: the first frame at or after each ``k / fps``
        seconds (at most the video's own rate). Not both ``every`` and ``fps``.
    start : int
        Index of the first frame to read (the frames before it are skipped, as are the
        frames between the ones read; the sampling counts from frame 0 all the same).
    max_pixels : int or None
        Frames larger than this (``width * height``) are refused, as photos are.

    Raises
    ------
    FileNotFoundError, VideoError
        When there is no such file, OpenCV cannot read it, or its frames are too large.
    """
    return VideoReader(source, every=every, fps=fps, start=start, max_pixels=max_pixels)


class VideoReader:
    """An open video and how to sample it; iterating yields :class:`Frame` objects.

    ``index`` counts every frame of the video (the skipped ones too); ``time`` is the index
    over the video's frame rate (for a camera, the seconds since its first frame). The
    frames skipped are grabbed, not decoded. Made by :func:`read_frames`, which documents
    the parameters; the video is closed when the iteration ends or by :meth:`close`.

    Attributes
    ----------
    source : path or int
        What was opened.
    info : VideoInfo
        The video's rate, frame count and size (a file that gives no rate is read as 30
        frames a second).
    camera : bool
        Whether it is a camera (times are then the seconds since the first frame).
    rate : float
        Frames per second of what it yields (the video's rate over ``every``, or ``fps``).
    expected : int
        How many frames it will yield, from the container's frame count (0 when unknown).
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | int,
        *,
        every: int | None = None,
        fps: float | None = None,
        start: int = 0,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ):
        _sampling(every, fps)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"start={start!r}; expected a frame index, 0 or more")
        self.source = source
        self._capture = _open(source)
        self.info = _info(self._capture)
        if max_pixels is not None and self.info.width * self.info.height > max_pixels:
            self.close()
            raise VideoError(
                f"{_label(source)}: frames of {self.info.width}x{self.info.height} pixels, "
                f"more than max_pixels={max_pixels}"
            )
        self.camera = isinstance(source, int)
        own = self.info.fps if self.info.fps > 0 else 30.0  # when the video says none
        self._fps = None if fps is None else (float(fps) if self.camera else min(fps, own))
        self._every = every
        self._start = start
        self._max_pixels = max_pixels
        self._own = own
        self.rate = self._fps if self._fps is not None else own / (every or 1)
        frames = 0 if self.camera else self.info.frames
        self.expected = max(0, self._count(frames) - self._count(min(start, frames)))

    def keeps(self, index: int) -> bool:
        """Whether the sampling (``every``, ``fps``) reads frame ``index`` of a video file.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from emorec.video import VideoWriter, read_frames
        >>> path = tempfile.mkdtemp() + "/clip.avi"
        >>> with VideoWriter(path, fps=30) as out:
        ...     for _ in range(8):
        ...         out.write(np.zeros((32, 32, 3), np.uint8))
        >>> reader = read_frames(path, fps=10)
        >>> [i for i in range(8) if reader.keeps(i)], [f.index for f in reader]
        ([0, 3, 6], [0, 3, 6])
        """
        return self._count(index + 1) > self._count(index)

    def _count(self, n: int) -> int:
        """How many of the video's first ``n`` frames the sampling keeps."""
        if n <= 0:
            return 0
        if self._fps is not None:
            return min(n, math.floor((n - 1) / self._own * self._fps + 1e-9) + 1)
        return -(-n // (self._every or 1))

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        capture = self._capture
        if capture is None:
            raise ValueError(f"{_label(self.source)}: the video is closed")
        every, fps, start = self._every, self._fps, self._start
        began: float | None = None
        # under fps=, the next frame kept is the first at or after taken / fps seconds (the
        # same grid whatever the start)
        taken = (
            0
            if fps is None or self.camera or start == 0
            else math.floor((start - 1) / self._own * fps + 1e-9) + 1
        )
        index = -1
        try:
            while True:
                index += 1
                if self.camera:
                    now = time.monotonic()
                    began = now if began is None else began
                    at = now - began
                else:
                    at = index / self._own
                if index < start:
                    keep = False
                elif every is not None:
                    keep = index % every == 0
                elif fps is not None:
                    keep = at + 1e-9 >= taken / fps
                else:
                    keep = True
                if not keep:
                    if not capture.grab():
                        return self._ended(index)
                    continue
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    return self._ended(index)
                if fps is not None:
                    taken = math.floor(at * fps + 1e-9) + 1
                if self._max_pixels is not None and bgr.shape[0] * bgr.shape[1] > self._max_pixels:
                    raise VideoError(
                        f"{_label(self.source)}: frame {index} is {bgr.shape[1]}x{bgr.shape[0]}"
                        f" pixels, more than max_pixels={self._max_pixels}"
                    )
                code = cv2.COLOR_GRAY2RGB if bgr.ndim == 2 else cv2.COLOR_BGR2RGB
                yield Frame(index, round(at, 6), cv2.cvtColor(bgr, code))
        finally:
            self.close()

    def _ended(self, index: int) -> None:
        """The video gave no frame ``index``: warn if it said it had many more."""
        announced = self.info.frames
        if not self.camera and announced > 0 and index < 0.9 * announced - 1:
            warnings.warn(
                f"{_label(self.source)}: no frame could be read after frame {index - 1}, of "
                f"the {announced} the file announces; it may be damaged or cut short",
                stacklevel=3,
            )

    def close(self) -> None:
        """Release the video (or camera)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class VideoWriter:
    """Write RGB frames to a new video file, atomically.

    The codec follows the suffix: ``.webm`` VP9 (VP8 where OpenCV lacks it), which browsers
    and notebooks play; ``.mp4``, ``.m4v`` and ``.mov`` H.264 where the installed OpenCV can
    encode it, else MPEG-4 Part 2, which browsers do not play (a warning says so: the OpenCV
    wheels on PyPI have no H.264 encoder, so write ``.webm`` for the browser); ``.mkv`` VP9;
    ``.avi`` Motion JPEG. :attr:`codec` names the one used. Frames go to a hidden temporary
    file in the target's folder, renamed over the target by :meth:`close`; if the block
    raises, the temporary is removed and the target is untouched. The frame size is the first
    frame's; later frames of another size are resized to it.

    Parameters
    ----------
    path : path
        The video to write.
    fps : float
        Its frame rate.
    overwrite : bool
        Replace an existing file (otherwise :class:`FileExistsError`, before anything is
        written).
    """

    def __init__(self, path: str | os.PathLike[str], *, fps: float, overwrite: bool = False):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _CODECS:
            raise ValueError(
                f"{self.path}: cannot write {suffix or 'a file without extension'!r} videos; "
                f"expected one of {', '.join(sorted(_CODECS))}"
            )
        require("cv2", "writing videos")
        if not (isinstance(fps, int | float) and 0 < fps < 10_000):
            raise ValueError(f"fps={fps!r}; expected frames per second, above 0")
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite=True to replace it")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"{self.path.parent}: no such folder for {self.path.name}")
        self.fps = float(fps)
        self.frames = 0
        self._codecs = _CODECS[suffix]
        #: The codec's FourCC, once the first frame is written (``"VP90"``, ``"avc1"``...).
        self.codec: str | None = None
        self._writer: Any = None
        self._size: tuple[int, int] | None = None
        self._tmp: Path | None = None  # made with the first frame
        self._closed = False
        self._written = False

    def write(self, image: npt.ArrayLike) -> None:
        """Append one frame: an RGB (or grey) uint8 array, or a PIL image."""
        import cv2

        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        frame = np.asarray(image)
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
            raise ValueError(f"a frame of {frame.dtype} {frame.shape}; expected uint8 (h, w[, 3])")
        bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR)
        if self._writer is None:
            self._size = (bgr.shape[1], bgr.shape[0])
            prefix, suffix = partial_affixes(self.path, self.path.suffix.lower())
            fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=prefix, suffix=suffix)
            os.close(fd)
            self._tmp = Path(name)
            quiet_ffmpeg()
            for codec in self._codecs:  # the first this OpenCV can encode
                with quiet_native():  # FFmpeg's lines about the codecs it lacks
                    self._writer = cv2.VideoWriter(
                        os.fspath(self._tmp), cv2.VideoWriter.fourcc(*codec), self.fps, self._size
                    )
                if self._writer.isOpened():
                    self.codec = codec
                    break
            else:
                tried = ", ".join(_CODEC_NAMES.get(c, c) for c in self._codecs)
                raise VideoError(f"{self.path}: this OpenCV cannot write {tried} videos here")
            if self.codec not in BROWSER_CODECS and self.codec != "MJPG":
                warnings.warn(
                    f"{self.path}: written as {_CODEC_NAMES.get(self.codec, self.codec)}, which "
                    "browsers and notebooks do not play (this OpenCV has no H.264 encoder); "
                    "write a .webm file (VP9) to get one they play",
                    stacklevel=2,
                )
        elif (bgr.shape[1], bgr.shape[0]) != self._size:
            bgr = cv2.resize(bgr, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(bgr)
        self.frames += 1

    def close(self) -> Path | None:
        """Finish the video and move it into place; returns its path (None without frames:
        nothing is written then)."""
        if self._closed:
            return self.path if self._written else None
        self._closed = True
        tmp, self._tmp = self._tmp, None
        if tmp is None or self._writer is None:
            return None
        try:
            self._writer.release()
            os.chmod(tmp, 0o666 & ~current_umask())  # a new file's usual mode, not mkstemp's 0o600
            replace_durably(tmp, self.path)
            self._written = True
            return self.path
        finally:
            tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop what was written; the target is left as it was."""
        self._closed = True
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.release()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
