"""Architectures and trained models.

- The registry: :func:`register_model`, :func:`build_model`, :func:`list_models`; built-in
  families ``seed_cnn``, ``vgg_s``/``vgg_m``, ``mini_xception``, ``resnet_s``; third-party
  architectures through the ``emorec.models`` entry-point group.
- The model files (:mod:`~emorec.models.files`): :func:`resolve_model` (name or path),
  :func:`load_model`, :func:`list_pretrained`, :func:`pretrained_path`,
  :func:`file_provenance`.
- The card inside them (:mod:`~emorec.models.card`): :class:`ModelCard` / :func:`read_card`.

Importing this module does not import TensorFlow or Keras; building a model does.
"""

from .card import ModelCard, read_card
from .files import (
    file_provenance,
    list_pretrained,
    load_model,
    pretrained_path,
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
