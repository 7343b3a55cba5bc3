"""
Export to TFLite and ONNX, and load it back
===========================================

Write a model as a ``.tflite`` or ``.onnx`` file for a runtime without TensorFlow (LiteRT,
ONNX Runtime), then load the file back and predict with it. Exporting needs
``emorec[train]`` (ONNX also ``emorec[onnx]``); running the files does not.
"""

# %%
# :meth:`~emorec.EmotionClassifier.export` exports a bundled model from its Keras file and
# checks the result against it on 256 crops before keeping it; the file carries the model
# card (labels, input, temperature). The small ``fer2013_mini_xception`` keeps this quick.
import tempfile
from pathlib import Path

from emorec import EmotionClassifier

work = Path(tempfile.mkdtemp())
clf = EmotionClassifier.load("fer2013_mini_xception")
for name in ("mini.tflite", "mini.onnx"):
    path = clf.export(work / name)
    print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")

# %%
# Load each file back: the classifier reads its labels and input from the file's card, and
# gives the same answer as the bundled model.
photo = "examples/photos/astronaut.jpg"
print("bundled:", [(f.label, round(f.score, 3)) for f in clf.predict(photo)])
for name in ("mini.tflite", "mini.onnx"):
    exported = EmotionClassifier.load(work / name)
    print(f"{name}:", [(f.label, round(f.score, 3)) for f in exported.predict(photo)])
