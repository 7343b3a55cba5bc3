"""`EmotionClassifier`: emotions of the faces in any photo, with a bundled pretrained model.

``EmotionClassifier.load()`` loads the bundled default model; ``predict(img)`` finds the faces
(``emorec.faces``), crops them to the model's input, classifies all faces of all images in one
batched model call, and returns a :class:`FacePrediction` per face.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from ._paths import check_path
from .faces.crops import DEFAULT_MARGIN
from .images import (
    DEFAULT_MAX_PIXELS,
    ChannelOrder,
    ImageError,
    ImageSource,
    _parse_max_pixels,
    load_image,
)
from .inference import (
    TTA,
    default_tta,
    predict_model_input,
    predict_proba,
    resolve_labels,
    tta_mode,
)
from .models.card import ModelCard
from .pixels import InputSpec, to_model_input
from .predictions import Box, FacePrediction, FramePrediction, Keypoints, SkippedImage
from .sources import expand_sources
from .streaming import stream, video_stream

if TYPE_CHECKING:
    import keras

    from .data import EmotionDataset
    from .faces import FaceBox, FaceDetector

__all__ = [
    "AUTO_CROP_MAX_SIDE",
    "EmotionClassifier",
    "FacePrediction",
    "SkippedImage",
    "predict_emotion",
]

logger = logging.getLogger("emorec")

#: With ``detect_faces="auto"``, an image no larger than this (both sides, pixels) is taken to
#: be one face crop (FER2013's crops are 48x48) and detection is skipped.
AUTO_CROP_MAX_SIDE = 96


@dataclass
class _Item:
    index: int
    source: str
    boxes: list[Box] = field(default_factory=list)
    face_scores: list[float | None] = field(default_factory=list)
    keypoints: list[Keypoints | None] = field(default_factory=list)
    error: str | None = None


#: Guards the creation of a classifier's detector on first use.
_DETECTOR_LOCK = threading.Lock()


class EmotionClassifier:
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
        self.max_pixels: int | None = _parse_max_pixels(max_pixels)
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
        from .models.card import load_model, resolve_model

        if runtime not in ("auto", "litert", "keras"):
            raise ValueError(f"runtime={runtime!r}; expected 'auto', 'litert' or 'keras'")
        path = resolve_model(name_or_path, keras=runtime == "keras")
        is_lite = path.suffix.lower() == ".tflite"
        if runtime != "auto" and is_lite != (runtime == "litert"):
            raise ValueError(
                f"{path.name} is a {'TFLite' if is_lite else 'Keras'} model; runtime={runtime!r} "
                f"runs {'TFLite' if runtime == 'litert' else 'Keras'} models (a Keras model "
                "becomes a TFLite file with EmotionClassifier.export(..., 'tflite'))"
            )
        model = load_model(path, rescale=rescale)
        keras_or_lite = path.suffix.lower() in (".keras", ".tflite", ".onnx")
        card = ModelCard.read_optional(path) if keras_or_lite else None
        return cls(model, labels, card=card, **kwargs)

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
            self._prepare(
                image,
                i,
                None if boxes is None else boxes[i],
                detect_faces,
                channel_order,
                skip=errors == "skip" and not single,
                argument="images" if single else f"images[{i}]",
            )
            for i, image in enumerate(items)
        ]
        results = self._classify(prepared, mode)
        return results[0] if single else results

    def predict_iter(
        self,
        images: Any,
        *,
        detect_faces: bool | Literal["auto"] = "auto",
        errors: Literal["raise", "skip"] = "raise",
        tta: TTA | None = None,
        channel_order: ChannelOrder = "rgb",
        pattern: str = "*",
        recursive: bool = False,
        chunk_size: int = 32,
        workers: int | None = None,
    ) -> Iterator[tuple[str, list[FacePrediction] | SkippedImage]]:
        """Predict over a collection, streaming: yields ``(source, faces)`` in input order.

        Decoding and face detection run on ``workers`` threads while the model classifies
        the faces of ``chunk_size`` images in one batched call; at most ``3 * chunk_size``
        images are in flight (their face crops, not their pixels), so memory stays bounded
        however long the collection is.

        Parameters
        ----------
        images : path, folder, glob, image, or an iterable of them
            Expanded by :func:`emorec.sources.expand_sources` (folders and globs give their
            image files, sorted; ``pattern`` and ``recursive`` apply to them); any iterable
            works, a generator included, and is read as the results are consumed.
        detect_faces, errors, tta, channel_order
            As for :meth:`predict`; with ``errors="skip"`` an unreadable item yields a
            :class:`SkippedImage`, with ``"raise"`` its error is raised when its turn comes
            (the results before it have been yielded).
        chunk_size : int
            Images classified together.
        workers : int, optional
            Threads that decode and detect (default: the CPU count, at most 4). emorec's
            detectors are safe to share between threads; pass ``workers=1`` for a detector
            of your own that is not.

        Yields
        ------
        (str, list of FacePrediction or SkippedImage)
            The source (the path, or ``<type #index>`` for an in-memory image) and its result.

        Examples
        --------
        >>> import numpy as np
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> crops = (np.full((48, 48), v, np.uint8) for v in (0, 128, 255))  # any iterable
        >>> [(source, len(faces)) for source, faces in clf.predict_iter(crops)]
        [('<ndarray #0>', 1), ('<ndarray #1>', 1), ('<ndarray #2>', 1)]
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'skip'")
        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size!r}; expected an int of at least 1")
        mode = self.tta if tta is None else tta_mode(tta)
        threads = workers if workers is not None else min(4, os.cpu_count() or 1)
        sources = enumerate(expand_sources(images, pattern=pattern, recursive=recursive))
        prepare = partial(
            self._prepare,
            given=None,
            detect_faces=detect_faces,
            channel_order=channel_order,
            skip=errors == "skip",
        )
        classify = partial(self._classify, mode=mode)
        # checked now, not at the first next(): the stream below is a generator
        return stream(sources, prepare, classify, chunk_size=chunk_size, threads=threads)

    def predict_video(
        self,
        video: str | os.PathLike[str] | int,
        *,
        every: int | None = None,
        fps: float | None = None,
        start: int = 0,
        smooth: int = 1,
        iou_threshold: float = 0.3,
        max_age: int = 5,
        first_track: int = 1,
        known_tracks: Mapping[int, Sequence[tuple[Sequence[float], int]]] | None = None,
        annotate: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        detect_faces: bool | Literal["auto"] = "auto",
        tta: TTA | None = None,
        chunk_size: int | None = None,
        workers: int | None = None,
    ) -> Generator[FramePrediction, None, None]:
        """Predict over the frames of a video file or a camera, streaming, with face tracks.

        Frames are decoded in order on this thread and their faces found on worker threads, as
        :meth:`predict_iter` does for photos (at most ``3 * chunk_size`` frames in flight, so
        memory stays flat over any length of video). Each face gets a ``track``: faces are
        followed from frame to frame by their boxes' overlap (:class:`emorec.tracking.IoUTracker`).

        Parameters
        ----------
        video : path or int
            A video file (anything OpenCV reads: .mp4, .avi, .mov, .mkv, .webm...) or a camera
            index (0 for the first camera; stop by closing the stream or leaving the loop).
        every : int, optional
            Classify every ``every``-th frame (the others are skipped undecoded).
        fps : float, optional
            Classify about ``fps`` frames a second instead. Not both.
        start : int
            First frame index to read (a resumed job starts past the frames it has).
        smooth : int
            Average each face's probabilities over the last ``smooth`` frames of its track
            (frames classified, the current one included; 1: no smoothing). The label and
            score follow the average: a face's label then changes only when the
            expression holds for about ``smooth / 2`` frames.
        iou_threshold, max_age
            The tracker's: the least box overlap that continues a track, and the frames a
            track may go unseen before it ends.
        first_track : int
            The first track's id (a job resumed with ``start`` goes on from its ids).
        known_tracks : mapping, optional
            For a job resumed with ``start``: the faces of the frames it has, ``{frame index:
            [((x, y, width, height), track id), ...]}``. The last ``max_age + smooth`` of
            those frames are read and tracked again, not yielded, each face taking the id
            given for its box, so that the faces keep their track ids across the resume and
            their smoothing goes on: the frames from ``start`` come out as from a run that
            never stopped. ``emorec predict --resume`` passes the rows of its file.
        annotate : path, optional
            Write a copy of the frames classified, faces boxed with track and emotion, to
            this video (.mp4, .m4v, .mov, .mkv or .avi), at the rate they were read. It
            appears when the stream ends (also when it is closed early); an error drops it.
        overwrite : bool
            Replace an existing ``annotate`` file.
        detect_faces, tta
            As for :meth:`predict`.
        chunk_size, workers
            Frames classified together (default 8 for a file; 1 for a camera, so that each
            frame comes out as soon as it is classified), and threads that decode and detect.

        Yields
        ------
        FramePrediction
            The frame's index and time (seconds) and its faces, in frame order.

        Raises
        ------
        FileNotFoundError, emorec.video.VideoError
            When there is no such video or OpenCV cannot read it (raised by the call).

        Examples
        --------
        >>> import os, tempfile, numpy as np
        >>> from emorec import EmotionClassifier
        >>> from emorec.video import VideoWriter
        >>> path = os.path.join(tempfile.mkdtemp(), "blank.mp4")
        >>> with VideoWriter(path, fps=10) as out:  # ten blank frames
        ...     for _ in range(10):
        ...         out.write(np.zeros((120, 160, 3), np.uint8))
        >>> clf = EmotionClassifier.load()
        >>> [(f.frame, f.time, len(f.faces)) for f in clf.predict_video(path, every=5)]
        [(0, 0.0, 0), (5, 0.5, 0)]
        """
        from .tracking import IoUTracker
        from .video import VideoWriter, read_frames

        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size={chunk_size!r}; expected an int of at least 1")
        mode = self.tta if tta is None else tta_mode(tta)
        tracker = IoUTracker(
            iou_threshold=iou_threshold, max_age=max_age, smooth=smooth, first_id=first_track
        )
        threads = workers if workers is not None else min(4, os.cpu_count() or 1)
        replay = sorted(f for f in known_tracks or () if f < start)[-(max_age + smooth) :]
        reader = read_frames(
            video,
            every=every,
            fps=fps,
            start=replay[0] if replay else start,
            max_pixels=self.max_pixels,
        )
        try:
            writer = (
                None
                if annotate is None
                else VideoWriter(annotate, fps=reader.rate, overwrite=overwrite)
            )
        except BaseException:
            reader.close()
            raise
        chunk = chunk_size if chunk_size is not None else 1 if reader.camera else 8
        prepare = partial(
            self._prepare, given=None, detect_faces=detect_faces, channel_order="rgb", skip=False
        )
        classify = partial(self._classify, mode=mode)
        return video_stream(
            reader,
            tracker,
            writer,
            prepare,
            classify,
            self.labels,
            chunk_size=chunk,
            threads=threads,
            start=start,
            known=known_tracks,
        )

    def predict_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        pattern: str = "*",
        recursive: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[str, list[FacePrediction] | SkippedImage]]:
        """:meth:`predict_iter` over the image files of ``folder`` (sorted; ``pattern`` filters
        the names, e.g. ``"*.jpg"``; ``recursive`` includes sub-folders).

        Raises
        ------
        NotADirectoryError
            If ``folder`` is not a folder.

        Examples
        --------
        >>> import tempfile
        >>> from emorec import EmotionClassifier
        >>> list(EmotionClassifier.load().predict_folder(tempfile.mkdtemp()))  # empty folder
        []
        """
        if not Path(folder).is_dir():
            raise NotADirectoryError(f"{folder}: not a folder")
        return self.predict_iter(folder, pattern=pattern, recursive=recursive, **kwargs)

    def _prepare(
        self,
        image: Any,
        index: int,
        given: Any,
        detect_faces: bool | str,
        channel_order: ChannelOrder,
        *,
        skip: bool,
        argument: str | None = None,
    ) -> tuple[_Item, npt.NDArray[np.uint8]]:
        """Decode one image and find its faces: its record and its model-input crops (the
        part of :meth:`predict` that runs on worker threads in :meth:`predict_iter`).
        ``argument`` names the image in errors about its path (default ``images[index]``)."""
        item = _Item(index, _describe(image, index))
        try:
            if image is None:
                raise ValueError(f"{item.source}: None is not an image")
            if isinstance(image, str | os.PathLike):
                check_path(image, argument or f"images[{index}]", ImageError)
            rgb = load_image(
                image,
                "rgb",
                max_pixels=self.max_pixels,
                name=item.source if isinstance(image, str | Path) else None,
                channel_order=channel_order,
            )
            return item, self._faces(item, rgb, given, detect_faces)
        except (ValueError, OSError) as exc:
            if not skip:
                raise
            item.error = str(exc)
            return item, np.zeros((0, *self.input_spec.shape), np.uint8)

    def _classify(
        self, prepared: Sequence[tuple[_Item, npt.NDArray[np.uint8]]], mode: TTA
    ) -> list[list[FacePrediction] | SkippedImage]:
        """Classify the crops of several prepared images in one batched call."""
        crops = [c for _, c in prepared if len(c)]
        probs = (
            predict_model_input(
                self.model,
                np.concatenate(crops),
                tta=mode,
                batch_size=self.batch_size,
                temperature=self.temperature,
            )
            if crops
            else np.zeros((0, len(self.labels)), np.float32)
        )
        results: list[list[FacePrediction] | SkippedImage] = []
        offset = 0
        for item, _ in prepared:
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
                        label=self.labels[k],
                        score=float(p[k]),
                        probabilities={n: float(v) for n, v in zip(self.labels, p)},
                        face_score=face_score,
                        keypoints=points,
                    )
                )
            results.append(faces)
        return results

    def _faces(
        self, item: _Item, rgb: np.ndarray, given: Any, detect_faces: bool | str
    ) -> npt.NDArray[np.uint8]:
        """Fill ``item``'s boxes, scores and keypoints; return the model-input crops."""
        from .faces import check_box, crop_faces

        h, w = rgb.shape[:2]
        found: list[FaceBox]
        if given is not None:
            found = [check_box(b, (h, w), index=j) for j, b in enumerate(given)]
            scores: list[float | None] = [None] * len(found)
        elif detect_faces is False or (detect_faces == "auto" and max(h, w) <= AUTO_CROP_MAX_SIDE):
            item.boxes, item.face_scores, item.keypoints = [(0, 0, w, h)], [None], [None]
            return to_model_input(rgb[None], self.input_spec)
        else:
            found = list(self.detector.detect(rgb))
            scores = [float(f.score) for f in found]
        item.boxes = [f.as_tuple() for f in found]
        item.face_scores = scores
        item.keypoints = [f.keypoints for f in found]
        return crop_faces(
            rgb,
            found,
            size=self.input_size,
            color_mode=self.color_mode,
            margin=self.margin,
            align=self.align,
        )

    # ------------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save as one ``.keras`` file with its model card.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        model = self._keras_classifier("saved as .keras").model
        out = Path(path)
        if out.suffix != ".keras":
            raise ValueError(f"{out}: the model file must end in .keras")
        if out.exists() and not overwrite:
            raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
        model.save(out)
        old = self.card
        kept: dict[str, Any] = {}
        if old is not None:
            kept = dict(training=old.training, metrics=old.metrics, extra=dict(old.extra))
            if old.architecture is not None:
                kept["architecture"] = old.architecture
        if old is not None and self.temperature == old.temperature:
            kept["calibration"] = old.calibration
        elif self.temperature != 1.0:
            kept["calibration"] = {"temperature": self.temperature, "split": None}
        kept["tta"] = self.tta  # what the classifier applies, so the file loads the same
        ModelCard.from_model(model, self.labels, **kept).write(out)
        return out

    def export(
        self,
        path: str | os.PathLike[str],
        format: Literal["keras", "tflite", "onnx", "saved_model"] | None = None,
        *,
        quantize: Literal["int8", "float16"] | None = None,
        representative: npt.ArrayLike | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Export for serving: a Keras, TFLite or ONNX file, or a TensorFlow SavedModel folder.

        Each TFLite and ONNX file is run beside the Keras model on 256 crops before it is
        kept: a float export must give every probability within 1e-4 (else ``ValueError``,
        nothing written); the card records the difference and how often the top labels agree
        (for int8, measure the accuracy on labelled faces: ``emorec evaluate``). An ONNX
        file carries its card in its metadata and needs ``pip install "emorec[onnx]"``.
        A bundled model is exported from its Keras file.

        The exported model takes ``(n, h, w, c)`` float32 pixels in 0..255 and returns
        probabilities over :attr:`labels`, at :attr:`temperature` (what :meth:`predict_proba`
        gives with ``tta="none"``; the temperature itself was fitted with the classifier's
        default TTA). A SavedModel folder gets ``labels.json``; a TFLite file gets its model
        card beside it (``model.card.json`` for ``model.tflite``: labels, input, training
        record, quantization), so that ``EmotionClassifier.load("model.tflite")`` runs it
        (:class:`emorec.lite.LiteModel`). See :mod:`emorec.export`.

        Parameters
        ----------
        path : str or path-like
            The file (``.keras``, ``.tflite``, ``.onnx``) or SavedModel folder to write.
        format : {"keras", "tflite", "onnx", "saved_model"}, optional
            Default: from the suffix of ``path`` (a name without one of those suffixes is a
            SavedModel folder). A suffix that disagrees with ``format`` is an error.
        quantize : {"int8", "float16"}, optional
            TFLite only. ``"int8"``: full-integer quantization of weights and activations
            (inputs and outputs stay float32, so callers feed the same 0..255 pixels),
            calibrated on ``representative``; about 4 times smaller and faster on CPUs with
            VNNI. ``"float16"``: float16 weights, half the size.
        representative : array_like, optional
            For ``quantize="int8"``: a few hundred face crops like the ones the model will
            see, for example training images (``(n, h, w)`` or ``(n, h, w, c)``, uint8 or
            float in [0, 1]), from which the activation ranges are measured.

        Raises
        ------
        FileExistsError
            If ``path`` (or the card beside a TFLite file) exists and ``overwrite`` is False.
        ValueError
            For ``quantize`` with the SavedModel format, an unknown ``quantize``,
            ``quantize="int8"`` without ``representative`` crops, a path whose suffix
            disagrees with ``format``, a float export that disagrees with the Keras model, or
            a classifier on an exported file (not a bundled model's twin).

        Examples
        --------
        >>> import numpy as np, os, tempfile
        >>> from emorec import EmotionClassifier
        >>> clf = EmotionClassifier.load()
        >>> crops = np.random.default_rng(0).integers(0, 256, (32, 48, 48), np.uint8)
        >>> out = clf.export(os.path.join(tempfile.mkdtemp(), "m.tflite"), "tflite",
        ...                  quantize="int8", representative=crops)
        >>> out.stat().st_size < 2_500_000
        True
        >>> EmotionClassifier.load(out).predict_proba(crops[:2]).shape
        (2, 7)
        """
        from .export import export, format_of

        return export(
            self._keras_classifier("exported"),
            path,
            format or format_of(path),
            quantize=quantize,
            representative=representative,
            overwrite=overwrite,
        )

    def _keras_classifier(self, action: str) -> EmotionClassifier:
        """This classifier on its Keras model: itself, or for a TFLite twin of a Keras file
        (a bundled model's ``.tflite``, whose card names the ``.keras`` beside it as its
        ``serving`` source) the same settings on that Keras file."""
        from ._optional import is_keras_model

        if is_keras_model(self.model):
            return self
        path = Path(getattr(self.model, "path", getattr(self.model, "name", "model")))
        serving = self.card.extra.get("serving") if self.card is not None else None
        source = serving.get("source") if isinstance(serving, dict) else None
        twin = path.with_name(source) if isinstance(source, str) else None
        if twin is None or twin.suffix != ".keras" or not twin.is_file():
            kinds = {".onnx": "an ONNX", ".tflite": "a TFLite"}
            kind = kinds.get(path.suffix.lower(), "a non-Keras")
            raise ValueError(
                f"{path.name} is {kind} model, which cannot be {action} (only a Keras model "
                "can); load the "
                "Keras model (.keras) it was exported from, for example "
                'EmotionClassifier.load("ferplus_vgg_m", runtime="keras")'
            )
        from .models.card import load_model

        logger.info("%s: loading %s (Keras) to be %s", path.name, twin.name, action)
        return EmotionClassifier(
            load_model(twin),
            self.labels,
            card=ModelCard.read_optional(twin),
            detector=self.detector_spec,
            tta=self.tta,
            margin=self.margin,
            align=self.align,
            batch_size=self.batch_size,
            temperature=self.temperature,
            max_pixels=self.max_pixels,
        )

    # ------------------------------------------------------------------------ fine-tuning
    def fine_tune(
        self,
        dataset: EmotionDataset,
        *,
        output_dir: str | os.PathLike[str],
        labels: Sequence[str] | None = None,
        epochs: int = 10,
        freeze_backbone: bool = True,
        learning_rate: float | None = None,
        **trainer_kwargs: Any,
    ) -> EmotionClassifier:
        """Fine-tune on your own :class:`~emorec.EmotionDataset`; returns a new classifier.

        When the dataset's labels differ from :attr:`labels`, the last dense layer is replaced
        by a new one for the dataset's labels (a new head); the rest of the network keeps its
        trained weights. Training goes through :class:`emorec.Trainer` (cosine schedule by
        default); the best model by validation accuracy is returned. This classifier is left
        unchanged.

        Parameters
        ----------
        dataset : EmotionDataset
            Your data; trains on its ``train`` split (validation as in the Trainer).
        output_dir : str or path-like
            Folder for the run (see :class:`~emorec.Trainer`).
        labels : sequence of str, optional
            Names for the outputs, in the order of ``dataset.label_names`` (default: those
            names).
        epochs : int
            Epochs to train.
        freeze_backbone : bool
            Train only the head (the last dense layer) and keep the rest fixed, batch
            normalisation included: quick, and safe with a few hundred images. False trains
            the whole network.
        learning_rate : float, optional
            Default 0.01 with a frozen backbone, 0.005 for the whole network (SGD).
        **trainer_kwargs
            Other :class:`~emorec.Trainer` arguments (``batch_size``, ``augment``, ``seed``...).

        Examples
        --------
        >>> clf = EmotionClassifier.load()  # doctest: +SKIP
        >>> mine = clf.fine_tune(EmotionDataset.from_directory("my_faces/"),  # doctest: +SKIP
        ...                      output_dir="runs/mine", epochs=5)
        """
        source = self._keras_classifier("fine-tuned")
        from .finetune import fine_tune

        return fine_tune(
            source,
            dataset,
            output_dir=output_dir,
            labels=labels,
            epochs=epochs,
            freeze_backbone=freeze_backbone,
            learning_rate=learning_rate,
            **trainer_kwargs,
        )

    def __repr__(self) -> str:
        arch = (self.card.architecture_name if self.card else None) or self.model.name
        return (
            f"EmotionClassifier({arch}, labels={list(self.labels)}, "
            f"input={self.input_size[0]}x{self.input_size[1]} {self.color_mode})"
        )


def _describe(image: Any, index: int) -> str:
    if isinstance(image, str | Path):
        return str(image)
    return f"<{type(image).__name__} #{index}>"


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
