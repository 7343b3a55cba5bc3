"""emorec: recognise emotions in faces.

The public API is what this module exports; ``import emorec`` stays light (no TensorFlow until a
model or a ``tf.data`` pipeline is first needed).

Examples
--------
>>> import emorec
>>> emorec.LABELS
('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')
"""

from ._version import __version__
from .data import DatasetSplit, EmotionDataset
from .images import ImageError, load_image
from .labels import LABELS

__all__ = [
    "LABELS",
    "DatasetSplit",
    "EmotionDataset",
    "ImageError",
    "__version__",
    "load_image",
]
