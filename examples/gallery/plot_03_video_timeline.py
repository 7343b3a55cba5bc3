"""
A video to a timeline
=====================

Label the faces of a video frame by frame, follow each face with a track number, and draw
each track's expressions over time. The repository ships no video, so this example first
makes a three-second one from a photo (a slow pan across it).
"""

# %%
# A tiny video: 45 frames at 15 frames a second, each a 520x360 window moving across
# ``couple.jpg`` (:class:`emorec.video.VideoWriter` writes it; ``.avi`` is Motion JPEG).
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from emorec import EmotionClassifier, load_image
from emorec.plots import plot_timeline
from emorec.video import VideoWriter

work = Path(tempfile.mkdtemp())
photo = load_image("examples/photos/couple.jpg", "rgb")  # (480, 640, 3)
with VideoWriter(work / "clip.avi", fps=15) as video:
    for i in range(45):
        left = 3 * i
        video.write(np.ascontiguousarray(photo[60:420, left : left + 520]))

# %%
# :meth:`~emorec.EmotionClassifier.predict_video` yields one
# :class:`~emorec.FramePrediction` per frame it reads (here about five a second); each face
# carries its ``track``. ``smooth=3`` averages a face's probabilities over its track's last
# three frames.
clf = EmotionClassifier.load()
frames = list(clf.predict_video(work / "clip.avi", fps=5, smooth=3))
for frame in frames[:3]:
    print(f"{frame.time:.1f} s:", [(f.track, f.label, f"{f.score:.0%}") for f in frame.faces])

# %%
# :func:`emorec.plots.plot_timeline` draws each track's probabilities over time
# (``emorec predict clip.avi --fps 5 --timeline timeline.png`` from the shell):
timeline = plot_timeline(frames, work / "timeline.png", title="couple.jpg, panned")
plt.imshow(plt.imread(timeline))
plt.axis("off")
plt.show()
