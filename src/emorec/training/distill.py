"""Knowledge distillation for the :class:`~emorec.training.Trainer`: its teachers and targets.

The Trainer's ``teacher=`` and ``distill=`` come here:

- :func:`load_teachers` resolves and loads the teachers (a bundled model's name, a ``.keras``
  file or a Keras model), checks that each takes the student's input and gives its labels,
  and freezes them;
- :func:`with_teacher_targets` maps each augmented training batch of the ``tf.data`` pipeline
  to the target ``(1 - distill) * label + distill * mean of the teachers' probabilities``,
  with the class weights of the true labels as sample weights.

TensorFlow backend only: the teachers run in the ``tf.data`` pipeline. The Trainer checks the
weight and records the teachers' provenance and the weight in its config and model cards.
Keras and TensorFlow are imported when a function needs them, not with this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..models.bundle import load_bundle

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

__all__ = ["load_teachers", "with_teacher_targets"]


def load_teachers(
    teacher: Any, student: keras.Model, labels: Sequence[str]
) -> tuple[list[keras.Model], list[dict[str, str]]]:
    """Load the teachers given as ``teacher=``, checked against the student, and freeze them.

    Parameters
    ----------
    teacher : str, path-like, keras.Model, a list of them, or None
        A bundled model's name (:func:`emorec.list_pretrained`), a ``.keras`` file or a Keras
        model; a list or tuple of them for an ensemble; None for no distillation.
    student : keras.Model
        The model being trained: every teacher must take its input shape.
    labels : sequence of str
        The student's labels: every teacher must give that many outputs, and a teacher with a
        model card must name the same labels in the same order.

    Returns
    -------
    models : list of keras.Model
        The teachers, non-trainable (empty for ``teacher=None``).
    record : list of dict
        Each teacher's provenance, for the config and the cards: ``{"file": name, "sha256":
        digest}`` for a file (never its path), ``{"model": name}`` for a Keras model.

    Raises
    ------
    ValueError
        If ``teacher`` is an empty list, the backend is not TensorFlow, a file is a TFLite
        model, or a teacher's labels, input or outputs differ from the student's.
    FileNotFoundError
        If a teacher is neither a file nor a bundled model.

    Examples
    --------
    >>> from emorec import build_model
    >>> from emorec.training.distill import load_teachers
    >>> student = build_model("seed_cnn", num_classes=3)
    >>> teacher = build_model("seed_cnn", num_classes=3)
    >>> models, record = load_teachers(teacher, student, ("a", "b", "c"))
    >>> len(models), models[0].trainable, record == [{"model": teacher.name}]
    (1, False, True)
    >>> load_teachers(None, student, ("a", "b", "c"))
    ([], [])
    """
    import keras

    if teacher is None:
        return [], []
    given = list(teacher) if isinstance(teacher, (list, tuple)) else [teacher]
    if not given:
        raise ValueError("teacher=[]; give at least one model, or None")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"teacher= needs the TensorFlow backend (the teachers run in the tf.data "
            f"pipeline); this is {keras.backend.backend()}"
        )
    labels = tuple(labels)
    models, record = [], []
    for item in given:
        if isinstance(item, keras.Model):
            model, provenance = item, {"model": item.name}
        else:
            bundle = load_bundle(item, trains="teacher", fallback_labels=labels)
            model, provenance, card = bundle.model, bundle.provenance, bundle.card
            if card is not None and tuple(card.labels) != labels:
                raise ValueError(
                    f"teacher {provenance['file']}: its outputs are "
                    f"{', '.join(card.labels)}; the student's are {', '.join(labels)}:"
                    " a teacher must give the same labels in the same order"
                )
        if tuple(model.input_shape[1:]) != tuple(student.input_shape[1:]) or (
            model.output_shape[-1] != len(labels)
        ):
            raise ValueError(
                f"teacher {provenance}: takes {model.input_shape[1:]} and gives "
                f"{model.output_shape[-1]} outputs; the student takes "
                f"{student.input_shape[1:]} and gives {len(labels)} "
                f"({', '.join(labels)}): a teacher must match both"
            )
        model.trainable = False
        models.append(model)
        record.append(provenance)
    return models, record


def with_teacher_targets(
    data: tf.data.Dataset,
    teachers: Sequence[keras.Model],
    *,
    weight: float,
    class_weights: Mapping[int, float],
    num_classes: int,
) -> tf.data.Dataset:
    """Mix the teachers' mean probabilities on each batch into its one-hot targets.

    Each ``(images, one_hot)`` batch becomes ``(images, target)`` with ``target = (1 - weight)
    * one_hot + weight * mean of the teachers' probabilities on images``, computed in the
    ``tf.data`` pipeline (on the augmented images, as the student sees them). Keras would take
    each image's class weight from the argmax of its soft target, which the teachers can move:
    with class weights, the batch is ``(images, target, weights)`` instead, each image weighed
    by its true label.

    Parameters
    ----------
    data : tf.data.Dataset
        Batches of ``(images, one_hot)``, as :meth:`emorec.EmotionDataset.to_tf` gives with
        ``label_mode="categorical"``.
    teachers : sequence of keras.Model
        The teachers (:func:`load_teachers`), run with ``training=False``.
    weight : float
        The weight of the teachers' probabilities (the Trainer's ``distill``).
    class_weights : mapping of int to float
        ``{class index: weight}``; empty for none. A class not named weighs 1.
    num_classes : int
        The number of labels (the length of the weight table).

    Returns
    -------
    tf.data.Dataset
        The mapped batches, prefetched.

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> from emorec import build_model
    >>> from emorec.training.distill import with_teacher_targets
    >>> teacher = build_model("seed_cnn", num_classes=3)
    >>> x, y = np.zeros((2, 48, 48, 1), np.float32), np.eye(3, dtype=np.float32)[[0, 2]]
    >>> data = tf.data.Dataset.from_tensors((x, y))
    >>> batch = next(iter(with_teacher_targets(
    ...     data, [teacher], weight=0.5, class_weights={2: 3.0}, num_classes=3)))
    >>> target, weights = batch[1].numpy(), batch[2].numpy()
    >>> np.allclose(target, 0.5 * y + 0.5 * teacher(x).numpy(), atol=1e-6), weights.tolist()
    (True, [1.0, 3.0])
    """
    import tensorflow as tf

    lookup = (
        tf.constant([class_weights.get(k, 1.0) for k in range(num_classes)], tf.float32)
        if class_weights
        else None
    )

    def soften(x: Any, y: Any) -> tuple[Any, ...]:
        taught = tf.add_n([t(x, training=False) for t in teachers]) / len(teachers)
        target = (1.0 - weight) * y + weight * tf.cast(taught, y.dtype)
        if lookup is None:
            return x, target
        return x, target, tf.gather(lookup, tf.argmax(y, axis=-1))

    return data.map(soften, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
