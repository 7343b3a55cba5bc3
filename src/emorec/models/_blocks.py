"""Building blocks shared by the built-in architectures (standard Keras layers only).

Built-in models use only stock Keras layers, so their files load with plain
``keras.saving.load_model`` under ``safe_mode=True`` without importing emorec.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["classifier_head", "preprocessing"]


def preprocessing(
    input_shape: tuple[int, int, int],
    *,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    crop: int | None = None,
) -> tuple[Any, Any]:
    """The model's own preprocessing: colour conversion, resizing, cropping, rescaling to [-1, 1].

    Parameters
    ----------
    input_shape : (height, width, channels)
        What callers feed: plain pixels in 0..255.
    image_size : (height, width), optional
        The size the network works at, if it differs from the input's (bilinear resize).
    channels : int, optional
        The channels the network works with (1 or 3), if they differ from the input's.
    crop : int, optional
        The network sees the central ``crop`` x ``crop`` pixels (after any resize). With the
        training pipeline's random shifts this is training on random crops (and the fewer
        pixels make it faster), while the model still takes the whole image.

    Returns
    -------
    inputs, x
        The ``keras.Input`` and the preprocessed tensor.
    """
    import keras

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = inputs
    have = input_shape[-1]
    want = have if channels is None else channels
    if want != have:
        if have == 1:
            x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
        else:
            # ITU-R 601-2 luma, as Pillow's convert("L"), as a frozen 1x1 convolution.
            grey = keras.layers.Conv2D(1, 1, use_bias=False, trainable=False, name="rgb_to_grey")
            x = grey(x)
            grey.set_weights([np.array([0.299, 0.587, 0.114], "float32").reshape(1, 1, 3, 1)])
    if image_size is not None and tuple(image_size) != tuple(input_shape[:2]):
        x = keras.layers.Resizing(*image_size, interpolation="bilinear", name="resize")(x)
    if crop is not None:
        size = tuple(image_size or input_shape[:2])
        if not isinstance(crop, int) or not 8 <= crop <= min(size):
            raise ValueError(f"crop={crop!r}; expected a whole number of pixels, 8 to {min(size)}")
        x = keras.layers.CenterCrop(crop, crop, name="crop")(x)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(x)
    return inputs, x


def classifier_head(x: Any, num_classes: int, *, dropout: float = 0.0) -> Any:
    """Global average pooling, dropout, a dense layer and softmax probabilities."""
    import keras

    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    x = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.layers.Activation("softmax", dtype="float32", name="probabilities")(x)


def conv_bn_relu(x: Any, filters: int, name: str, *, kernel: int = 3, strides: int = 1) -> Any:
    """3x3 convolution (no bias), batch normalisation, ReLU."""
    import keras

    x = keras.layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)
