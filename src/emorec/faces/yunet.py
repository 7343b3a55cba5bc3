"""OpenCV's YuNet face detector (``cv2.FaceDetectorYN``), registered as ``"yunet"``.

The model, ``face_detection_yunet_2023mar.onnx`` (232 KB, MIT, Shiqi Yu and the OpenCV Zoo),
ships with emorec in ``emorec/faces/data`` (see ``NOTICE_YUNET.md`` there). Running it needs OpenCV
4.8 or later (``pip install "emorec[video]"``), imported on the first ``detect``, not with this
module.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Any, Final

import numpy as np

from .._optional import require
from ..pixels import to_channels
from .boxes import MIN_IMAGE_SIZE, FaceBox, check_image
from .detectors import register_detector

__all__ = ["KEYPOINT_NAMES", "MIN_OPENCV", "MODEL_FILE", "YuNetDetector", "model_path"]

#: The bundled model file, in ``emorec/faces/data``.
MODEL_FILE: Final[str] = "face_detection_yunet_2023mar.onnx"
#: The oldest OpenCV that runs the 2023 YuNet model.
MIN_OPENCV: Final[tuple[int, int]] = (4, 8)
#: YuNet's five keypoints, in the model's order. "Right" is the subject's, as in
#: :data:`emorec.faces.blazeface.KEYPOINT_NAMES`: in an unmirrored photo of a face looking at the
#: camera, the right eye is on the image's left. The first two are the eyes, like BlazeFace's,
#: so :func:`~emorec.faces.crop_faces` aligns YuNet's faces the same way.
KEYPOINT_NAMES: Final[tuple[str, ...]] = (
    "right_eye",
    "left_eye",
    "nose_tip",
    "right_mouth_corner",
    "left_mouth_corner",
)


def model_path() -> str:
    """The path of the bundled YuNet model file.

    Examples
    --------
    >>> from emorec.faces.yunet import model_path
    >>> model_path().endswith("face_detection_yunet_2023mar.onnx")
    True
    """
    return str(resources.files("emorec.faces") / "data" / MODEL_FILE)


def _opencv_version(cv2: Any) -> tuple[int, int]:
    """``(major, minor)`` of the installed OpenCV, ``(0, 0)`` when it cannot be read."""
    found = re.match(r"(\d+)\.(\d+)", str(getattr(cv2, "__version__", "")))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _check_opencv(cv2: Any) -> None:
    """Raise an ImportError naming what to install when ``cv2`` cannot run YuNet."""
    version = _opencv_version(cv2)
    if not hasattr(cv2, "FaceDetectorYN") or version < MIN_OPENCV:
        raise ImportError(
            f"the yunet face detector needs cv2.FaceDetectorYN from OpenCV >= "
            f"{MIN_OPENCV[0]}.{MIN_OPENCV[1]}, and the installed OpenCV is "
            f"{getattr(cv2, '__version__', '?')}"
            f"{'' if hasattr(cv2, 'FaceDetectorYN') else ' without it'}; "
            'pip install -U "opencv-python-headless>=4.8", or use detector="blazeface"'
        )


@register_detector("yunet")
class YuNetDetector:
    """OpenCV's YuNet face detector (a 232 KB ONNX model run by ``cv2.FaceDetectorYN``).

    The image is converted to BGR, shrunk (area interpolation) when its longer side exceeds
    ``max_side``, and run through the network at its own size; OpenCV keeps the detections
    scoring at least ``min_score`` and merges overlaps by non-maximum suppression. Boxes and
    keypoints are then scaled back to the image's pixels. ``detect`` is thread-safe: each
    thread gets its own ``FaceDetectorYN`` (OpenCV's is not safe to share, and its input size
    is set per image), created on that thread's first call.

    Parameters
    ----------
    min_score : float
        Minimum confidence (0..1) of a detection.
    nms_threshold : float
        Overlap (IoU) above which the weaker of two detections is dropped.
    max_faces : int, optional
        Keep at most this many faces (the best ones); default all.
    max_side : int, optional
        Shrink images whose longer side is larger to this many pixels before detection
        (default 640). YuNet finds faces from about 10 px to 300 px wide at its input, so
        shrinking also brings large close-up faces into its range; on emorec's example photos
        640 found as many faces as the full size, with fewer false ones, in half the time.
        ``None``: never shrink.
    model : str, optional
        Path of a YuNet ONNX file; default the bundled ``face_detection_yunet_2023mar.onnx``.

    Notes
    -----
    Each :class:`FaceBox` carries the five keypoints of :data:`KEYPOINT_NAMES` in image pixels
    (not clipped to the image): the subject's right eye (on the image's left), left eye, nose
    tip, right and left mouth corners.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.faces import get_detector
    >>> get_detector("yunet").detect(np.zeros((64, 64, 3), np.uint8))
    []
    >>> get_detector("yunet", min_score=0.8, max_faces=1)
    YuNetDetector(min_score=0.8, nms_threshold=0.3, max_faces=1, max_side=640)
    """

    def __init__(
        self,
        *,
        min_score: float = 0.6,
        nms_threshold: float = 0.3,
        max_faces: int | None = None,
        max_side: int | None = 640,
        model: str | None = None,
    ) -> None:
        if not 0.0 <= float(min_score) <= 1.0:
            raise ValueError(f"min_score={min_score}; expected a value in 0..1")
        if not 0.0 <= float(nms_threshold) <= 1.0:
            raise ValueError(f"nms_threshold={nms_threshold}; expected a value in 0..1")
        if max_faces is not None and int(max_faces) < 1:
            raise ValueError(f"max_faces={max_faces}; expected None (all) or at least 1")
        if max_side is not None and int(max_side) < MIN_IMAGE_SIZE:
            raise ValueError(
                f"max_side={max_side}; expected None (never shrink) or at least {MIN_IMAGE_SIZE}"
            )
        self.min_score = float(min_score)
        self.nms_threshold = float(nms_threshold)
        self.max_faces = None if max_faces is None else int(max_faces)
        self.max_side = None if max_side is None else int(max_side)
        self.model = model_path() if model is None else str(model)
        self._local = threading.local()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_score={self.min_score}, "
            f"nms_threshold={self.nms_threshold}, max_faces={self.max_faces}, "
            f"max_side={self.max_side})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # Pickle the settings only; the copy makes its own OpenCV detectors when used.
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def _detector(self, cv2: Any, size: tuple[int, int]) -> Any:
        """This thread's ``FaceDetectorYN``, set to the ``(width, height)`` input ``size``."""
        detector = getattr(self._local, "detector", None)
        if detector is None:
            try:
                detector = cv2.FaceDetectorYN.create(
                    self.model, "", size, self.min_score, self.nms_threshold, 5000
                )
            except cv2.error as error:
                raise ValueError(
                    f"OpenCV {cv2.__version__} could not load the YuNet model {self.model!r} "
                    f"({str(error).strip().splitlines()[-1]}); give the path of a YuNet ONNX "
                    "file, or leave model unset for the bundled one"
                ) from None
            self._local.detector = detector
            self._local.size = size
        if self._local.size != size:
            detector.setInputSize(size)
            self._local.size = size
        return detector

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image``.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W, 3)`` uint8 RGB, or ``(H, W)`` / ``(H, W, 1)`` uint8 grey.

        Returns
        -------
        list of FaceBox
            In the pixels of ``image``, best score first, with five keypoints each; ``[]`` when
            there is no face or the image is smaller than 16 pixels a side.

        Raises
        ------
        ValueError
            If ``image`` is not a uint8 array of one of those shapes.
        ImportError
            If OpenCV is not installed, or is older than 4.8.
        """
        rgb = to_channels(check_image(image), 3)
        height, width = rgb.shape[:2]
        if min(height, width) < MIN_IMAGE_SIZE:
            return []
        cv2 = require("cv2", "the yunet face detector")
        _check_opencv(cv2)
        scale = 1.0
        if self.max_side is not None and max(height, width) > self.max_side:
            scale = self.max_side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        detector = self._detector(cv2, (bgr.shape[1], bgr.shape[0]))
        _, found = detector.detect(bgr)
        if found is None:
            return []
        rows = np.asarray(found, dtype=np.float64).reshape(-1, 15)
        rows[:, :14] /= scale
        faces = []
        for row in rows:
            x0, y0 = max(0, round(row[0])), max(0, round(row[1]))
            x1, y1 = min(width, round(row[0] + row[2])), min(height, round(row[1] + row[3]))
            if x1 > x0 and y1 > y0:
                points = row[4:14].reshape(5, 2)
                faces.append(
                    FaceBox(
                        int(x0),
                        int(y0),
                        int(x1 - x0),
                        int(y1 - y0),
                        float(min(1.0, max(0.0, row[14]))),
                        tuple((float(px), float(py)) for px, py in points),
                    )
                )
        faces.sort(key=lambda face: -face.score)
        return faces if self.max_faces is None else faces[: self.max_faces]
