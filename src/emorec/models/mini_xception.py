"""``mini_xception``: a compact depthwise-separable network for edge use (under 100 k parameters).

In the spirit of Arriaga et al.'s mini-Xception (2017), the model of the ``fer`` package: a
stem of two 3x3 convolutions, four residual modules of two separable convolutions with a
strided max-pool and a 1x1 projection shortcut, and a global-pooled head.

The shortcut's projection is a stride-1 1x1 convolution after a 2x2 average pool rather than a
stride-2 1x1 convolution: the result is the same kind of projection, and it avoids a oneDNN
crash that TensorFlow 2.21 hits when training stride-2 1x1 convolutions on 58-64 px maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._blocks import classifier_head, conv_bn_relu, preprocessing
from .registry import register_model

__all__ = ["mini_xception"]


@register_model
def mini_xception(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    widths: Sequence[int] = (16, 32, 64, 128),
    dropout: float = 0.0,
    crop: int | None = None,
) -> Any:
    """Mini-Xception (about 60 k parameters with the default widths).

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` of the images the model takes.
    num_classes : int
        Number of outputs (softmax).
    widths : sequence of int
        Filters of each residual block of separable convolutions, each block halving the
        resolution.
    dropout : float
        Dropout before the classifier.
    crop : int, optional
        Work on the central ``crop`` x ``crop`` pixels (for example 40 of FER2013's 48): random
        crops in training, through the pipeline's shifts, and fewer pixels to compute at
        inference (see :func:`emorec.models.vgg.vgg`).

    Examples
    --------
    >>> from emorec import build_model
    >>> build_model("mini_xception").count_params() < 100_000
    True
    """
    import keras

    layers = keras.layers
    inputs, x = preprocessing(input_shape, crop=crop)
    x = conv_bn_relu(x, 8, "stem1")
    x = conv_bn_relu(x, 8, "stem2")
    for i, width in enumerate(widths, 1):
        shortcut = layers.AveragePooling2D(2, padding="same", name=f"block{i}_short_pool")(x)
        shortcut = layers.Conv2D(width, 1, use_bias=False, name=f"block{i}_short_conv")(shortcut)
        shortcut = layers.BatchNormalization(name=f"block{i}_short_bn")(shortcut)
        y = layers.SeparableConv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_sep1")(
            x
        )
        y = layers.BatchNormalization(name=f"block{i}_bn1")(y)
        y = layers.ReLU(name=f"block{i}_relu1")(y)
        y = layers.SeparableConv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_sep2")(
            y
        )
        y = layers.BatchNormalization(name=f"block{i}_bn2")(y)
        y = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{i}_pool")(y)
        x = layers.Add(name=f"block{i}_add")([y, shortcut])
    outputs = classifier_head(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="mini_xception")
