"""What a prediction returns: a face's emotion, a skipped image, a video frame's faces.

Plain frozen dataclasses with ``to_dict()`` for JSON; :mod:`emorec.results` turns them into
rows (CSV, JSON Lines, Parquet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Box", "FacePrediction", "FramePrediction", "Keypoints", "SkippedImage"]

Box = tuple[int, int, int, int]
Keypoints = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class FacePrediction:
    """The emotion of one face.

    Attributes
    ----------
    box : (x, y, width, height)
        The face in the original image's pixels (the whole image when detection was skipped).
    label : str
        The most probable emotion.
    score : float
        Its probability.
    probabilities : dict
        Probability of every label, in the model's label order (in a video with
        ``smooth > 1``, averaged over the face's track: see
        :meth:`emorec.EmotionClassifier.predict_video`).
    face_score : float or None
        The face detector's confidence (None when boxes were given or detection skipped).
    keypoints : tuple of (x, y), or None
        The detector's landmarks in the image's pixels (BlazeFace: right eye, left eye, nose
        tip, mouth, right ear, left ear); None when the detector gives none or boxes were
        given.
    track : int or None
        In a video, the face's track: the same number for the same face from frame to frame
        (1, 2, ... in order of appearance); None for photos.

    Examples
    --------
    >>> from emorec import FacePrediction
    >>> face = FacePrediction((10, 20, 50, 50), "happy", 0.9, {"happy": 0.9, "sad": 0.1})
    >>> face.to_dict()["box"], face.label
    ([10, 20, 50, 50], 'happy')
    """

    box: Box
    label: str
    score: float
    probabilities: dict[str, float]
    face_score: float | None = None
    keypoints: Keypoints | None = None
    track: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        out = {
            "box": list(self.box),
            "label": self.label,
            "score": self.score,
            "probabilities": dict(self.probabilities),
            "face_score": self.face_score,
            "keypoints": None if self.keypoints is None else [list(p) for p in self.keypoints],
        }
        if self.track is not None:
            out["track"] = self.track
        return out


@dataclass(frozen=True)
class SkippedImage:
    """What stands in a batch's results for an image that could not be read or checked, with
    ``errors="skip"`` (a record, not an exception: the error was caught).

    Examples
    --------
    >>> from emorec import EmotionClassifier, SkippedImage
    >>> clf = EmotionClassifier.load()
    >>> results = clf.predict([b"not an image"], errors="skip")
    >>> isinstance(results[0], SkippedImage), results[0].index
    (True, 0)
    """

    index: int
    source: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"index": self.index, "source": self.source, "error": self.error}


@dataclass(frozen=True)
class FramePrediction:
    """The faces of one video frame, from :meth:`emorec.EmotionClassifier.predict_video`.

    Attributes
    ----------
    frame : int
        The frame's index in the video (0 for the first frame, counting the frames skipped).
    time : float
        Its time in seconds from the start (the frame index over the video's frame rate;
        for a camera, the seconds since the first frame was read).
    faces : list of FacePrediction
        Its faces, each with its ``track``.

    Examples
    --------
    >>> from emorec import FacePrediction, FramePrediction
    >>> face = FacePrediction((1, 2, 30, 30), "sad", 0.7, {"sad": 0.7, "happy": 0.3}, track=1)
    >>> FramePrediction(50, 2.0, [face]).to_dict()["faces"][0]["track"]
    1
    """

    frame: int
    time: float
    faces: list[FacePrediction]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "frame": self.frame,
            "time": self.time,
            "faces": [face.to_dict() for face in self.faces],
        }
