"""Model files of :class:`~emorec.EmotionClassifier`: ``save``, ``export`` and ``fine_tune``.

:class:`ModelFiles` is one of the classifier's bases (as Keras's ``Model`` takes ``fit`` from
its ``Trainer`` class in a module of its own): these methods need the Keras model, so a
classifier on a bundled model's TFLite twin loads the twin's ``.keras`` file for them first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy.typing as npt

from .models.card import ModelCard
from .pixels import InputSpec

if TYPE_CHECKING:
    from .classifier import EmotionClassifier
    from .data import EmotionDataset
    from .faces import FaceDetector
    from .inference import TTA

__all__ = ["ModelFiles"]

logger = logging.getLogger("emorec")


class ModelFiles:
    """The model-file methods of :class:`~emorec.EmotionClassifier` (its base class)."""

    model: Any
    card: ModelCard | None
    labels: tuple[str, ...]
    detector_spec: str | FaceDetector
    tta: TTA
    margin: float
    align: bool
    batch_size: int
    temperature: float
    max_pixels: int | None
    input_spec: InputSpec

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
        default TTA). A SavedModel folder gets ``labels.json``; a TFLite file carries its
        model card inside (labels, input, training record, quantization; in the
        flatbuffer's metadata), so that ``EmotionClassifier.load("model.tflite")`` runs it
        (:class:`emorec.lite.LiteModel`), even copied alone. See :mod:`emorec.export`.

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
            If ``path`` exists and ``overwrite`` is False.
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
        """This classifier on its Keras model: itself, or for a bundled model's TFLite twin
        the same settings on the ``.keras`` file beside it
        (:meth:`emorec.models.bundle.ModelBundle.keras_twin`)."""
        from .models.bundle import ModelBundle

        made = cast("type[EmotionClassifier]", type(self))
        path = getattr(self.model, "path", None)
        bundle = ModelBundle(
            self.model,
            Path(path) if path is not None else None,
            self.card,
            self.labels,
            self.input_spec,
            self.tta,
            self.temperature,
        )
        twin = bundle.keras_twin(action)
        if twin is bundle:
            return cast("EmotionClassifier", self)
        assert bundle.path is not None and twin.path is not None  # keras_twin found the file
        logger.info("%s: loading %s (Keras) to be %s", bundle.path.name, twin.path.name, action)
        return made(
            twin.model,
            self.labels,
            card=twin.card,
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
