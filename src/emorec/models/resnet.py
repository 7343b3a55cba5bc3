"""Small ResNets for 48 px faces (``resnet_s``): basic residual blocks, post-activation.

Each block is conv-BN-ReLU, conv-BN (its last BN starts at zero, so a block starts as the
identity), the shortcut added, then ReLU: the original ResNet ordering (post-activation), not
the pre-activation variant.

A 3x3 stem at full resolution, then three stages of basic blocks (two 3x3 convolutions) at
widths 64, 128, 256 with two blocks each; a stage's first block halves the resolution with a
strided 3x3 convolution, and its shortcut is a 2x2 average pool followed by a stride-1 1x1
convolution (the ResNet-D shortcut: better than a strided 1x1 convolution, which also
crashes oneDNN in TensorFlow 2.21 when trained on 58-64 px maps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._blocks import classifier_head, conv_bn_relu, preprocessing
from .registry import register_model

__all__ = ["resnet", "resnet_s"]


def _block(x: Any, width: int, stride: int, name: str) -> Any:
    import keras

    layers = keras.layers
    shortcut = x
    if stride != 1 or x.shape[-1] != width:
        if stride != 1:
            shortcut = layers.AveragePooling2D(stride, padding="same", name=f"{name}_short_pool")(
                shortcut
            )
        shortcut = layers.Conv2D(width, 1, use_bias=False, name=f"{name}_short_conv")(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_short_bn")(shortcut)
    y = conv_bn_relu(x, width, f"{name}_a", strides=stride)
    y = layers.Conv2D(
        width,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_b_conv",
    )(y)
    y = layers.BatchNormalization(gamma_initializer="zeros", name=f"{name}_b_bn")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def resnet(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    widths: Sequence[int] = (64, 128, 256),
    blocks: Sequence[int] = (2, 2, 2),
    stem: int = 32,
    dropout: float = 0.2,
    name: str = "resnet",
) -> Any:
    """A ResNet of basic blocks; each stage after the first halves the resolution."""
    import keras

    inputs, x = preprocessing(input_shape)
    x = conv_bn_relu(x, stem, "stem")
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    for s, (width, n) in enumerate(zip(widths, blocks), 1):
        for b in range(n):
            x = _block(x, width, 2 if (b == 0 and s > 1) else 1, f"stage{s}_block{b + 1}")
    outputs = classifier_head(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name=name)


@register_model
def resnet_s(*, input_shape: tuple[int, int, int], num_classes: int, **kwargs: Any) -> Any:
    """ResNet, widths 64-128-256, two blocks a stage (about 2.8 M parameters).

    Examples
    --------
    >>> from emorec import build_model
    >>> build_model("resnet_s").output_shape
    (None, 7)
    """
    return resnet(input_shape=input_shape, num_classes=num_classes, name="resnet_s", **kwargs)
