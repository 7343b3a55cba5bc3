"""VGG-style networks for 48 px faces: the family that carries emorec's default model.

Four stages of two 3x3 convolutions (no bias) with batch normalisation and ReLU; max-pooling
after the first three stages; global average pooling, dropout and a dense softmax layer. This
is the design that tops single-network FER2013 results (Khaireddin & Chen 2021, 73.3 %).

========  ====================  ===========
name      widths                parameters
========  ====================  ===========
vgg_s     32, 64, 128, 256      1.18 M
vgg_m     40, 80, 160, 320      1.83 M
========  ====================  ===========
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._blocks import classifier_head, conv_bn_relu, preprocessing
from .registry import register_model

__all__ = ["vgg", "vgg_m", "vgg_s"]


def vgg(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    widths: Sequence[int] = (32, 64, 128, 256),
    convs_per_stage: int = 2,
    dropout: float = 0.3,
    image_size: tuple[int, int] | None = None,
    crop: int | None = None,
    name: str = "vgg",
) -> Any:
    """A VGG-style network with the given stage widths.

    Parameters
    ----------
    input_shape, num_classes
        As for :func:`emorec.build_model`.
    widths : sequence of int
        Filters of each stage; max-pooling follows every stage but the last.
    convs_per_stage : int
        3x3 convolutions per stage.
    dropout : float
        Dropout before the dense layer.
    image_size : (height, width), optional
        Working size, if the input is to be resized first.
    crop : int, optional
        Work on the central ``crop`` x ``crop`` pixels (for example 40 of FER2013's 48): random
        crops in training, through the pipeline's shifts, at about 1.4 times the speed.
    """
    import keras

    inputs, x = preprocessing(input_shape, image_size=image_size, crop=crop)
    for s, width in enumerate(widths, 1):
        for c in range(1, convs_per_stage + 1):
            x = conv_bn_relu(x, width, f"stage{s}_{c}")
        if s < len(widths):
            x = keras.layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
    outputs = classifier_head(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name=name)


@register_model
def vgg_s(*, input_shape: tuple[int, int, int], num_classes: int, **kwargs: Any) -> Any:
    """VGG-style, widths 32-256 (1.17 M parameters): fast, about 4.7 MB.

    Examples
    --------
    >>> from emorec import build_model
    >>> build_model("vgg_s").count_params()
    1176359
    """
    return vgg(
        input_shape=input_shape,
        num_classes=num_classes,
        widths=(32, 64, 128, 256),
        name="vgg_s",
        **kwargs,
    )


@register_model
def vgg_m(*, input_shape: tuple[int, int, int], num_classes: int, **kwargs: Any) -> Any:
    """VGG-style, widths 40-320 (1.83 M parameters, about 7.4 MB): the default model's net."""
    return vgg(
        input_shape=input_shape,
        num_classes=num_classes,
        widths=(40, 80, 160, 320),
        name="vgg_m",
        **kwargs,
    )
