"""`EmotionClassifier`: emotions of the faces in any photo, with a bundled pretrained model.

``EmotionClassifier.load()`` loads the bundled default model; ``predict(img)`` finds the faces
(``emorec.faces``), crops them to the model's input, classifies all faces of all images in one
batched model call, and returns a :class:`FacePrediction` per face.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from .classifier_files import ModelFiles
from .classifier_streams import StreamingPredictions
from .faces.crops import DEFAULT_MARGIN
from .images import (
    DEFAULT_MAX_PIXELS,
    ChannelOrder,
    ImageSource,
    parse_max_pixels,
)
from .inference import TTA, default_tta, predict_proba, resolve_labels, tta_mode
from .models.card import ModelCard
from .pipeline import AUTO_CROP_MAX_SIDE, PreparedImage, classify, prepare
from .pixels import InputSpec
from .predictions import FacePrediction, SkippedImage

if TYPE_CHECKING:
    import keras

    from .faces import FaceBox, FaceDetector

__all__ = [
    "AUTO_CROP_MAX_SIDE",
    "EmotionClassifier",
    "FacePrediction",
    "SkippedImage",
    "predict_emotion",
]

logger = logging.getLogger("emorec")

#: Guards the creation of a classifier's detector on first use.
_DETECTOR_LOCK = threading.Lock()


class EmotionClassifier(StreamingPredictions, ModelFiles):
    """Classify the emotions of faces with a Keras model that carries its own preprocessing.

    Usually made with :meth:`load`. The model takes 0..255 pixels of ``input_size`` and colour
    mode ``color_mode`` (the pixel contract, :mod:`emorec.pixels`) and outputs probabilities
    over ``labels``.

    Parameters
    ----------
    model : keras.Model or emorec.lite.LiteModel
        The network (a TFLite file runs as a :class:`~emorec.lite.LiteModel`).
    labels : sequence of str, optional
        Output order of the model (default: the card's, else FER2013's for 7 outputs).
    card : ModelCard, optional
        The model card (see :func:`emorec.read_card`).
    detector : str or FaceDetector
        Face detector for photos: a name from :func:`emorec.faces.list_detectors` or an object
        with a ``detect`` method.
    tta : {"none", "flip", "shift"}, optional
        Test-time augmentation for every prediction. Default: the model card's ``tta`` (the
        mode its figures were measured with: ``"none"`` for the fast bundled model), else
        :data:`~emorec.inference.DEFAULT_TTA`.
    margin : float
        Margin added around each detected face before cropping (fraction of its size). The
        default, :data:`emorec.faces.crops.DEFAULT_MARGIN` (0.05), frames BlazeFace's boxes
        the way FER2013 frames its faces; it was chosen on validation faces rendered as photos
        (``benchmarks/cross_domain.py``).
    align : bool
        Rotate each detected face so that its eyes are level before cropping (when the
        detector gives keypoints; see :func:`emorec.faces.crop_faces`).
    batch_size : int
        Faces per model call.
    temperature : float, optional
        Temperature of the probabilities (:mod:`emorec.calibration`). Default: the one in the
        model card's ``calibration``, fitted on its validation split (the bundled models' on
        a FER2013 validation split carved from train), else 1.0. Accuracy does not depend
        on it; the scores do.
    max_pixels : int or None
        Photos and video frames larger than this many pixels are refused before they are
        decoded (an :class:`emorec.ImageError`, or an error row with ``errors="skip"``): the
        guard of :func:`emorec.load_image` against decompression bombs. Default
        :data:`emorec.images.DEFAULT_MAX_PIXELS` (89.5 million, Pillow's own warning level);
        raise it for larger photos, such as those of 108-megapixel phone cameras; None for no
        limit.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionClassifier
    >>> clf = EmotionClassifier.load()
    >>> clf.labels[:3], clf.input_size
    (('angry', 'disgust', 'fear'), (48, 48))
    >>> crop = np.full((48, 48), 128, np.uint8)
    >>> [p.label in clf.labels for p in clf.predict(crop)]
    [True]
    >>> clf.predict_proba(np.stack([crop, crop])).shape
    (2, 7)
    """

    def __init__(
        self,
        model: keras.Model,
        labels: Sequence[str] | None = None,
        *,
        card: ModelCard | None = None,
        detector: str | FaceDetector = "default",
        tta: TTA | None = None,
        margin: float = DEFAULT_MARGIN,
        align: bool = False,
        batch_size: int = 256,
        temperature: float | None = None,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.model = model
        #: What the model takes (the pixel contract's :class:`~emorec.pixels.InputSpec`).
        self.input_spec = InputSpec.from_model(model)
        self.labels: tuple[str, ...] = resolve_labels(
            model, labels, card.labels if card is not None else None
        )
        #: ``(height, width)`` of the face crops the model takes.
        self.input_size: tuple[int, int] = self.input_spec.size
        #: ``"grayscale"`` or ``"rgb"``.
        self.color_mode = self.input_spec.color_mode
        #: The model card (labels, input, metrics by split, provenance); None for a bare model.
        self.card: ModelCard | None = card
        self.tta: TTA = default_tta(tta, card.tta if card is not None else None)
        self.margin = float(margin)
        self.align = bool(align)
        self.batch_size = int(batch_size)
        #: The temperature applied to every prediction: the card's calibration unless given.
        self.temperature: float = float(
            temperature if temperature is not None else (card.temperature if card else 1.0)
        )
        if not 0 < self.temperature < float("inf"):
            raise ValueError(f"temperature={temperature!r}; expected a positive number")
        #: Photos and video frames with more pixels than this are refused unread (None: no
        #: limit): :func:`emorec.load_image`'s guard against decompression bombs.
        self.max_pixels: int | None = parse_max_pixels(max_pixels)
        #: The detector as given (a registered name or an object); :attr:`detector` builds it.
        self.detector_spec: str | FaceDetector = detector
        self._detector: FaceDetector | None = None

    # ------------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        name_or_path: str | os.PathLike[str] | None = None,
        *,
        labels: Sequence[str] | None = None,
        rescale: float | None = None,
        runtime: Literal["auto", "litert", "keras"] = "auto",
        **kwargs: Any,
    ) -> EmotionClassifier:
        """Load the bundled default model, a bundled model by name, or a model file.

        A bundled model runs its TFLite file on LiteRT (``ai-edge-litert``): no TensorFlow is
        imported, and it starts in a fraction of a second. Its Keras file, the same network
        (within 1e-4 of each probability, checked when the file was made), is loaded when
        needed: by :meth:`fine_tune`, :meth:`export` and :meth:`save`, or with
        ``runtime="keras"`` (which needs ``pip install "emorec[train]"``).

        Parameters
        ----------
        name_or_path : str or path-like, optional
            None for the default model; a name from :func:`emorec.list_pretrained`; a ``.keras``
            file (from the Trainer or :meth:`save`); or a legacy Keras ``.h5`` file, such as
            the seed notebook's ``model.save('emotion_model.h5')``. Resolved by
            :func:`emorec.models.resolve_model`, as every loader of emorec does.
        labels : sequence of str, optional
            Output order, for files without a card (default: FER2013's order for 7 outputs).
        rescale : float, optional
            For ``.h5`` files whose network expects scaled input: a factor applied to the 0..255
            pixels first (the seed notebook divided by 255: ``rescale=1/255``, the default for
            ``.h5``). Files from emorec scale inside the network.
        runtime : {"auto", "litert", "keras"}
            What runs the model. ``"auto"``: a bundled name's TFLite file on LiteRT where it
            has one, else its Keras file; a file by its suffix. ``"litert"`` or ``"keras"``
            ask for one (a bundled name's ``.tflite`` or ``.keras`` file); a file of the
            other kind is refused.
        **kwargs
            Passed to :class:`EmotionClassifier` (``detector``, ``tta``, ``margin``...).

        Raises
        ------
        FileNotFoundError
            For a missing file or an unknown name (the message lists the bundled models).
        ValueError
            For a file Keras refuses (a Lambda layer under safe mode, unknown custom layers),
            a malformed model card, or a ``runtime`` the file is not made for.
        """
        from .models.bundle import load_bundle

        bundle = load_bundle(name_or_path, runtime=runtime, labels=labels, rescale=rescale)
        return cls(bundle.model, bundle.labels, card=bundle.card, **kwargs)

    # ------------------------------------------------------------------------ detection
    @property
    def detector(self) -> FaceDetector:
        """The face detector (created on first use)."""
        if self._detector is None:
            with _DETECTOR_LOCK:  # predict_iter's worker threads ask at once: make one
                if self._detector is None:
                    from .faces import get_detector

                    self._detector = get_detector(self.detector_spec)
        return self._detector

    # ------------------------------------------------------------------------ predicting
    def predict_proba(
        self,
        crops: npt.ArrayLike,
        *,
        tta: TTA | None = None,
        channel_order: ChannelOrder = "rgb",
    ) -> npt.NDArray[np.float32]:
        """Probabilities ``(n, len(labels))`` for face crops, in one batched model call.

        Parameters
        ----------
        crops : array_like
            ``(n, h, w)`` or ``(n, h, w, 1 | 3 | 4)``: uint8 in 0..255, or float in [0, 1] (the
            same convention as :meth:`predict` and :func:`emorec.load_image`; floats outside
            [0, 1] are an error, not silently rescaled), or other integers in 0..255 (a nested
            list of Python ints; values outside 0..255 are an error). Converted to the model's
            input by the pixel contract when they differ.
        tta : {"none", "flip", "shift"}, optional
            Overrides the classifier's test-time augmentation.
        channel_order : {"rgb", "bgr"}
            Order of colour crops; ``"bgr"`` for OpenCV's arrays.

        Returns
        -------
        numpy.ndarray
            float32, rows summing to 1, at :attr:`temperature`: calibrated probabilities
            when the model card has a ``calibration`` (the bundled models are calibrated on
            a FER2013 validation split; on other faces they are likely over-confident still,
            see ``docs/models``).
        """
        return predict_proba(
            self.model,
            crops,
            tta=self.tta if tta is None else tta_mode(tta),
            batch_size=self.batch_size,
            channel_order=channel_order,
            temperature=self.temperature,
        )

    @overload
    def predict(
        self,
        images: ImageSource,
        *,
        boxes: Sequence[Any] | None = ...,
        detect_faces: bool | Literal["auto"] = ...,
        errors: Literal["raise", "skip"] = ...,
        tta: TTA | None = ...,
        channel_order: ChannelOrder = ...,
    ) -> list[FacePrediction]: ...
    @overload
    def predict(
        self,
        images: list[ImageSource] | tuple[ImageSource, ...],
        *,
        boxes: Sequence[Any] | None = ...,
        detect_faces: bool | Literal["auto"] = ...,
        errors: Literal["raise", "skip"] = ...,
        tta: TTA | None = ...,
        channel_order: ChannelOrder = ...,
    ) -> list[list[FacePrediction] | SkippedImage]: ...

    def predict(
        self,
        images: Any,
        *,
        boxes: Sequence[Any] | None = None,
        detect_faces: bool | Literal["auto"] = "auto",
        errors: Literal["raise", "skip"] = "raise",
        tta: TTA | None = None,
        channel_order: ChannelOrder = "rgb",
    ) -> Any:
        """Find the faces in an image (or a list or batch of images) and classify their emotions.

        Parameters
        ----------
        images : image, list of images, or a 4-d array
            An image is a path (str or pathlib), bytes, a binary file object, a PIL image or
            a numpy array ``(h, w)`` or ``(h, w, 1 | 3 | 4)`` (uint8 in 0..255, or float in
            [0, 1]). A list (or tuple) of them, or an array ``(n, h, w, c)`` (a batch: each
            ``[i]`` is one image), gives one result per image.
        boxes : sequence, optional
            Face boxes ``(x, y, width, height)`` from your own detector (for several images,
            one sequence per image); detection is skipped. Each box must overlap its image.
        detect_faces : {"auto", True, False}
            ``"auto"``: an image no larger than :data:`AUTO_CROP_MAX_SIDE` pixels a side is one
            face crop, larger ones go through the detector; ``False`` classifies the whole image.
        errors : {"raise", "skip"}
            For several images: an unreadable item raises, or yields a :class:`SkippedImage`.
        tta : {"none", "flip", "shift"}, optional
            Overrides the classifier's test-time augmentation.
        channel_order : {"rgb", "bgr"}
            Order of colour arrays: ``"bgr"`` for OpenCV's (``cv2.imread``, ``VideoCapture``
            frames). Files and PIL images know their own order.

        Returns
        -------
        list of FacePrediction, or a list of such lists (one per image) for several images
            A photo with no face gives an empty list.

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> batch = np.zeros((3, 48, 48, 3), np.uint8)  # e.g. three BGR crops from OpenCV
        >>> [len(r) for r in clf.predict(batch, channel_order="bgr")]
        [1, 1, 1]
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'skip'")
        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        mode = self.tta if tta is None else tta_mode(tta)
        batch_array = isinstance(images, np.ndarray) and images.ndim == 4
        single = not isinstance(images, list | tuple) and not batch_array
        items = [images] if single else list(images)
        if boxes is not None and single:
            boxes = [boxes]
        if boxes is not None and len(boxes) != len(items):
            raise ValueError(f"boxes for {len(boxes)} images given for {len(items)} images")
        prepared = [
            self.prepare(
                image,
                i,
                boxes=None if boxes is None else boxes[i],
                detect_faces=detect_faces,
                channel_order=channel_order,
                skip=errors == "skip" and not single,
                argument="images" if single else f"images[{i}]",
            )
            for i, image in enumerate(items)
        ]
        results = self.classify(prepared, mode)
        return results[0] if single else results

    def prepare(
        self,
        image: Any,
        index: int = 0,
        *,
        boxes: Sequence[Any] | None = None,
        detect_faces: bool | Literal["auto"] = "auto",
        channel_order: ChannelOrder = "rgb",
        skip: bool = False,
        argument: str | None = None,
    ) -> PreparedImage:
        """The first stage of :meth:`predict`: decode one image and find its faces, cut to
        the model's input, with this classifier's detector, margin, alignment and pixel
        limit (:func:`emorec.pipeline.prepare`; safe on worker threads).

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> clf.prepare(np.zeros((48, 48), np.uint8)).crops.shape
        (1, 48, 48, 1)
        """
        return prepare(
            image,
            index,
            input_spec=self.input_spec,
            detect=self._detect,
            boxes=boxes,
            detect_faces=detect_faces,
            channel_order=channel_order,
            max_pixels=self.max_pixels,
            margin=self.margin,
            align=self.align,
            skip=skip,
            argument=argument,
        )

    def classify(
        self, prepared: Sequence[PreparedImage], tta: TTA | None = None
    ) -> list[list[FacePrediction] | SkippedImage]:
        """The second stage of :meth:`predict`: classify the faces of prepared images in one
        batched model call, with this classifier's labels, TTA (unless ``tta`` is given),
        batch size and temperature (:func:`emorec.pipeline.classify`).

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> faces = clf.classify([clf.prepare(np.zeros((48, 48), np.uint8))])[0]
        >>> faces[0].label in clf.labels
        True
        """
        return classify(
            self.model,
            prepared,
            labels=self.labels,
            tta=self.tta if tta is None else tta_mode(tta),
            batch_size=self.batch_size,
            temperature=self.temperature,
        )

    def _detect(self, rgb: npt.NDArray[np.uint8]) -> Sequence[FaceBox]:
        return self.detector.detect(rgb)

    def __repr__(self) -> str:
        arch = (self.card.architecture_name if self.card else None) or self.model.name
        return (
            f"EmotionClassifier({arch}, labels={list(self.labels)}, "
            f"input={self.input_size[0]}x{self.input_size[1]} {self.color_mode})"
        )


def predict_emotion(image: ImageSource, **kwargs: Any) -> str | None:
    """The emotion of the largest face in an image, with the bundled model (the seed notebook's
    convenience); None when no face is found.

    ``kwargs`` go to :meth:`EmotionClassifier.predict`. The classifier is loaded once and kept.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import predict_emotion, LABELS
    >>> predict_emotion(np.full((48, 48), 100, np.uint8)) in LABELS
    True
    """
    global _default_classifier
    if _default_classifier is None:
        _default_classifier = EmotionClassifier.load()
    faces = _default_classifier.predict(image, **kwargs)
    if not faces:
        return None
    return str(max(faces, key=lambda f: f.box[2] * f.box[3]).label)


_default_classifier: EmotionClassifier | None = None
