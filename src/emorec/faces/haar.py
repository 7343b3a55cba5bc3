"""OpenCV's Viola-Jones Haar cascade, registered as ``"haar"`` (needs ``opencv-python``).

OpenCV is imported on the first ``detect``, not with this module. OpenCV 5 moved
``CascadeClassifier`` and its cascade files to the contrib modules; where the installed OpenCV
lacks them, the first ``detect`` raises an ImportError naming what to install. Nothing else in
emorec needs them.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from .._optional import require
from ..pixels import to_channels
from .boxes import MIN_IMAGE_SIZE, FaceBox, check_image
from .detectors import register_detector

__all__ = ["HaarDetector"]


def _missing_haar_support(cv2: Any, *, need_data: bool) -> str | None:
    """What the Haar detector needs and this ``cv2`` lacks, or None when it has everything."""
    if not hasattr(cv2, "CascadeClassifier"):
        return "cv2.CascadeClassifier"
    if need_data:
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not folder or not os.path.isdir(folder):
            return "the cascade files of cv2.data.haarcascades"
    return None


@register_detector("haar")
class HaarDetector:
    """OpenCV's Viola-Jones Haar cascade face detector (frontal faces).

    Needs OpenCV with its Haar cascades (``pip install "opencv-python-headless<5"`` or
    ``opencv-contrib-python-headless``), imported on the first :meth:`detect`. The image is
    converted to grey and scanned with
    ``CascadeClassifier.detectMultiScale3(..., outputRejectLevels=True)``.

    Parameters
    ----------
    scale_factor : float
        Scale step between pyramid levels (> 1).
    min_neighbors : int
        Overlapping raw detections a face needs to be kept.
    min_size : (width, height)
        Smallest face searched for, in pixels.
    cascade : str
        A cascade file: a path, or a file name in ``cv2.data.haarcascades``.

    Notes
    -----
    The score is OpenCV's level weight ``w`` (the detection's sum over the cascade's last
    stage, roughly -3..10, larger is surer) squashed with the logistic function
    ``1 / (1 + exp(-w))``; it is 1.0 when OpenCV gives no weight.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces import HaarDetector
    >>> HaarDetector().detect(np.zeros((64, 64), np.uint8))
    []
    """

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: tuple[int, int] = (24, 24),
        cascade: str = "haarcascade_frontalface_default.xml",
    ) -> None:
        if not float(scale_factor) > 1.0:
            raise ValueError(f"scale_factor={scale_factor}; expected a value > 1")
        if int(min_neighbors) < 0:
            raise ValueError(f"min_neighbors={min_neighbors}; expected >= 0")
        if len(min_size) != 2 or min(int(s) for s in min_size) < 1:
            raise ValueError(f"min_size={min_size}; expected (width, height) >= 1")
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = (int(min_size[0]), int(min_size[1]))
        self.cascade = str(cascade)
        self._lock = threading.Lock()
        self._classifier: Any = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scale_factor={self.scale_factor}, "
            f"min_neighbors={self.min_neighbors}, min_size={self.min_size})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_classifier"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _ensure_classifier(self) -> Any:
        if self._classifier is None:
            cv2 = require("cv2", "the haar face detector")
            missing = _missing_haar_support(cv2, need_data=not os.path.exists(self.cascade))
            if missing:
                raise ImportError(
                    f"the haar face detector needs {missing}, which OpenCV "
                    f"{getattr(cv2, '__version__', '?')} does not have (OpenCV 5 moved the Haar "
                    "cascades to its contrib modules); pip install "
                    '"opencv-contrib-python-headless" or "opencv-python-headless<5", or use '
                    'detector="blazeface"'
                )
            path = self.cascade
            if not os.path.exists(path):
                path = os.path.join(cv2.data.haarcascades, self.cascade)
            classifier = cv2.CascadeClassifier(path)
            if classifier.empty():
                raise FileNotFoundError(
                    f"could not load Haar cascade {self.cascade!r} (looked for {path}); give a "
                    "cascade XML path or a file name from cv2.data.haarcascades"
                )
            self._classifier = classifier
        return self._classifier

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image`` (same contract as :meth:`BlazeFaceDetector.detect`).

        Returns
        -------
        list of FaceBox
            In the pixels of ``image``, best score first; ``keypoints`` None.
        """
        rgb = np.ascontiguousarray(to_channels(check_image(image), 3))
        height, width = rgb.shape[:2]
        if min(height, width) < MIN_IMAGE_SIZE:
            return []
        cv2 = require("cv2", "the haar face detector")

        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        with self._lock:
            classifier = self._ensure_classifier()
            rects, _levels, weights = classifier.detectMultiScale3(
                grey,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=self.min_size,
                outputRejectLevels=True,
            )
        rects = np.asarray(rects, dtype=np.int64).reshape(-1, 4)
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if len(weights) == len(rects):
            scores = 1.0 / (1.0 + np.exp(-np.clip(weights, -80.0, 80.0)))
        else:
            scores = np.ones(len(rects))
        faces = []
        for (x, y, w, h), score in zip(rects, scores):
            x0, y0 = max(0, int(x)), max(0, int(y))
            x1, y1 = min(width, int(x + w)), min(height, int(y + h))
            if x1 > x0 and y1 > y0:
                faces.append(FaceBox(x0, y0, x1 - x0, y1 - y0, float(score)))
        faces.sort(key=lambda face: -face.score)
        return faces
