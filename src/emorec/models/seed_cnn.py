"""``seed_cnn``: the network of the seed notebook emorec started from, kept as the baseline.

Two 3x3 convolutions (32, 64), then two (128, 128), each stage closed by max-pooling, with
batch normalisation and dropout, a flattening 1024-unit dense layer and a 7-way softmax:
the classic FER2013 starter CNN (``model.save('emotion_model.h5')``).
"""

from __future__ import annotations

from typing import Any

from ._blocks import preprocessing
from .registry import register_model

__all__ = ["seed_cnn"]


@register_model
def seed_cnn(*, input_shape: tuple[int, int, int], num_classes: int, dropout: float = 0.25) -> Any:
    """The seed notebook's CNN (about 2.4 M parameters at 48x48, most in the dense layer).

    Examples
    --------
    >>> from emorec import build_model
    >>> build_model("seed_cnn").count_params() > 2_000_000
    True
    """
    import keras

    inputs, x = preprocessing(input_shape)
    layers = keras.layers
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Dropout(dropout, name="drop2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv3")(x)
    x = layers.BatchNormalization(name="bn3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv4")(x)
    x = layers.BatchNormalization(name="bn4")(x)
    x = layers.MaxPooling2D(2, name="pool4")(x)
    x = layers.Dropout(dropout, name="drop4")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, activation="relu", name="fc")(x)
    x = layers.Dropout(0.5, name="drop_fc")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")
