"""Find faces in photos and cut them out for the emotion classifier.

- :mod:`~emorec.faces.boxes`: the :class:`FaceBox` detectors return (box, score, keypoints),
  the :class:`FaceDetector` protocol and :func:`check_box` for boxes given by the user.
- :mod:`~emorec.faces.detectors`: the registry, :func:`get_detector` (``"blazeface"``, the
  default; ``"blazeface_short"``; ``"haar"``; ``"yunet"``; plugins), :func:`register_detector`,
  :func:`list_detectors`.
- :mod:`~emorec.faces.blazeface` (:class:`BlazeFaceDetector`, with :mod:`~emorec.faces.ssd`
  for its outputs' anchors, decoding and weighted NMS, and :mod:`~emorec.faces.tiling` for
  large photos), :mod:`~emorec.faces.haar` (:class:`HaarDetector`) and
  :mod:`~emorec.faces.yunet` (:class:`YuNetDetector`): the built-in detectors.
- :mod:`~emorec.faces.crops`: :func:`crop_faces`, square, margin-padded, optionally aligned,
  fixed-size crops through the pixel contract (:mod:`emorec.pixels`).

Importing this package imports neither TensorFlow nor OpenCV; the first ``detect`` does.

Examples
--------
>>> import numpy as np
>>> from emorec.faces import crop_faces, get_detector
>>> image = np.zeros((120, 160, 3), np.uint8)
>>> boxes = get_detector().detect(image)
>>> crop_faces(image, boxes).shape
(0, 48, 48, 1)
"""

from .blazeface import BlazeFaceDetector
from .boxes import FaceBox, FaceDetector, check_box
from .crops import crop_faces
from .detectors import (
    DEFAULT_DETECTOR,
    DETECTORS,
    get_detector,
    list_detectors,
    register_detector,
)
from .haar import HaarDetector
from .yunet import YuNetDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "BlazeFaceDetector",
    "FaceBox",
    "FaceDetector",
    "HaarDetector",
    "YuNetDetector",
    "check_box",
    "crop_faces",
    "get_detector",
    "list_detectors",
    "register_detector",
]
