"""
Predict a photo
===============

Find every face in a photo and label its expression with the bundled default model
(``ferplus_vgg_m``: offline, and without TensorFlow), then draw each face's box and label.
"""

# %%
# :meth:`~emorec.EmotionClassifier.predict` returns one :class:`~emorec.FacePrediction` a
# face: its box (x, y, width, height in the photo's pixels), label, score and the
# probability of every label.
import matplotlib.pyplot as plt

from emorec import EmotionClassifier
from emorec.plots import annotate

clf = EmotionClassifier.load()
faces = clf.predict("examples/photos/couple.jpg")
for face in faces:
    print(face.box, face.label, f"{face.score:.0%}")

# %%
# :func:`emorec.plots.annotate` draws the boxes and labels on a copy of the photo (a PIL
# image); ``emorec predict PHOTO --annotate OUT.jpg`` does the same from the shell.
plt.imshow(annotate("examples/photos/couple.jpg", faces))
plt.axis("off")
plt.show()
