"""`EmotionClassifier`: emotions of the faces in any photo, with a bundled pretrained model.

``EmotionClassifier.load()`` loads the bundled default model; ``predict(img)`` finds the faces
(``emorec.faces``), crops them to the model's input, classifies all faces of all images in one
batched model call, and returns a :class:`FacePrediction` per face.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .evaluation import DEFAULT_TTA, TTA, _tta_name, predict_proba
from .images import load_image
from .labels import LABELS

__all__ = [
    "AUTO_CROP_MAX_SIDE",
    "EmotionClassifier",
    "FacePrediction",
    "PredictionError",
    "predict_emotion",
]

logger = logging.getLogger("emorec")

#: With ``detect_faces="auto"``, an image no larger than this (both sides, pixels) is taken to
#: be one face crop (FER2013's crops are 48x48) and detection is skipped.
AUTO_CROP_MAX_SIDE = 96


@dataclass(frozen=True)
class FacePrediction:
    """The emotion of one face.

    Attributes
    ----------
    box : (x, y, width, height)
        The face in the original image's pixels (the whole image when detection was skipped).
    label : str
        The most probable emotion.
    score : float
        Its probability.
    probabilities : dict
        Probability of every label, in the model's label order.
    face_score : float or None
        The face detector's confidence (None when boxes were given or detection skipped).

    Examples
    --------
    >>> from emorec import FacePrediction
    >>> face = FacePrediction((10, 20, 50, 50), "happy", 0.9, {"happy": 0.9, "sad": 0.1})
    >>> face.to_dict()["box"], face.label
    ([10, 20, 50, 50], 'happy')
    """

    box: tuple[int, int, int, int]
    label: str
    score: float
    probabilities: dict[str, float]
    face_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "box": list(self.box),
            "label": self.label,
            "score": self.score,
            "probabilities": dict(self.probabilities),
            "face_score": self.face_score,
        }


@dataclass(frozen=True)
class PredictionError:
    """An input of a batch that could not be read (``errors="skip"``).

    Examples
    --------
    >>> from emorec import EmotionClassifier, PredictionError
    >>> clf = EmotionClassifier.load()
    >>> results = clf.predict([b"not an image"], errors="skip")
    >>> isinstance(results[0], PredictionError), results[0].index
    (True, 0)
    """

    index: int
    source: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"index": self.index, "source": self.source, "error": self.error}


@dataclass
class _Item:
    index: int
    source: str
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    face_scores: list[float | None] = field(default_factory=list)
    error: str | None = None


class EmotionClassifier:
    """Classify the emotions of faces with a Keras model that carries its own preprocessing.

    Usually made with :meth:`load`. The model takes 0..255 pixels of ``input_size`` and colour
    mode ``color_mode`` and outputs probabilities over ``labels``.

    Parameters
    ----------
    model : keras.Model
        The network.
    labels : sequence of str
        Output order of the model.
    card : dict, optional
        The model card (see :func:`emorec.read_card`).
    detector : str or FaceDetector
        Face detector for photos: a name from :func:`emorec.faces.list_detectors` or an object
        with a ``detect`` method.
    tta : {"none", "flip", "shift"}
        Test-time augmentation for every prediction (default :data:`DEFAULT_TTA`).
    margin : float
        Margin added around each detected face before cropping (fraction of its size).
    batch_size : int
        Faces per model call.

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
        model: Any,
        labels: Sequence[str] | None = None,
        *,
        card: dict[str, Any] | None = None,
        detector: Any = "default",
        tta: TTA = DEFAULT_TTA,
        margin: float = 0.2,
        batch_size: int = 256,
    ) -> None:
        self.model = model
        outputs = int(model.output_shape[-1])
        if labels is None:
            labels = (card or {}).get("labels") or (LABELS if outputs == len(LABELS) else None)
        if labels is None:
            raise ValueError(f"the model has {outputs} outputs; pass labels=[...] naming them")
        self.labels: tuple[str, ...] = tuple(labels)
        if len(self.labels) != outputs:
            raise ValueError(f"{len(self.labels)} labels given for a model with {outputs} outputs")
        shape = model.input_shape
        if len(shape) != 4 or shape[-1] not in (1, 3) or None in shape[1:3]:
            raise ValueError(f"the model's input shape {shape} is not (batch, h, w, 1 or 3)")
        #: ``(height, width)`` of the face crops the model takes.
        self.input_size: tuple[int, int] = (int(shape[1]), int(shape[2]))
        #: ``"grayscale"`` or ``"rgb"``.
        self.color_mode = "rgb" if shape[-1] == 3 else "grayscale"
        #: The model card (labels, input, metrics by split, provenance).
        self.card: dict[str, Any] = dict(card or {})
        self.card.setdefault("labels", list(self.labels))
        self._tta = _tta_name(tta)
        self.margin = float(margin)
        self.batch_size = int(batch_size)
        self._detector_spec = detector
        self._detector: Any = None

    # ------------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        name_or_path: str | os.PathLike[str] | None = None,
        *,
        labels: Sequence[str] | None = None,
        rescale: float | None = None,
        **kwargs: Any,
    ) -> EmotionClassifier:
        """Load the bundled default model, a bundled model by name, or a model file.

        Parameters
        ----------
        name_or_path : str or path-like, optional
            None for the default model; a name from :func:`emorec.list_pretrained`; a ``.keras``
            file (from the Trainer or :meth:`save`); or a legacy Keras ``.h5`` file, such as
            the seed notebook's ``model.save('emotion_model.h5')``.
        labels : sequence of str, optional
            Output order, for files without a card (default: FER2013's order for 7 outputs).
        rescale : float, optional
            For ``.h5`` files whose network expects scaled input: a factor applied to the 0..255
            pixels first (the seed notebook divided by 255: ``rescale=1/255``, the default for
            ``.h5``). Files from emorec scale inside the network.
        **kwargs
            Passed to :class:`EmotionClassifier` (``detector``, ``tta``, ``margin``...).

        Raises
        ------
        FileNotFoundError, KeyError
            For a missing file or an unknown name.
        ValueError
            For a file Keras refuses (a Lambda layer under safe mode, unknown custom layers).
        """
        from .models.card import DEFAULT_PRETRAINED, list_pretrained, load_model, read_card

        target = DEFAULT_PRETRAINED if name_or_path is None else name_or_path
        path = Path(target)
        if not path.exists() and isinstance(target, str) and target in list_pretrained():
            from .models.card import pretrained_path

            path = pretrained_path(target)
        if not path.exists():
            hint = f"; bundled models: {', '.join(list_pretrained()) or 'none'}"
            raise FileNotFoundError(f"{target}: no such model file or bundled model{hint}")
        if path.suffix.lower() in (".h5", ".hdf5"):
            model = _load_h5(path, 1 / 255 if rescale is None else rescale)
            return cls(model, labels, card={"source": str(path)}, **kwargs)
        model = load_model(path)
        try:
            card = read_card(path)
        except ValueError:
            card = {"source": str(path)}
        if rescale is not None:
            model = _prepend_rescaling(model, rescale)
        return cls(model, labels, card=card, **kwargs)

    # ------------------------------------------------------------------------ detection
    @property
    def detector(self) -> Any:
        """The face detector (created on first use)."""
        if self._detector is None:
            from .faces import get_detector

            self._detector = get_detector(self._detector_spec)
        return self._detector

    # ------------------------------------------------------------------------ predicting
    def predict_proba(self, crops: Any, *, tta: TTA | None = None) -> np.ndarray:
        """Probabilities ``(n, len(labels))`` for face crops, in one batched model call.

        Parameters
        ----------
        crops : array_like
            ``(n, h, w)``, ``(n, h, w, 1)`` or ``(n, h, w, 3)``, uint8 (or float in 0..255);
            resized and converted to the model's input when they differ.
        tta : {"none", "flip", "shift"}, optional
            Overrides the classifier's test-time augmentation.
        """
        arr = np.asarray(crops)
        if arr.ndim == 3:
            arr = arr[..., None]
        if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
            raise ValueError(f"crops have shape {arr.shape}; expected (n, h, w[, 1 or 3])")
        if arr.dtype != np.uint8:
            arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        mode = self._tta if tta is None else _tta_name(tta)
        return predict_proba(self.model, arr, batch_size=self.batch_size, tta=mode)

    def predict(
        self,
        images: Any,
        *,
        boxes: Sequence[Any] | None = None,
        detect_faces: bool | Literal["auto"] = "auto",
        errors: Literal["raise", "skip"] = "raise",
        tta: TTA | None = None,
    ) -> Any:
        """Find the faces in an image (or a list of images) and classify their emotions.

        Parameters
        ----------
        images : image or list of images
            A path (str or pathlib), bytes, a binary file object, a PIL image or a numpy array
            (grey, RGB or RGBA; uint8 or float in [0, 1]) — or a list of them.
        boxes : sequence, optional
            Face boxes ``(x, y, width, height)`` from your own detector (for a list of images,
            one sequence per image); detection is skipped.
        detect_faces : {"auto", True, False}
            ``"auto"``: an image no larger than :data:`AUTO_CROP_MAX_SIDE` pixels a side is one
            face crop, larger ones go through the detector; ``False`` classifies the whole image.
        errors : {"raise", "skip"}
            For a list: an unreadable item raises, or yields a :class:`PredictionError`.
        tta : {"none", "flip", "shift"}, optional
            Overrides the classifier's test-time augmentation.

        Returns
        -------
        list of FacePrediction, or a list of such lists (one per image) for a list input
            A photo with no face gives an empty list.
        """
        single = not isinstance(images, list | tuple)
        items = [images] if single else list(images)
        if boxes is not None and single:
            boxes = [boxes]
        if boxes is not None and len(boxes) != len(items):
            raise ValueError(f"boxes for {len(boxes)} images given for {len(items)} images")
        work: list[_Item] = []
        crops: list[np.ndarray] = []
        for i, image in enumerate(items):
            source = _describe(image, i)
            item = _Item(i, source)
            work.append(item)
            try:
                rgb = load_image(
                    image, "rgb", name=source if isinstance(image, str | Path) else None
                )
                given = None if boxes is None else boxes[i]
                item.boxes, item.face_scores, whole = self._faces(rgb, given, detect_faces)
                if item.boxes:
                    crops.append(self._crop(rgb, item.boxes, whole=whole))
            except (ValueError, OSError) as exc:
                if errors != "skip" or single:
                    raise
                item.error = str(exc)
        probs = (
            self.predict_proba(np.concatenate(crops), tta=tta)
            if crops
            else np.zeros((0, len(self.labels)))
        )
        results: list[Any] = []
        offset = 0
        for item in work:
            if item.error is not None:
                results.append(PredictionError(item.index, item.source, item.error))
                continue
            faces = []
            for box, face_score in zip(item.boxes, item.face_scores):
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
                    )
                )
            results.append(faces)
        return results[0] if single else results

    def _faces(
        self, rgb: np.ndarray, given: Any, detect_faces: bool | str
    ) -> tuple[list[tuple[int, int, int, int]], list[float | None], bool]:
        """Boxes, detector scores, and whether the box is the whole image (no detection)."""
        h, w = rgb.shape[:2]
        if given is not None:
            boxes = []
            for b in given:
                values = b.as_tuple() if hasattr(b, "as_tuple") else tuple(b)
                if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
                    raise ValueError(f"box {values} is not (x, y, width, height) with an area")
                boxes.append(tuple(int(round(v)) for v in values))
            return boxes, [None] * len(boxes), False  # type: ignore[return-value]
        if detect_faces not in ("auto", True, False):
            raise ValueError(f"detect_faces={detect_faces!r}; expected 'auto', True or False")
        if detect_faces is False or (detect_faces == "auto" and max(h, w) <= AUTO_CROP_MAX_SIDE):
            return [(0, 0, w, h)], [None], True
        found = self.detector.detect(rgb)
        return (
            [(f.x, f.y, f.width, f.height) for f in found],
            [float(f.score) for f in found],
            False,
        )

    def _crop(
        self, rgb: np.ndarray, boxes: list[tuple[int, int, int, int]], *, whole: bool
    ) -> np.ndarray:
        from .faces import crop_faces

        if whole:
            from PIL import Image

            img = Image.fromarray(rgb).resize(self.input_size[::-1], Image.Resampling.BILINEAR)
            if self.color_mode == "grayscale":
                return np.asarray(img.convert("L"))[None, ..., None]
            return np.asarray(img)[None]
        return crop_faces(
            rgb, boxes, size=self.input_size, color_mode=self.color_mode, margin=self.margin
        )

    # ------------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save as one ``.keras`` file with its model card.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        from .models.card import write_card

        out = Path(path)
        if out.suffix != ".keras":
            raise ValueError(f"{out}: the model file must end in .keras")
        if out.exists() and not overwrite:
            raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
        self.model.save(out)
        card = {k: v for k, v in self.card.items() if k not in ("format", "emorec_version")}
        card.update(
            labels=list(self.labels),
            input_shape=list(self.model.input_shape[1:]),
            color_mode=self.color_mode,
            parameters=int(self.model.count_params()),
        )
        write_card(out, card)
        return out

    def export(
        self,
        path: str | os.PathLike[str],
        format: Literal["saved_model", "tflite"] = "saved_model",
        *,
        overwrite: bool = False,
    ) -> Path:
        """Export for serving: a TensorFlow SavedModel folder or a TFLite file.

        The exported model takes ``(n, h, w, c)`` float32 pixels in 0..255 and returns
        probabilities over :attr:`labels` (written beside it as ``labels.json`` for a
        SavedModel; inside the card for TFLite users: ``clf.labels``).

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        out = Path(path)
        if out.exists() and not overwrite:
            raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
        if format == "saved_model":
            self.model.export(str(out), format="tf_saved_model", verbose=False)
            (out / "labels.json").write_text(json.dumps(list(self.labels)))
            return out
        if format == "tflite":
            import tensorflow as tf

            converter = tf.lite.TFLiteConverter.from_keras_model(self.model)
            out.write_bytes(converter.convert())
            return out
        raise ValueError(f"format={format!r}; expected 'saved_model' or 'tflite'")

    # ------------------------------------------------------------------------ fine-tuning
    def fine_tune(
        self,
        dataset: Any,
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
        import keras

        from .training import Trainer

        names = tuple(dataset.label_names if labels is None else labels)
        if len(names) != len(dataset.label_names):
            raise ValueError(
                f"labels={list(names)} does not name the dataset's "
                f"{len(dataset.label_names)} classes {list(dataset.label_names)}"
            )
        model = keras.models.clone_model(self.model)
        model.set_weights(self.model.get_weights())
        if names != self.labels:
            model = _new_head(model, len(names))
        if freeze_backbone:
            for layer in model.layers[:-2]:
                layer.trainable = False
        if labels is not None:
            dataset = type(dataset)(
                {s: _renamed(dataset[s], names) for s in dataset.split_names}, names
            )
        trainer_kwargs.setdefault("schedule", "cosine")
        rate = learning_rate or (0.01 if freeze_backbone else 0.005)
        trainer = Trainer(
            model,
            dataset,
            epochs=epochs,
            learning_rate=rate,
            output_dir=output_dir,
            **trainer_kwargs,
        )
        trainer.fit()
        best = Path(output_dir) / "best.keras"
        tuned = EmotionClassifier.load(
            best if best.exists() else Path(output_dir) / "final.keras",
            detector=self._detector_spec,
            tta=self._tta,
            margin=self.margin,
            batch_size=self.batch_size,
        )
        for layer in tuned.model.layers:
            layer.trainable = True
        return tuned

    def __repr__(self) -> str:
        arch = self.card.get("architecture", {}).get("name", self.model.name)
        return (
            f"EmotionClassifier({arch}, labels={list(self.labels)}, "
            f"input={self.input_size[0]}x{self.input_size[1]} {self.color_mode})"
        )


def _describe(image: Any, index: int) -> str:
    if isinstance(image, str | Path):
        return str(image)
    return f"<{type(image).__name__} #{index}>"


def _prepend_rescaling(model: Any, scale: float) -> Any:
    import keras

    inputs = keras.Input(model.input_shape[1:], name="pixels")
    x = keras.layers.Rescaling(scale, name="rescale_input")(inputs)
    return keras.Model(inputs, model(x), name=f"{model.name}_rescaled")


def _load_h5(path: Path, scale: float) -> Any:
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: Keras could not load this .h5 file ({exc})") from exc
    return _prepend_rescaling(model, scale) if scale != 1 else model


def _new_head(model: Any, num_classes: int) -> Any:
    """Replace the last Dense layer (and what follows it) with a fresh one."""
    import keras

    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError("the model has no Dense layer to replace for the new labels")
    features = model.layers[dense[-1]].input
    logits = keras.layers.Dense(num_classes, name="new_logits")(features)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="new_probabilities")(logits)
    return keras.Model(model.inputs, outputs, name=f"{model.name}_finetuned")


def _renamed(part: Any, names: tuple[str, ...]) -> Any:
    from dataclasses import replace

    return replace(part, label_names=names)


def predict_emotion(image: Any, **kwargs: Any) -> str | None:
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
