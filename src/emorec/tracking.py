"""Faces followed from frame to frame: an IoU tracker, and probabilities smoothed over a track.

:class:`IoUTracker` gives each face box of a frame a track id: a box continues the track
whose last box it overlaps most (intersection over union at least ``iou_threshold``; pairs
are taken greedily, best overlap first, each track and each box at most once). A box that
overlaps no free track too little but is near one (its centre within ``max_distance``
widths of the track's last box, at a size within 1.5 times) continues the nearest: faces
sampled a second apart move more than a box's width. A box that continues none starts a
new track; a track not seen for more than ``max_age`` frames ends. This is the simple tracker that
suits faces in interviews and recordings; it does not re-identify a face that leaves and
comes back, and two faces that cross may swap ids.

With ``smooth=N`` each face's probabilities are the mean over the last ``N`` frames of its
track (the frames read, not the video's: with ``every=5``, ``smooth=5`` spans 25 video
frames), the current one included; its label is the most probable label of that mean.

Examples
--------
>>> from emorec.tracking import IoUTracker
>>> tracker = IoUTracker()
>>> tracker.update([(10, 10, 50, 50), (200, 10, 50, 50)])
[1, 2]
>>> tracker.update([(205, 12, 50, 50), (12, 11, 50, 50)])  # the same faces, moved a little
[2, 1]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["IoUTracker", "iou"]

Box = Sequence[float]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, width, height)`` boxes (0 when apart).

    Examples
    --------
    >>> from emorec.tracking import iou
    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


@dataclass
class _Track:
    id: int
    box: tuple[float, ...]
    missed: int = 0
    history: deque[npt.NDArray[np.float32]] = field(default_factory=deque)


class IoUTracker:
    """Track ids for the face boxes of consecutive frames.

    Parameters
    ----------
    iou_threshold : float
        Least overlap (intersection over union) for a box to continue a track.
    max_age : int
        Frames a track may go unseen (a missed detection, a turned head) before it ends.
    max_distance : float
        For boxes that overlap no track: how far (in box widths, centre to centre) a box may
        be from a track's last box and still continue it (0: overlap only).
    smooth : int
        Frames of a track whose probabilities :meth:`update_smoothed` averages (1: none).
    first_id : int
        The first track's id (a resumed job goes on from the ids it has).
    """

    def __init__(
        self,
        *,
        iou_threshold: float = 0.3,
        max_age: int = 5,
        max_distance: float = 1.0,
        smooth: int = 1,
        first_id: int = 1,
    ):
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold={iou_threshold!r}; expected a number in (0, 1]")
        if not isinstance(max_age, int) or max_age < 0:
            raise ValueError(f"max_age={max_age!r}; expected a whole number of frames, 0 or more")
        if not isinstance(smooth, int) or smooth < 1:
            raise ValueError(f"smooth={smooth!r}; expected a whole number of frames, 1 or more")
        if not 0.0 <= max_distance < float("inf"):
            raise ValueError(f"max_distance={max_distance!r}; expected box widths, 0 or more")
        self.iou_threshold = float(iou_threshold)
        self.max_distance = float(max_distance)
        self.max_age = max_age
        self.smooth = smooth
        self._tracks: list[_Track] = []
        if isinstance(first_id, bool) or not isinstance(first_id, int) or first_id < 0:
            raise ValueError(f"first_id={first_id!r}; expected a whole number, 0 or more")
        self._next_id = first_id

    @property
    def active(self) -> list[int]:
        """The ids of the tracks still open."""
        return [t.id for t in self._tracks]

    @property
    def next_id(self) -> int:
        """The id the next new track gets."""
        return self._next_id

    def renumber(self, ids: Mapping[int, int], *, next_id: int | None = None) -> None:
        """Give open tracks other ids: ``ids`` maps an open track's id to its new one (a
        resumed job gives the tracks it rebuilt the ids its file has); ``next_id``, if given,
        is the id of the next new track.

        Raises
        ------
        ValueError
            If two open tracks would get one id.

        Examples
        --------
        >>> from emorec.tracking import IoUTracker
        >>> tracker = IoUTracker(first_id=100)
        >>> tracker.update([(0, 0, 50, 50)])
        [100]
        >>> tracker.renumber({100: 7}, next_id=9)
        >>> tracker.update([(2, 0, 50, 50), (300, 0, 50, 50)])
        [7, 9]
        """
        new = [ids.get(t.id, t.id) for t in self._tracks]
        if len(set(new)) != len(new):
            raise ValueError(f"renumber({dict(ids)}) gives two open tracks one id")
        for track, track_id in zip(self._tracks, new):
            track.id = track_id
        if next_id is not None:
            self._next_id = int(next_id)

    def update(self, boxes: Sequence[Box]) -> list[int]:
        """The track id of each box of the next frame, in the boxes' order."""
        return [t.id for t in self._match(boxes)]

    def update_smoothed(
        self, boxes: Sequence[Box], probabilities: npt.ArrayLike
    ) -> tuple[list[int], npt.NDArray[np.float32]]:
        """Track ids, and each box's probabilities averaged over its track's last ``smooth``
        frames (``probabilities``: one row per box)."""
        probs = np.asarray(probabilities, np.float32).reshape(len(boxes), -1)
        tracks = self._match(boxes)
        smoothed = np.empty_like(probs)
        for row, (track, p) in enumerate(zip(tracks, probs)):
            track.history.append(p)
            while len(track.history) > self.smooth:
                track.history.popleft()
            smoothed[row] = np.mean(track.history, axis=0)
        return [t.id for t in tracks], smoothed

    def _match(self, given: Sequence[Box]) -> list[_Track]:
        boxes = [tuple(float(v) for v in b) for b in given]
        # overlapping pairs first (best overlap first), then near ones (nearest first)
        pairs = sorted(
            (
                (closeness, -track.missed, t, b)
                for t, track in enumerate(self._tracks)
                for b, box in enumerate(boxes)
                if (closeness := self._closeness(track.box, box)) > 0
            ),
            reverse=True,
        )
        owner: list[_Track | None] = [None] * len(boxes)
        taken: set[int] = set()
        for _, _, t, b in pairs:
            if t in taken or owner[b] is not None:
                continue
            taken.add(t)
            owner[b] = self._tracks[t]
        for t, track in enumerate(self._tracks):
            track.missed = 0 if t in taken else track.missed + 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_age]
        out: list[_Track] = []
        for box, found in zip(boxes, owner):
            track = found if found is not None else _Track(self._next_id, box)
            if found is None:
                self._next_id += 1
                self._tracks.append(track)
            track.box = box
            out.append(track)
        return out

    def _closeness(self, a: tuple[float, ...], b: tuple[float, ...]) -> float:
        """1 + IoU for overlapping boxes, 1 - distance / max_distance for near ones, else 0."""
        overlap = iou(a, b)
        if overlap >= self.iou_threshold:
            return 1.0 + overlap
        if self.max_distance <= 0:
            return 0.0
        size_a, size_b = max(a[2], a[3], 1e-9), max(b[2], b[3], 1e-9)
        if max(size_a, size_b) > 1.5 * min(size_a, size_b):
            return 0.0
        dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
        dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
        distance = (dx * dx + dy * dy) ** 0.5 / ((size_a + size_b) / 2)
        return max(0.0, 1.0 - distance / self.max_distance)
