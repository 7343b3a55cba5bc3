"""The FER2013 challenge file, ``fer2013.csv`` (``emotion,pixels,Usage``), read and written.

:func:`read_fer2013_csv` is what :meth:`emorec.EmotionDataset.from_csv` delegates to, and
:func:`write_fer2013_csv` what :meth:`emorec.EmotionDataset.to_csv` does; pixel exact both
ways. The reader takes UTF-8 with or without Excel's byte-order mark, decodes each line on its
own (a line that is not UTF-8 is an error naming it), has no field size limit, and checks each
row's number of fields, emotion code, and pixel count and values.

Like the folder and zip readers (:mod:`emorec.data.readers`, which re-exports both functions),
they return and take plain arrays (:class:`~emorec.data.readers.ReadResult`,
:class:`~emorec.data.readers.SplitArrays`); the ``Usage`` column maps to split names and back
by :data:`~emorec.data.readers.USAGE_TO_SPLIT` and :data:`~emorec.data.readers.SPLIT_TO_USAGE`.

Examples
--------
>>> import tempfile, os, numpy as np
>>> from emorec import LABELS
>>> from emorec.data.fer_csv import read_fer2013_csv, write_fer2013_csv
>>> from emorec.data.readers import SplitArrays
>>> part = SplitArrays(np.arange(4, dtype=np.uint8).reshape(1, 2, 2, 1), np.array([3]), ("a",))
>>> p = write_fer2013_csv(os.path.join(tempfile.mkdtemp(), "fer.csv"), {"train": part}, LABELS)
>>> read = read_fer2013_csv(p)
>>> list(read.splits), read.splits["train"].images[0, :, :, 0].tolist()
(['train'], [[0, 1], [2, 3]])
"""

from __future__ import annotations

import contextlib
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np

from .._files import atomic_file
from .._paths import check_path
from .._progress import progress
from ..labels import LABELS, canonical_label, is_fer_label_set
from .csv_text import byte_lines, csv_lines
from .ferplus import (
    FERPLUS_FILE,
    FerPlusMode,
    FerPlusVotes,
    check_alignment,
    ferplus_targets,
    read_ferplus_votes,
)
from .readers import SPLIT_TO_USAGE, USAGE_TO_SPLIT, LabelledImages, ReadResult, SplitArrays

__all__ = ["read_fer2013_csv", "write_fer2013_csv"]


def read_fer2013_csv(
    path: str | os.PathLike[str],
    *,
    label_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = None,
    progress_bar: bool | None = None,
    ferplus: str | os.PathLike[str] | bool | None = None,
    ferplus_mode: FerPlusMode = "majority",
    contempt: bool = False,
) -> ReadResult:
    """Read a ``fer2013.csv``-style file (``emotion,pixels,Usage``) into grey uint8 splits.

    The rules and parameters are those of :meth:`emorec.EmotionDataset.from_csv`, which calls
    this. ``path`` may also be the challenge's tarball (``fer2013.tar.gz``), read without
    unpacking. ``image_size`` is the stored size of each row's image (default: square, from the
    first row), not a resize.

    Raises
    ------
    FileNotFoundError
        If ``path`` (or the FER+ file) is not a file.
    ValueError
        For a missing column, or a row with the wrong number of fields or pixels, a
        non-integer, a value outside 0..255 or an unknown emotion code; the message names the
        line. For FER+ votes that do not align with the rows.

    Examples
    --------
    >>> import tempfile, os
    >>> from emorec.data.fer_csv import read_fer2013_csv
    >>> p = os.path.join(tempfile.mkdtemp(), "fer.csv")
    >>> with open(p, "w") as f:
    ...     _ = f.write("emotion,pixels,Usage\\n6,1 2 3 4 5 6,PublicTest\\n")
    >>> read = read_fer2013_csv(p, image_size=(2, 3))
    >>> read.splits["public_test"].images[0, :, :, 0].tolist()
    [[1, 2, 3], [4, 5, 6]]
    """
    check_path(path, "path")
    if isinstance(ferplus, str | os.PathLike):
        check_path(ferplus, "ferplus")
    path = Path(path)
    if ferplus not in (None, False) and label_names is not None:
        raise ValueError(
            "label_names with ferplus: FER+ votes name the FER2013 classes (and contempt); "
            "leave label_names out"
        )
    names = tuple(LABELS if label_names is None else label_names)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected a fer2013.csv-style file")
    rows: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    sources: dict[str, list[str]] = {}
    order: dict[str, list[int]] = {}  # each split's rows, as data-row numbers (from 0)
    usages: list[str] = []
    expected = None if image_size is None else image_size[0] * image_size[1]
    shape = image_size
    with _open_table(path) as (open_table, label):
        short = path.name + label[len(str(path)) :]  # sources name the file, not its folder
        with open_table() as fh:
            total = max(0, sum(1 for _ in byte_lines(fh)) - 1)
        with open_table() as fh:
            lines = csv_lines(fh, Path(label))
            header = [h.strip().lower() for h in next(lines, (0, []))[1]]
            missing = [c for c in ("emotion", "pixels") if c not in header]
            if missing:
                raise ValueError(
                    f"{label}: missing column(s) {', '.join(missing)}; expected a header "
                    "'emotion,pixels,Usage' as in fer2013.csv"
                )
            i_emo, i_pix = header.index("emotion"), header.index("pixels")
            i_use = header.index("usage") if "usage" in header else None
            reading = progress(lines, total, f"reading {path.name}", "row", progress_bar)
            for line, row in reading:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{label}:{line}: {len(row)} fields; expected {len(header)}")
                code_text = row[i_emo].strip()
                try:
                    code = int(code_text)
                except ValueError:
                    raise ValueError(
                        f"{label}:{line}: emotion {code_text[:20]!r} is not an integer code"
                    ) from None
                if not 0 <= code < len(names):
                    raise ValueError(
                        f"{label}:{line}: emotion code {code} is out of range; expected 0.."
                        f"{len(names) - 1} ({', '.join(names)})"
                    )
                pixels = _parse_pixels(row[i_pix], Path(label), line)
                if expected is None:
                    side = int(round(pixels.size**0.5))
                    if side * side != pixels.size or side == 0:
                        raise ValueError(
                            f"{label}:{line}: {pixels.size} pixels is not a square image; pass "
                            "image_size=(height, width)"
                        )
                    expected, shape = pixels.size, (side, side)
                if pixels.size != expected:
                    raise ValueError(
                        f"{label}:{line}: {pixels.size} pixel values; expected {expected} "
                        f"({shape[0]}x{shape[1]})"  # type: ignore[index]
                    )
                usage = row[i_use].strip() if i_use is not None else "Training"
                if not usage:
                    raise ValueError(
                        f"{label}:{line}: empty Usage; expected Training, PublicTest or PrivateTest"
                    )
                split = USAGE_TO_SPLIT.get(usage, usage)
                rows.setdefault(split, []).append(pixels)
                labels.setdefault(split, []).append(code)
                sources.setdefault(split, []).append(f"{short}:{line}")
                order.setdefault(split, []).append(len(usages))
                usages.append(usage)
    if not rows:
        raise ValueError(f"{label}: no data rows")
    assert shape is not None
    splits = {
        s: SplitArrays(
            np.stack(rows[s]).reshape(-1, shape[0], shape[1], 1),
            np.asarray(labels[s], np.int64),
            tuple(sources[s]),
        )
        for s in rows
    }
    if ferplus in (None, False):
        return ReadResult(splits, names)
    votes_path = path.parent / FERPLUS_FILE if ferplus is True else Path(ferplus)  # type: ignore[arg-type]
    if ferplus is True and not votes_path.is_file():
        raise FileNotFoundError(
            f"{votes_path}: no FER+ votes beside {path.name}; run `emorec download ferplus "
            f"--dir {path.parent}`, or pass ferplus=PATH (--ferplus PATH) to the file"
        )
    votes = read_ferplus_votes(votes_path)
    check_alignment(votes, usages, label, str(votes_path))
    return _with_ferplus(splits, order, votes, ferplus_mode, contempt)


def _with_ferplus(
    splits: dict[str, SplitArrays],
    order: dict[str, list[int]],
    votes: FerPlusVotes,
    mode: FerPlusMode,
    contempt: bool,
) -> ReadResult:
    """The splits relabelled by FER+ (faces without a label in ``mode`` dropped), with
    FER2013's original labels and FER+'s majority kept as label sets; in ``"fer2013"`` mode,
    every row with FER2013's labels, and the same two label sets."""
    made = ferplus_targets(
        votes.votes,
        "majority" if mode == "fer2013" else mode,
        contempt=contempt,
        dropped=votes.dropped,
    )
    out = {}
    for name, part in splits.items():
        rows = np.asarray(order[name], np.int64)
        if mode == "fer2013":  # every row, FER2013's labels; FER+'s majority beside them
            out[name] = SplitArrays(
                part.images,
                part.labels,
                part.sources,
                None,
                {"fer2013": part.labels, "ferplus": made.majority[rows]},
            )
            continue
        keep = np.flatnonzero(made.keep[rows])
        rows = rows[keep]
        out[name] = SplitArrays(
            part.images[keep],
            made.labels[rows],
            tuple(part.sources[i] for i in keep),
            made.targets[rows] if mode == "probability" else None,
            {"fer2013": part.labels[keep], "ferplus": made.majority[rows]},
        )
    return ReadResult(out, made.label_names)


@contextlib.contextmanager
def _open_table(path: Path) -> Iterator[tuple[Callable[[], IO[bytes]], str]]:
    """``(open, label)`` for a CSV file, or for the one ``fer2013.csv`` (else the one ``.csv``)
    in a tarball such as the challenge's ``fer2013.tar.gz``; ``open()`` may be called again
    to read it a second time."""
    if not _is_tarball(path):
        yield (lambda: path.open("rb")), str(path)
        return
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable tar archive ({exc})") from None
    with archive:
        try:
            members = [m for m in archive.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: a damaged tar archive ({exc})") from None
        tables = [m for m in members if PurePosixPath(m.name).suffix.lower() == ".csv"]
        named = [m for m in tables if PurePosixPath(m.name).name.lower() == "fer2013.csv"]
        chosen = named or tables
        if len(chosen) != 1:
            found = ", ".join(m.name for m in tables[:5]) or "none"
            raise ValueError(
                f"{path}: expected one fer2013.csv inside (as in the challenge's "
                f"fer2013.tar.gz); found CSV members: {found}"
            )
        member = chosen[0]

        def open_member() -> IO[bytes]:
            fh = archive.extractfile(member)
            assert fh is not None  # a regular file
            return fh

        yield open_member, f"{path}:{member.name}"


def _is_tarball(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


_PIXEL_TOKEN = re.compile(r"[+-]?[0-9]{1,18}\Z")


def _parse_pixels(text: str, path: Path, line: int) -> np.ndarray:
    tokens = text.split()
    bad = next((t for t in tokens if not _PIXEL_TOKEN.match(t)), None)
    if bad is not None:
        raise ValueError(
            f"{path}:{line}: pixel value {bad[:20]!r} is not an integer; expected integers 0..255"
        )
    values = np.array(tokens, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() > 255):
        bad_value = values[(values < 0) | (values > 255)][0]
        raise ValueError(f"{path}:{line}: pixel value {bad_value} is outside 0..255")
    return values.astype(np.uint8)


def write_fer2013_csv(
    path: str | os.PathLike[str],
    splits: Mapping[str, LabelledImages] | Iterable[tuple[str, LabelledImages]],
    label_names: Sequence[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write grey splits in the ``fer2013.csv`` format, atomically; :func:`read_fer2013_csv` reads
    back the same splits, labels and pixels.

    Splits ``train``, ``public_test`` and ``private_test`` become ``Training``, ``PublicTest``
    and ``PrivateTest``; other splits keep their names. Emotion codes are FER2013 codes when
    ``label_names`` is FER2013's label set (in any order, aliases allowed), else indices into
    ``label_names``.

    Parameters
    ----------
    path : str or path-like
        The file to write (atomically: a kill leaves the old file or none, never half of one).
    splits : mapping of str to split, or (name, split) pairs
        Objects with uint8 ``images (N, H, W, 1)`` and ``labels (N,)`` indexing ``label_names``
        (an :class:`emorec.DatasetSplit`, a
        :class:`~emorec.data.readers.SplitArrays`).
    label_names : sequence of str
        The label set the labels index.
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If a split is not grayscale.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> from emorec.data.fer_csv import write_fer2013_csv
    >>> from emorec.data.readers import SplitArrays
    >>> part = SplitArrays(np.full((1, 1, 2, 1), 9, np.uint8), np.array([1]), ("a",))
    >>> p = write_fer2013_csv(os.path.join(tempfile.mkdtemp(), "x.csv"), {"test": part},
    ...                       ["angry", "disgust"])
    >>> p.read_text().splitlines()
    ['emotion,pixels,Usage', '1,9 9,test']
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    names = tuple(label_names)
    items = list(splits.items() if isinstance(splits, Mapping) else splits)
    codes = (
        np.array([LABELS.index(canonical_label(n) or n) for n in names])
        if is_fer_label_set(names)
        else np.arange(len(names))
    )
    for name, part in items:
        if part.images.shape[-1] != 1:
            raise ValueError(
                f"split {name!r} is not grayscale; fer2013.csv holds "
                "grey pixels only (read with color_mode='grayscale')"
            )
    with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        fh.write("emotion,pixels,Usage\n")
        for name, part in items:
            usage = SPLIT_TO_USAGE.get(name, name)
            flat = part.images.reshape(len(part.labels), -1)
            for img, lab in zip(flat, part.labels):
                fh.write(f"{codes[lab]},{' '.join(map(str, img.tolist()))},{usage}\n")
    return path
