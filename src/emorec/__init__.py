"""emorec: recognise emotions in faces.

The public API is what this module exports; ``import emorec`` stays light (no TensorFlow until a
model or a ``tf.data`` pipeline is first needed).

Examples
--------
>>> import emorec
>>> emorec.LABELS
('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')
"""

from ._native import quiet_tensorflow_logs
from ._version import __version__
from .classifier import EmotionClassifier, predict_emotion
from .data import DatasetSplit, EmotionDataset
from .evaluation import EvaluationReport, evaluate
from .images import ImageError, load_image
from .inference import DEFAULT_TTA
from .labels import LABELS
from .models import (
    ModelCard,
    build_model,
    list_models,
    list_pretrained,
    read_card,
    register_model,
)
from .predictions import FacePrediction, FramePrediction, SkippedImage
from .training import Trainer

__all__ = [
    "DEFAULT_TTA",
    "LABELS",
    "DatasetSplit",
    "EmotionClassifier",
    "EmotionDataset",
    "EvaluationReport",
    "FacePrediction",
    "FramePrediction",
    "ImageError",
    "ModelCard",
    "SkippedImage",
    "Trainer",
    "__version__",
    "build_model",
    "evaluate",
    "list_models",
    "list_pretrained",
    "load_image",
    "predict_emotion",
    "quiet_tensorflow_logs",
    "read_card",
    "register_model",
]
