"""Architectures and trained models.

- The registry: :func:`register_model`, :func:`build_model`, :func:`list_models`; built-in
  families ``seed_cnn``, ``vgg_s``/``vgg_m``, ``mini_xception``, ``resnet_s``; third-party
  architectures through the ``emorec.models`` entry-point group.
- The model file: :func:`load_model`, :func:`read_card`, :func:`list_pretrained`.

Importing this module does not import TensorFlow or Keras; building a model does.
"""

from .card import list_pretrained, load_model, pretrained_path, read_card, write_card
from .registry import build_model, get_builder, list_models, register_model

__all__ = [
    "build_model",
    "get_builder",
    "list_models",
    "list_pretrained",
    "load_model",
    "pretrained_path",
    "read_card",
    "register_model",
    "write_card",
]
