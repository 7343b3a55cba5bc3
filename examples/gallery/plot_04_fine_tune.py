"""
Fine-tune on your own folders
=============================

Teach the bundled model your own labels from one folder of images a class. A toy: 24
cartoon faces in four classes, one epoch, a few seconds; with real data use hundreds of
images a class and the default 10 epochs.
"""

# %%
# Your data: a folder a class, here under ``train/`` and ``test/`` (without a ``test/``
# folder, all of it trains). The toy faces ship as a zip; here they are unpacked into
# folders as yours would be (a zip or ``.tar.gz`` of that layout is read as it is, too).
import tempfile
import zipfile
from pathlib import Path

from emorec import EmotionClassifier, EmotionDataset

work = Path(tempfile.mkdtemp())
zipfile.ZipFile("examples/data/toy_faces.zip").extractall(work / "my_faces")
print("\n".join(sorted(str(p.relative_to(work)) for p in (work / "my_faces").glob("*/*"))))
data = EmotionDataset.from_directory(work / "my_faces")
print(data.summary())

# %%
# :meth:`~emorec.EmotionClassifier.fine_tune` puts a new head for your labels on the
# trained network and trains it (``emorec[train]``: TensorFlow); the run's files, its best
# model included, go to ``output_dir``. The small bundled model keeps the toy quick; the
# default one (``EmotionClassifier.load()``) fine-tunes the same way. ``val_split="test"``
# validates on the ``test/`` folder (by default, on a tenth of ``train/``).
clf = EmotionClassifier.load("fer2013_mini_xception")
mine = clf.fine_tune(
    data, output_dir=work / "run", epochs=1, batch_size=8, val_split="test", seed=0, verbose=0
)
print("labels:", mine.labels)
print("files:", sorted(p.name for p in (work / "run").iterdir()))

# %%
# The new classifier predicts your labels (after one epoch on 24 faces, not well):
probabilities = mine.predict_proba(data["test"].images[:4])
print(probabilities.round(2))
print("predicted:", [mine.labels[i] for i in probabilities.argmax(axis=1)])
print("true:     ", [data.label_names[i] for i in data["test"].labels[:4]])
