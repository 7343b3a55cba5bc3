"""FER+ (Barsoum et al., ICMI 2016): ten annotators' votes for every FER2013 face.

Microsoft's ``fer2013new.csv`` has one row per row of ``fer2013.csv``, in the same order, with
the columns ``Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,
unknown,NF``: how many of the (usually ten) annotators chose each emotion, "unknown", or "not a
face". A row with an empty ``Image name`` is a face FER+ dropped.

:func:`read_ferplus_votes` reads and checks the file; :func:`ferplus_targets` turns the votes
into what training and evaluation need, as the FER+ paper and its reference code do:

- votes of a single annotator are dropped as outliers (``min_votes=2``, FER+'s code);
- a face whose most voted column is ``unknown`` or ``NF`` (not a face), or that has no emotion
  vote left, is dropped; so is a face dropped by FER+ itself;
- without ``contempt``, its votes are dropped and a face whose most voted emotion is contempt
  is dropped (the seven FER2013 classes remain, in :data:`emorec.labels.LABELS` order);
- ``"majority"``: the emotion with the most votes; a face where two emotions tie is dropped;
- ``"probability"``: the vote distribution over the emotions as soft targets (ties are kept);
  its ``labels`` are the most voted emotion (the first on a tie), used to stratify splits and
  weigh classes.

Every face also gets its majority label (-1 on a tie), so that a model trained on the
distributions is measured against the majority, as FER+ reports it.

Examples
--------
>>> import numpy as np
>>> from emorec.data.ferplus import ferplus_targets
>>> votes = np.array([[4, 0, 0, 1, 3, 2, 0, 0, 0, 0],   # neutral 4 of 10
...                   [0, 0, 0, 0, 0, 0, 0, 0, 1, 9],   # not a face
...                   [0, 5, 5, 0, 0, 0, 0, 0, 0, 0]])  # a tie: happy and surprised
>>> t = ferplus_targets(votes, "majority")
>>> [t.label_names[i] for i in t.labels[t.keep]], t.keep.tolist()
(['neutral'], [True, False, False])
>>> p = ferplus_targets(votes, "probability")
>>> p.keep.tolist(), p.majority.tolist()
([True, False, True], [6, -1, -1])
>>> [round(float(x), 2) for x in p.targets[0]]  # the single sad vote is dropped
[0.33, 0.22, 0.0, 0.0, 0.0, 0.0, 0.44]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from .._paths import check_path
from ..labels import FERPLUS_LABELS, LABELS
from .csv_text import csv_lines

__all__ = [
    "FERPLUS_COLUMNS",
    "FERPLUS_FILE",
    "FerPlusMode",
    "FerPlusTargets",
    "FerPlusVotes",
    "check_alignment",
    "ferplus_targets",
    "read_ferplus_votes",
]

#: The vote columns of ``fer2013new.csv``, in file order.
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
#: The file name Microsoft's FERPlus repository gives the votes.
FERPLUS_FILE = "fer2013new.csv"

#: How votes become labels: the majority emotion, the vote distribution, or (``"fer2013"``)
#: not at all: FER2013's own labels stay, with FER+'s majority beside them for evaluation.
FerPlusMode = Literal["majority", "probability", "fer2013"]

# FER+ column -> index into FERPLUS_LABELS (LABELS order, contempt last)
_EMOTION_INDEX = [
    FERPLUS_LABELS.index(n)
    for n in ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt")
]


@dataclass(frozen=True)
class FerPlusVotes:
    """The votes of ``fer2013new.csv``.

    Attributes
    ----------
    votes : numpy.ndarray
        int64 ``(n, 10)``, columns :data:`FERPLUS_COLUMNS`.
    usage : tuple of str
        Each row's ``Usage`` (``Training``, ``PublicTest``, ``PrivateTest``).
    dropped : numpy.ndarray
        bool ``(n,)``: rows FER+ dropped (empty ``Image name``).
    """

    votes: npt.NDArray[np.int64]
    usage: tuple[str, ...]
    dropped: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.votes.shape[0])


@dataclass(frozen=True)
class FerPlusTargets:
    """What :func:`ferplus_targets` makes of the votes; arrays have one row per face.

    Attributes
    ----------
    label_names : tuple of str
        The seven FER2013 classes, plus ``contempt`` with ``contempt=True``.
    keep : numpy.ndarray
        bool: the face has a label in this mode (see the module's rules).
    labels : numpy.ndarray
        int64 index into ``label_names`` (-1 where not kept): the majority emotion, or for
        ``"probability"`` the most voted one (the first on a tie).
    targets : numpy.ndarray
        float32 ``(n, len(label_names))``: one-hot for ``"majority"``, the vote distribution
        for ``"probability"``; zeros where not kept.
    majority : numpy.ndarray
        int64 majority emotion, -1 on a tie or where not kept: what FER+ accuracy is measured
        against, in either mode.
    """

    label_names: tuple[str, ...]
    keep: npt.NDArray[np.bool_]
    labels: npt.NDArray[np.int64]
    targets: npt.NDArray[np.float32]
    majority: npt.NDArray[np.int64]


def read_ferplus_votes(path: str | os.PathLike[str]) -> FerPlusVotes:
    """Read FER+'s ``fer2013new.csv`` and check every row.

    Parameters
    ----------
    path : str or path-like
        The file.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file; the message says how to get it.
    ValueError
        For a missing column, a row with the wrong number of fields, or a vote that is not a
        whole number from 0 to 1,000; the message names the line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "fer2013new.csv")
    >>> with open(p, "w") as f:
    ...     _ = f.write("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,"
    ...                 "fear,contempt,unknown,NF\\nTraining,fer0000000.png,4,0,0,1,3,2,0,0,0,0\\n")
    >>> read_ferplus_votes(p).votes.tolist()
    [[4, 0, 0, 1, 3, 2, 0, 0, 0, 0]]
    """
    check_path(path, "path")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file; expected FER+'s {FERPLUS_FILE} (run `emorec download "
            "ferplus`, or get it from github.com/microsoft/FERPlus and pass its path)"
        )
    votes: list[list[int]] = []
    usage: list[str] = []
    dropped: list[bool] = []
    with path.open("rb") as fh:
        lines = csv_lines(fh, path)
        _, header = next(lines, (0, []))
        wanted = ("usage", "image name", *(c.lower() for c in FERPLUS_COLUMNS))
        given = [h.strip().lower() for h in header]
        missing = [c for c in wanted if c not in given]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)}; expected FER+'s header "
                f"'Usage,Image name,{','.join(FERPLUS_COLUMNS)}'"
            )
        at = [given.index(c) for c in wanted]
        for line, row in lines:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}:{line}: {len(row)} fields; expected {len(header)}")
            counts = []
            for column, i in zip(FERPLUS_COLUMNS, at[2:]):
                text = row[i].strip()
                if not text.isdigit() or int(text) > 1000:
                    raise ValueError(
                        f"{path}:{line}: {column} votes {text[:20]!r}; expected a whole "
                        "number of annotators (0 to 1,000)"
                    )
                counts.append(int(text))
            votes.append(counts)
            usage.append(row[at[0]].strip())
            dropped.append(not row[at[1]].strip())
    if not votes:
        raise ValueError(f"{path}: no data rows")
    return FerPlusVotes(np.asarray(votes, np.int64), tuple(usage), np.asarray(dropped, np.bool_))


def ferplus_targets(
    votes: npt.ArrayLike,
    mode: Literal["majority", "probability"] = "majority",
    *,
    contempt: bool = False,
    min_votes: int = 2,
    dropped: npt.ArrayLike | None = None,
) -> FerPlusTargets:
    """Labels and targets from FER+ votes (columns :data:`FERPLUS_COLUMNS`).

    Parameters
    ----------
    votes : array_like
        ``(n, 10)`` vote counts.
    mode : {"majority", "probability"}
        The majority emotion, or the vote distribution as soft targets.
    contempt : bool
        Keep ``contempt`` as an eighth class (after the seven FER2013 classes).
    min_votes : int
        A column with fewer votes counts as none (FER+'s code drops single votes: 2).
    dropped : array_like of bool, optional
        Rows to drop whatever their votes (faces FER+ dropped).

    Raises
    ------
    ValueError
        For a mode other than the two, or votes that are not ``(n, 10)``.
    """
    if mode not in ("majority", "probability"):
        raise ValueError(f"mode={mode!r}; expected 'majority' or 'probability'")
    v = np.asarray(votes, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != len(FERPLUS_COLUMNS):
        raise ValueError(
            f"votes of shape {v.shape}; expected (n, {len(FERPLUS_COLUMNS)}) in the columns "
            f"{', '.join(FERPLUS_COLUMNS)}"
        )
    v = np.where(v >= min_votes, v, 0.0)
    names = FERPLUS_LABELS if contempt else LABELS
    emotions = np.zeros((len(v), len(FERPLUS_LABELS)))
    emotions[:, _EMOTION_INDEX] = v[:, :8]
    top_other = v[:, 8:].max(axis=1)  # unknown, not a face
    top_emotion = emotions.max(axis=1)
    keep = (top_emotion > 0) & (top_emotion > top_other)
    if dropped is not None:
        keep &= ~np.asarray(dropped, bool)
    if not contempt:
        # a face read as contempt first is none of the seven classes
        keep &= emotions[:, -1] < top_emotion
        emotions = emotions[:, : len(LABELS)]
        top_emotion = emotions.max(axis=1)
    ties = (emotions == top_emotion[:, None]).sum(axis=1) > 1
    argmax = emotions.argmax(axis=1)
    majority = np.where(keep & ~ties, argmax, -1).astype(np.int64)
    if mode == "majority":
        keep &= ~ties
        targets = np.zeros_like(emotions)
        targets[np.flatnonzero(keep), argmax[keep]] = 1.0
    else:
        total = emotions.sum(axis=1, keepdims=True)
        targets = np.where(keep[:, None], emotions / np.maximum(total, 1e-12), 0.0)
    labels = np.where(keep, argmax, -1).astype(np.int64)
    return FerPlusTargets(tuple(names), keep, labels, targets.astype(np.float32), majority)


def check_alignment(
    votes: FerPlusVotes, usage: Sequence[str], csv_name: str, votes_name: str
) -> None:
    """Check that FER+'s rows are ``fer2013.csv``'s rows: same count, same ``Usage`` each.

    Raises
    ------
    ValueError
        Naming the first row that differs, and what to do.
    """
    if len(votes) != len(usage):
        raise ValueError(
            f"{votes_name} has {len(votes)} rows but {csv_name} has {len(usage)}; FER+'s votes "
            "must be the file made for this fer2013.csv, one row per row in the same order"
        )
    for i, (a, b) in enumerate(zip(votes.usage, usage)):
        if a != b:
            raise ValueError(
                f"{votes_name} row {i + 1} is {a!r} but row {i + 1} of {csv_name} is {b!r}; "
                "the two files are not aligned row by row (was one of them filtered or sorted?)"
            )
