"""Fine-tuning: a trained classifier on new data and, when they differ, new labels.

:meth:`emorec.EmotionClassifier.fine_tune` calls :func:`fine_tune` here. The boundary between
backbone and head is the model's last ``Dense`` layer: new labels replace it (and what follows
it) with a fresh one; with ``freeze_backbone`` everything before the head is frozen, batch
normalisation included. Training goes through the public :class:`emorec.Trainer`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classifier import EmotionClassifier
    from .data import DatasetSplit, EmotionDataset

__all__ = ["fine_tune", "new_head"]


def fine_tune(
    clf: EmotionClassifier,
    dataset: EmotionDataset,
    *,
    output_dir: str | os.PathLike[str],
    labels: Sequence[str] | None = None,
    epochs: int = 10,
    freeze_backbone: bool = True,
    learning_rate: float | None = None,
    **trainer_kwargs: Any,
) -> EmotionClassifier:
    """Fine-tune ``clf`` on ``dataset``; a new classifier (see
    :meth:`emorec.EmotionClassifier.fine_tune` for the parameters). ``clf`` is left unchanged.

    Examples
    --------
    >>> from emorec import EmotionClassifier, EmotionDataset
    >>> from emorec.finetune import fine_tune
    >>> mine = fine_tune(EmotionClassifier.load(),  # doctest: +SKIP
    ...                  EmotionDataset.from_directory("my_faces/"), output_dir="runs/mine")
    """
    import keras

    from .training import Trainer

    names = tuple(dataset.label_names if labels is None else labels)
    if len(names) != len(dataset.label_names):
        raise ValueError(
            f"labels={list(names)} does not name the dataset's "
            f"{len(dataset.label_names)} classes {list(dataset.label_names)}"
        )
    model = keras.models.clone_model(clf.model)
    model.set_weights(clf.model.get_weights())
    if names != clf.labels:
        model = new_head(model, len(names))
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
    run = trainer.run_folder
    tuned = type(clf).load(
        run.best_model if run.best_model.exists() else run.final_model,
        detector=clf.detector_spec,
        tta=clf.tta,
        margin=clf.margin,
        align=clf.align,
        batch_size=clf.batch_size,
    )
    for layer in tuned.model.layers:
        layer.trainable = True
    return tuned


def new_head(model: Any, num_classes: int) -> Any:
    """``model`` with its last Dense layer (and what follows it) replaced by a fresh one of
    ``num_classes`` outputs, softmax in float32.

    Raises
    ------
    ValueError
        If the model has no Dense layer.

    Examples
    --------
    >>> from emorec import build_model
    >>> from emorec.finetune import new_head
    >>> new_head(build_model("seed_cnn"), 3).output_shape
    (None, 3)
    """
    import keras

    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError("the model has no Dense layer to replace for the new labels")
    features = model.layers[dense[-1]].input
    logits = keras.layers.Dense(num_classes, name="new_logits")(features)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="new_probabilities")(logits)
    return keras.Model(model.inputs, outputs, name=f"{model.name}_finetuned")


def _renamed(part: DatasetSplit, names: tuple[str, ...]) -> DatasetSplit:
    return replace(part, label_names=names)
