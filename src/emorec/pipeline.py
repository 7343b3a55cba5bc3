"""The two stages of a prediction, public so that every caller runs the same code.

:func:`prepare` decodes one image and finds its faces: the record of the image (its boxes,
detector scores and keypoints) and its faces cut to the model's input, as a
:class:`PreparedImage`. It is CPU work on one image, safe to run on worker threads.
:func:`classify` classifies the faces of many prepared images in one batched model call, with
test-time augmentation and the temperature, and gives one result per image: a list of
:class:`~emorec.FacePrediction` or a :class:`~emorec.SkippedImage`.

:class:`~emorec.EmotionClassifier` (``predict``, ``predict_iter``, ``predict_video``), the
command line, and a server's or a batch engine's handler call these two, usually through the
classifier's :meth:`~emorec.EmotionClassifier.prepare` and
:meth:`~emorec.EmotionClassifier.classify`, which fill in its settings.

Examples
--------
>>> import numpy as np
>>> from emorec import EmotionClassifier
>>> clf = EmotionClassifier.load()
>>> prepared = [clf.prepare(np.full((48, 48), v, np.uint8), i) for i, v in enumerate((0, 255))]
>>> prepared[0].crops.shape, prepared[0].boxes
((1, 48, 48, 1), [(0, 0, 48, 48)])
>>> [len(faces) for faces in clf.classify(prepared)]
[1, 1]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from ._paths import check_path
from .faces.crops import DEFAULT_MARGIN
from .images import DEFAULT_MAX_PIXELS, ChannelOrder, ImageError, load_image
from .inference import TTA, predict_model_input
from .pixels import InputSpec, to_model_input
from .predictions import Box, FacePrediction, Keypoints, SkippedImage

if TYPE_CHECKING:
    from .faces import FaceBox

__all__ = ["AUTO_CROP_MAX_SIDE", "PreparedImage", "classify", "describe", "prepare"]

#: With ``detect_faces="auto"``, an image no larger than this (both sides, pixels) is taken to
#: be one face crop (FER2013's crops are 48x48) and detection is skipped.
AUTO_CROP_MAX_SIDE = 96

#: A face detector as :func:`prepare` calls it: an RGB image in, its faces out.
Detect = Callable[[npt.NDArray[np.uint8]], Sequence["FaceBox"]]


@dataclass
class PreparedImage:
    """One image after :func:`prepare`: where its faces are, and their model-input crops.

    ``boxes``, ``face_scores`` and ``keypoints`` have one entry per face, in the order of
    ``crops`` (``(faces, height, width, channels)`` uint8). ``error`` is set, and ``crops``
    empty, for an image that could not be read (``skip=True``).
    """

    index: int
    source: str
    crops: npt.NDArray[np.uint8]
    boxes: list[Box] = field(default_factory=list)
    face_scores: list[float | None] = field(default_factory=list)
    keypoints: list[Keypoints | None] = field(default_factory=list)
    error: str | None = None


def describe(image: Any, index: int) -> str:
    """How results name an image: its path, or ``<type #index>`` for one in memory."""
    if isinstance(image, str | os.PathLike):
        return str(image)
    return f"<{type(image).__name__} #{index}>"


def prepare(
    image: Any,
    index: int = 0,
    *,
    input_spec: InputSpec,
    detect: Detect | None = None,
    boxes: Sequence[Any] | None = None,
    detect_faces: bool | Literal["auto"] = "auto",
    channel_order: ChannelOrder = "rgb",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    margin: float = DEFAULT_MARGIN,
    align: bool = False,
    skip: bool = False,
    argument: str | None = None,
) -> PreparedImage:
    """Decode one image and find its faces, cut to the model's input.

    Parameters
    ----------
    image : image
        What :func:`emorec.load_image` reads: a path, bytes, a file object, a PIL image or an
        array.
    index : int
        Its place in the caller's collection (it names in-memory images in results).
    input_spec : emorec.pixels.InputSpec
        What the model takes (``InputSpec.from_model(model)``).
    detect : callable, optional
        The face detector (``detector.detect``); needed only when faces must be found.
    boxes : sequence, optional
        Face boxes ``(x, y, width, height)`` of the caller's own; detection is skipped.
    detect_faces : {"auto", True, False}
        As :meth:`emorec.EmotionClassifier.predict` takes it.
    channel_order, max_pixels
        As :func:`emorec.load_image` takes them.
    margin, align
        How faces are cut out (:func:`emorec.faces.crop_faces`).
    skip : bool
        An unreadable image gives a record with ``error`` set instead of raising.
    argument : str, optional
        The name of the argument in errors about a path (default ``images[index]``).

    Returns
    -------
    PreparedImage
    """
    empty = np.zeros((0, *input_spec.shape), np.uint8)
    prepared = PreparedImage(index, describe(image, index), empty)
    try:
        if image is None:
            raise ValueError(f"{prepared.source}: None is not an image")
        if isinstance(image, str | os.PathLike):
            check_path(image, argument or f"images[{index}]", ImageError)
        rgb = load_image(
            image,
            "rgb",
            max_pixels=max_pixels,
            name=prepared.source if isinstance(image, str | Path) else None,
            channel_order=channel_order,
        )
        prepared.crops = _faces(
            prepared, rgb, input_spec, detect, boxes, detect_faces, margin=margin, align=align
        )
    except (ValueError, OSError) as exc:
        if not skip:
            raise
        prepared.error = str(exc)
    return prepared


def _faces(
    prepared: PreparedImage,
    rgb: npt.NDArray[np.uint8],
    spec: InputSpec,
    detect: Detect | None,
    given: Sequence[Any] | None,
    detect_faces: bool | str,
    *,
    margin: float,
    align: bool,
) -> npt.NDArray[np.uint8]:
    """Fill ``prepared``'s boxes, scores and keypoints; return the model-input crops."""
    from .faces import check_box, crop_faces

    h, w = rgb.shape[:2]
    found: list[FaceBox]
    if given is not None:
        found = [check_box(b, (h, w), index=j) for j, b in enumerate(given)]
        scores: list[float | None] = [None] * len(found)
    elif detect_faces is False or (detect_faces == "auto" and max(h, w) <= AUTO_CROP_MAX_SIDE):
        prepared.boxes, prepared.face_scores, prepared.keypoints = [(0, 0, w, h)], [None], [None]
        return to_model_input(rgb[None], spec)
    else:
        if detect is None:
            raise ValueError("prepare(): faces must be found, but no detector (detect=) given")
        found = list(detect(rgb))
        scores = [float(f.score) for f in found]
    prepared.boxes = [f.as_tuple() for f in found]
    prepared.face_scores = scores
    prepared.keypoints = [f.keypoints for f in found]
    return crop_faces(
        rgb, found, size=spec.size, color_mode=spec.color_mode, margin=margin, align=align
    )


def classify(
    model: Any,
    prepared: Sequence[PreparedImage],
    *,
    labels: Sequence[str],
    tta: TTA = "none",
    batch_size: int = 256,
    temperature: float = 1.0,
) -> list[list[FacePrediction] | SkippedImage]:
    """Classify the faces of several prepared images in one batched model call.

    Parameters
    ----------
    model : keras.Model, emorec.lite.LiteModel or emorec.onnx_model.OnnxModel
        The model (any runtime with ``predict_on_batch``).
    prepared : sequence of PreparedImage
        What :func:`prepare` gave.
    labels : sequence of str
        The model's output names.
    tta, batch_size, temperature
        As :func:`emorec.inference.predict_model_input` takes them.

    Returns
    -------
    list
        One entry per prepared image, in order: its faces' predictions, or a
        :class:`~emorec.SkippedImage` for one that could not be read.
    """
    crops = [p.crops for p in prepared if len(p.crops)]
    probs = (
        predict_model_input(
            model, np.concatenate(crops), tta=tta, batch_size=batch_size, temperature=temperature
        )
        if crops
        else np.zeros((0, len(labels)), np.float32)
    )
    results: list[list[FacePrediction] | SkippedImage] = []
    offset = 0
    for item in prepared:
        if item.error is not None:
            results.append(SkippedImage(item.index, item.source, item.error))
            continue
        faces = []
        for box, face_score, points in zip(item.boxes, item.face_scores, item.keypoints):
            p = probs[offset]
            offset += 1
            k = int(p.argmax())
            faces.append(
                FacePrediction(
                    box=box,
                    label=labels[k],
                    score=float(p[k]),
                    probabilities={n: float(v) for n, v in zip(labels, p)},
                    face_score=face_score,
                    keypoints=points,
                )
            )
        results.append(faces)
    return results
