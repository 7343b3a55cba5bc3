"""
Register an architecture
========================

Add your own network to emorec's registry so that :func:`emorec.build_model`, the
:class:`~emorec.Trainer` and ``emorec train --model NAME`` (from a package, through an entry
point: :doc:`/models`) build it by name.
"""

# %%
# A builder takes keyword-only ``input_shape`` and ``num_classes`` (and options of its own)
# and returns a ``keras.Model`` that takes 0..255 pixels and outputs probabilities.
import tempfile

import keras

from emorec import EmotionDataset, ModelCard, Trainer, build_model, list_models, register_model


@register_model  # or @register_model("another_name")
def tiny_net(*, input_shape, num_classes, width=16):
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Conv2D(width, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


print(list_models("tiny*"))
model = build_model("tiny_net", num_classes=7, width=8)
print(model.input_shape, model.output_shape, model.count_params(), "parameters")

# %%
# Train it by name on the toy faces for one epoch (a toy run, a few seconds); the run's
# ``best.keras`` carries a model card naming the architecture and its options.
data = EmotionDataset.from_directory("examples/data/toy_faces.zip")
run = tempfile.mkdtemp()
trainer = Trainer(
    "tiny_net",
    data,
    model_kwargs={"width": 8},
    epochs=1,
    batch_size=8,
    val_split="test",
    output_dir=run,
    verbose=0,
)
history = trainer.fit()
print("val accuracy after one epoch (chance is 0.25):", history.history["val_accuracy"])
print(ModelCard.read(f"{run}/best.keras").architecture)
