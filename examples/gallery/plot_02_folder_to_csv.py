"""
A folder of photos to a CSV file
================================

Label every face in every photo of a folder and write one CSV row a face, as
``emorec predict examples/photos --output faces.csv`` does from the shell.
"""

# %%
# :meth:`~emorec.EmotionClassifier.predict_folder` streams ``(source, faces)`` in file-name
# order while worker threads decode and detect the next photos; :class:`emorec.results.RowWriter`
# writes the rows as they come (``.csv``, ``.jsonl`` or ``.parquet``).
import csv
import tempfile
from pathlib import Path

from emorec import EmotionClassifier
from emorec.results import RowWriter, result_rows

clf = EmotionClassifier.load()
out = Path(tempfile.mkdtemp()) / "faces.csv"
with RowWriter(out, clf.labels) as writer:
    for source, faces in clf.predict_folder("examples/photos", pattern="*.jpg"):
        writer.write(result_rows(source, faces, clf.labels))

# %%
# One row a face (a photo without a face has one row with an empty ``face``), with its box,
# label, score and one ``p_<label>`` column a label:
with open(out, newline="") as fh:
    rows = list(csv.DictReader(fh))
print(len(rows), "rows; columns:", ", ".join(rows[0]))
for row in rows[:5]:
    print(Path(row["source"]).name, row["face"], row["label"], row["score"])
