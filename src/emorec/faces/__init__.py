"""Find faces in photos and cut them out for the emotion classifier.

- Detectors: :func:`get_detector` (``"blazeface"``, the default; ``"blazeface_short"``;
  ``"haar"``; plugins), :func:`register_detector`, :func:`list_detectors`, the
  :class:`FaceDetector` protocol and the :class:`FaceBox` they return.
- :func:`crop_faces`: square, margin-padded, fixed-size crops of the detected faces.

Importing this module imports neither TensorFlow nor OpenCV; the first ``detect`` does.

Examples
--------
>>> import numpy as np
>>> from emorec.faces import crop_faces, get_detector
>>> image = np.zeros((120, 160, 3), np.uint8)
>>> boxes = get_detector().detect(image)
>>> crop_faces(image, boxes).shape
(0, 48, 48, 1)
"""

from .crops import crop_faces
from .detectors import (
    DEFAULT_DETECTOR,
    BlazeFaceDetector,
    FaceBox,
    FaceDetector,
    HaarDetector,
    get_detector,
    list_detectors,
    register_detector,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "BlazeFaceDetector",
    "FaceBox",
    "FaceDetector",
    "HaarDetector",
    "crop_faces",
    "get_detector",
    "list_detectors",
    "register_detector",
]
