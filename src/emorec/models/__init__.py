"""Architectures and trained models.

- The registry: :func:`register_model`, :func:`build_model`, :func:`list_models`; built-in
  families ``seed_cnn``, ``vgg_s``/``vgg_m``, ``mini_xception``, ``resnet_s``; third-party
  architectures through the ``emorec.models`` entry-point group.
- The model file: :func:`resolve_model` (name or path), :func:`load_model`,
  :class:`ModelCard` / :func:`read_card`, :func:`list_pretrained`.

Importing this module does not import TensorFlow or Keras; building a model does.
"""

from .card import (
    ModelCard,
    file_provenance,
    list_pretrained,
    load_model,
    pretrained_path,
    read_card,
    resolve_model,
)
from .registry import MODELS, architecture_of, build_model, get_builder, list_models, register_model

__all__ = [
    "MODELS",
    "ModelCard",
    "architecture_of",
    "build_model",
    "file_provenance",
    "get_builder",
    "list_models",
    "list_pretrained",
    "load_model",
    "pretrained_path",
    "read_card",
    "register_model",
    "resolve_model",
]
