"""Results as rows, and files of rows written as they come: CSV, JSON Lines, Parquet.

One row a face: ``source``; for a video, ``frame`` (its index) and ``time`` (seconds);
``face`` (1, 2... in the image; empty for an image without a face or that could not be
read); for a video, ``track`` (the same number for the same face from frame to frame); the
box ``x, y, w, h`` (pixels of the image), ``label``, ``score``, one ``p_<label>`` column
per label, ``face_score`` (the detector's), ``keypoints`` (JSON, when the detector gives
them) and ``error`` (for an image that could not be read). Every photo and every video frame
read gets at least one row, so that a file of rows says what is done: :class:`RowWriter`
resumes from it (``resume=True``) without redoing or repeating a photo or a frame.

Examples
--------
>>> from emorec.classifier import FacePrediction
>>> from emorec.results import result_rows
>>> face = FacePrediction((1, 2, 30, 40), "happy", 0.9, {"happy": 0.9, "sad": 0.1})
>>> row = result_rows("a.jpg", [face], ["happy", "sad"])[0]
>>> row["source"], row["face"], row["x"], row["label"], row["p_sad"]
('a.jpg', 1, 1, 'happy', 0.1)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._files import hold_lock
from ._optional import MissingDependencyError

__all__ = [
    "FORMATS",
    "RowWriter",
    "arrow_schema",
    "columns",
    "output_format",
    "result_rows",
    "to_dataframe",
]

#: Output formats by file extension.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}


def columns(labels: Sequence[str]) -> list[str]:
    """The row columns for a classifier with ``labels``, in order."""
    return [
        "source",
        "frame",
        "time",
        "face",
        "track",
        "x",
        "y",
        "w",
        "h",
        "label",
        "score",
        *(f"p_{name}" for name in labels),
        "face_score",
        "keypoints",
        "error",
    ]


def arrow_schema(labels: Sequence[str]) -> Any:
    """The Arrow schema of the rows for ``labels``, as :class:`RowWriter` writes Parquet: text
    for the names and labels, integers for the frame, face, track and box, floats for the
    rest. Needs pyarrow.

    Examples
    --------
    >>> from emorec.results import arrow_schema
    >>> schema = arrow_schema(["happy", "sad"])
    >>> str(schema.field("x").type), str(schema.field("p_sad").type)
    ('int64', 'double')
    """
    import pyarrow as pa

    return _arrow_schema(columns(labels), pa)


def _arrow_schema(names: Sequence[str], pa: Any) -> Any:
    text = {"source", "label", "keypoints", "error"}
    whole = {"frame", "face", "track", "x", "y", "w", "h"}
    return pa.schema(
        [
            (c, pa.string() if c in text else pa.int64() if c in whole else pa.float64())
            for c in names
        ]
    )


def result_rows(source: str, result: Any, labels: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of one image's result (a list of :class:`~emorec.FacePrediction`, a
    :class:`~emorec.SkippedImage`, or a video's :class:`~emorec.FramePrediction`): one a
    face, or one empty row (no face, or the error)."""
    empty: dict[str, Any] = dict.fromkeys(columns(labels))
    empty["source"] = source
    if hasattr(result, "faces"):  # a video frame
        empty["frame"], empty["time"] = int(result.frame), _round(result.time)
        result = result.faces
    error = getattr(result, "error", None)
    if error is not None:
        return [{**empty, "error": error}]
    if not result:
        return [empty]
    rows = []
    for n, face in enumerate(result, 1):
        x, y, w, h = face.box
        row = {**empty, "face": n, "track": face.track, "x": x, "y": y, "w": w, "h": h}
        row.update(label=face.label, score=_round(face.score), face_score=_round(face.face_score))
        row.update({f"p_{name}": _round(face.probabilities.get(name)) for name in labels})
        if face.keypoints is not None:
            row["keypoints"] = json.dumps([[round(float(v), 2) for v in p] for p in face.keypoints])
        rows.append(row)
    return rows


def _round(value: float | None) -> float | None:
    """Six decimals: what a float32 probability holds, without the float64 digits."""
    return None if value is None else round(float(value), 6)


def _field(value: Any) -> str:
    """A JSON value as the CSV reader gives it: ``""`` for null."""
    return "" if value is None else str(value)


def _text(value: Any) -> Any:
    """A str Parquet can hold: a file name that is not UTF-8 gets U+FFFD for its bad bytes."""
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    return value


def to_dataframe(rows: Iterable[dict[str, Any]]) -> Any:
    """A pandas DataFrame of rows (pandas is an optional dependency).

    Raises
    ------
    ImportError
        Without pandas, saying how to install it.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError(
            f"to_dataframe needs pandas: pip install pandas ({exc})"
        ) from None
    return pd.DataFrame(list(rows))


def output_format(path: str | os.PathLike[str]) -> str:
    """``"csv"``, ``"jsonl"`` or ``"parquet"`` from the extension.

    Raises
    ------
    ValueError
        For another extension, naming the ones known.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{path}: unknown output format {suffix or '(no extension)'!r}; expected one of "
            f"{', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


#: The frames of each video whose tracked faces a resumed :class:`RowWriter` keeps.
KNOWN_FRAMES = 256


def _tracked_box(box: Sequence[str], track: str) -> list[tuple[tuple[float, ...], int]]:
    """A row's ``[((x, y, w, h), track)]``; ``[]`` for a row without a tracked face."""
    try:
        return [(tuple(float(v) for v in box), int(track))]
    except ValueError:
        return []


class RowWriter:
    """Append rows to a CSV, JSON Lines or Parquet file as they come.

    CSV and JSON Lines are written a photo (or a video frame) at a time, each one's rows in
    one system call (so a killed process leaves a photo's rows whole or absent, never some
    of them), and put on disk (``fsync``) every ``flush_every`` writes and at the end. A
    resume keeps the rows of every photo and frame but the file's last one, which it does
    again (a kill, a full disk or a copy cut short may have left it incomplete): a video
    goes on from the frame after its last one kept. Parquet is written in row groups of
    ``flush_every`` writes (pyarrow, an optional dependency) and is complete only once
    closed, so it cannot resume.

    Parameters
    ----------
    path : str or path-like
        The file; its extension picks the format (:data:`FORMATS`).
    labels : sequence of str
        The classifier's labels (the probability columns).
    resume : bool
        Continue an earlier file: its sources count as done (:attr:`done`; for a video,
        done up to :attr:`frames`); the photo or frame whose rows may have been cut short,
        the last one in the file, is dropped from it (at the first :meth:`write`, so that a
        job refused or stopped before one leaves the file as it was) and done again; none is
        written twice.
    overwrite : bool
        Replace an existing file (without ``resume``).

    Raises
    ------
    FileExistsError
        If the file exists and neither ``resume`` nor ``overwrite``.
    ValueError
        For an unknown extension; for ``resume`` with Parquet or with a file whose columns
        are not these.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec.results import RowWriter, result_rows
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> with RowWriter(path, ["happy", "sad"]) as out:
    ...     for name in ("a.jpg", "b.jpg"):
    ...         out.write(result_rows(name, [], ["happy", "sad"]))
    >>> RowWriter(path, ["happy", "sad"], resume=True).done  # b.jpg, the last, is done again
    {'a.jpg'}
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        labels: Sequence[str],
        *,
        resume: bool = False,
        overwrite: bool = False,
        flush_every: int = 16,
    ) -> None:
        self.path = Path(path)
        self.format = output_format(self.path)
        self.columns = columns(labels)
        self.flush_every = max(1, int(flush_every))
        #: The sources already in the file (with ``resume``).
        self.done: set[str] = set()
        #: Every source the file names: :attr:`done` and the last one, which a resume does
        #: again (its rows may have been cut) under the same name.
        self.named: set[str] = set()
        #: For each video among them, the index of the last frame in the file.
        self.frames: dict[str, int] = {}
        #: For each video among them, its highest track id in the rows kept (new tracks go on
        #: from it).
        self.tracks: dict[str, int] = {}
        #: For each video among them, the faces of its last ``KNOWN_FRAMES`` (256) frames kept:
        #: ``{frame: [((x, y, w, h), track), ...]}`` (what ``predict_video(known_tracks=)``
        #: takes to go on with the same tracks).
        self.known_tracks: dict[str, dict[int, list[tuple[tuple[float, ...], int]]]] = {}
        self._pending = 0
        self._buffer: list[dict[str, Any]] = []
        self._parquet: Any = None
        self._closed = False
        self._cut_at: int | None = None  # where the resumed file's kept rows end
        exists = self.path.exists()
        if resume and self.format == "parquet":
            raise ValueError(
                f"{self.path}: a Parquet file is complete only once closed and cannot be "
                "resumed; write .csv or .jsonl to resume, and convert at the end"
            )
        if exists and not resume and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite=True or resume=True")
        self._file: Any = None
        self._lock: int | None = None
        if self.format == "parquet":
            self._pyarrow()  # fails early without pyarrow
        # one writer a file: a second job on the same output is refused before it truncates
        self._lock = hold_lock(self.path, "rows")
        try:
            if self.format == "parquet":
                return
            if resume and exists:
                self._recover()
            else:
                self._start_file()
            self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        except BaseException:
            self._release()
            raise

    def _start_file(self) -> None:
        """A new file: the header for CSV, nothing for JSON Lines."""
        self.path.write_text(
            ",".join(self.columns) + "\n" if self.format == "csv" else "", encoding="utf-8"
        )

    # ---------------------------------------------------------------- resume
    def _recover(self) -> None:
        """Read the done sources; the file is cut after the last source known to be whole
        at the first :meth:`write`."""
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1  # what follows the last newline is torn: never kept
        first_line = ",".join(self.columns)
        ours = first_line.encode() if self.format == "csv" else b'{"source": '
        if end == 0 and not (ours.startswith(data) or data.startswith(ours)):
            raise self._foreign(data[:80])
        if end == 0:  # not one whole line (a first line cut short): start the file again
            self._start_file()
            return
        text = data[:end].decode("utf-8", errors="surrogateescape")
        # (source, frame) and the byte offset of its first row
        groups: list[tuple[tuple[str, str], int]] = []
        seen: set[tuple[str, str]] = set()  # the groups read: each must come once
        faces: list[list[tuple[tuple[float, ...], int]]] = []  # each group's tracked faces
        frame_at, track_at = self.columns.index("frame"), self.columns.index("track")
        box_at = [self.columns.index(c) for c in "xywh"]
        offset, consumed = 0, 0
        if self.format == "csv":
            # byte offset after each physical line, to cut the file at a row's start
            ends = [m.end() for m in re.finditer(b"\n", data[:end])]
            reader = csv.reader(io.StringIO(text, newline=""))
            try:
                header = next(reader)
            except (StopIteration, csv.Error):
                header = []
            if header != self.columns:
                raise self._other_columns(header)
            consumed = reader.line_num
            offset = ends[consumed - 1]
            try:
                for row in reader:  # quoted fields may hold newlines: csv counts the lines
                    if not row or len(row) != len(self.columns):
                        if next(reader, None) is not None:  # not the torn end: an edit
                            raise self._edited(f"line {consumed + 1} is not a row")
                        break
                    key = (row[0], row[frame_at])
                    if not groups or groups[-1][0] != key:
                        self._check_new_group(key, seen, consumed + 1)
                        groups.append((key, offset))
                        faces.append([])
                    faces[-1].extend(_tracked_box([row[at] for at in box_at], row[track_at]))
                    consumed = reader.line_num
                    offset = ends[consumed - 1]
            except csv.Error:  # a row cut inside a quoted field
                pass
        else:
            lines = text.split("\n")[:-1]
            for number, line in enumerate(lines, 1):
                value = self._row_of(line)
                if number == 1 and (value is None or list(value) != self.columns):
                    raise (
                        self._foreign(line[:80])
                        if value is None
                        else self._other_columns(list(value))
                    )
                if value is None or list(value) != self.columns:
                    # a torn write leaves no newline (rows hold none): this line was edited
                    raise self._edited(f"line {number} is not a row")
                key = (str(value["source"]), _field(value.get("frame")))
                if not groups or groups[-1][0] != key:
                    self._check_new_group(key, seen, number)
                    groups.append((key, offset))
                    faces.append([])
                faces[-1].extend(
                    _tracked_box([_field(value.get(c)) for c in "xywh"], _field(value.get("track")))
                )
                offset += len(line.encode("utf-8", errors="surrogateescape")) + 1
        self.named = {source for (source, _), _ in groups}
        if groups:  # the last source may have lost rows after its whole lines: do it again
            offset = groups.pop()[1]
            faces.pop()
        if offset != len(data):
            # cut at the first write, so that a job refused before it leaves the file whole
            self._cut_at = offset
        self.done = {source for (source, _), _ in groups}
        for ((source, frame), _), found in zip(groups, faces):
            if frame.lstrip("-").isdigit():
                self.frames[source] = max(int(frame), self.frames.get(source, -1))
                known = self.known_tracks.setdefault(source, {})
                known[int(frame)] = found
                for _, track in known[int(frame)]:
                    self.tracks[source] = max(track, self.tracks.get(source, 0))
                if len(known) > KNOWN_FRAMES:
                    del known[next(iter(known))]  # the oldest

    def _edited(self, what: str) -> ValueError:
        return ValueError(
            f"{self.path}: {what}; the file was edited or sorted since emorec wrote it, and a "
            "resume needs its rows as they were written (each photo's, each frame's together, "
            "in order); write another file"
        )

    def _check_new_group(self, key: tuple[str, str], seen: set[tuple[str, str]], line: int) -> None:
        """Refuse a photo or frame whose rows are not together: an edited or sorted file,
        whose last source could not be cut off and redone whole."""
        if key in seen:
            raise self._edited(f"the rows of {key[0]!r} are not together (line {line})")
        seen.add(key)

    def _foreign(self, sample: Any) -> ValueError:
        return ValueError(
            f"{self.path}: not a file of rows emorec wrote ({sample!r}); resume from the file "
            "an earlier run wrote, or write another file"
        )

    def _other_columns(self, names: Sequence[str]) -> ValueError:
        return ValueError(
            f"{self.path}: its columns are not this classifier's ({','.join(names)[:200]!r}); "
            "resume with the same model, or write another file"
        )

    @staticmethod
    def _row_of(line: str) -> dict[str, Any] | None:
        try:
            value = json.loads(line)
        except ValueError:
            return None
        return value if isinstance(value, dict) and "source" in value else None

    # ---------------------------------------------------------------- writing
    def _pyarrow(self) -> Any:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise MissingDependencyError(
                f"{self.path}: writing Parquet needs pyarrow: pip install pyarrow ({exc})"
            ) from None
        return pa, pq

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write one source's rows."""
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed; open a RowWriter to write")
        if self.format == "parquet":
            self._buffer.extend(rows)
        else:
            # a file name that is not UTF-8 keeps its bytes (and matches on resume)
            view = memoryview(self._encode(rows).encode("utf-8", errors="surrogateescape"))
            if self._cut_at is not None:
                os.ftruncate(self._file.fileno(), self._cut_at)
                self._cut_at = None
            while view:  # one call, unless the system writes less (a full disk)
                view = view[os.write(self._file.fileno(), view) :]
        self._pending += 1
        if self._pending >= self.flush_every:
            self.flush()

    def _encode(self, rows: Sequence[dict[str, Any]]) -> str:
        if self.format == "jsonl":
            return "".join(json.dumps({c: r.get(c) for c in self.columns}) + "\n" for r in rows)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for r in rows:
            writer.writerow(["" if r.get(c) is None else r.get(c) for c in self.columns])
        return buffer.getvalue()

    def flush(self) -> None:
        """Put what was written on disk."""
        self._pending = 0
        if self.format == "parquet":
            if not self._buffer:
                return
            pa, pq = self._pyarrow()
            table = pa.Table.from_pylist(
                [{c: _text(r.get(c)) for c in self.columns} for r in self._buffer],
                schema=self._schema(pa),
            )
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
            self._buffer = []
            return
        if self._file is not None:
            os.fsync(self._file.fileno())

    def _schema(self, pa: Any) -> Any:
        return _arrow_schema(self.columns, pa)

    def close(self) -> None:
        """Flush and close the file (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        self.flush()
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        elif self.format == "parquet":  # no rows at all: an empty table
            pa, pq = self._pyarrow()
            pq.write_table(pa.Table.from_pylist([], schema=self._schema(pa)), self.path)
        if self._file is not None:
            self._file.close()
            self._file = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
