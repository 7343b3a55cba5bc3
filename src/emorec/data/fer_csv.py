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

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .._files import atomic_file
from .._progress import progress
from ..labels import LABELS, canonical_label, is_fer_label_set
from .readers import SPLIT_TO_USAGE, USAGE_TO_SPLIT, LabelledImages, ReadResult, SplitArrays

__all__ = ["read_fer2013_csv", "write_fer2013_csv"]


def read_fer2013_csv(
    path: str | os.PathLike[str],
    *,
    label_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = None,
    progress_bar: bool | None = None,
) -> ReadResult:
    """Read a ``fer2013.csv``-style file (``emotion,pixels,Usage``) into grey uint8 splits.

    The rules and parameters are those of :meth:`emorec.EmotionDataset.from_csv`, which calls
    this. ``image_size`` is the stored size of each row's image (default: square, from the
    first row), not a resize.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        For a missing column, or a row with the wrong number of fields or pixels, a
        non-integer, a value outside 0..255 or an unknown emotion code; the message names the
        line.

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
    names = tuple(LABELS if label_names is None else label_names)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected a fer2013.csv-style file")
    rows: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    sources: dict[str, list[str]] = {}
    expected = None if image_size is None else image_size[0] * image_size[1]
    shape = image_size
    with path.open("rb") as fh:
        total = max(0, sum(1 for _ in fh) - 1)
        fh.seek(0)
        lines = _csv_lines(fh, path)
        header = [h.strip().lower() for h in next(lines, (0, []))[1]]
        missing = [c for c in ("emotion", "pixels") if c not in header]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)}; expected a header "
                "'emotion,pixels,Usage' as in fer2013.csv"
            )
        i_emo, i_pix = header.index("emotion"), header.index("pixels")
        i_use = header.index("usage") if "usage" in header else None
        for line, row in progress(lines, total, f"reading {path.name}", enabled=progress_bar):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}:{line}: {len(row)} fields; expected {len(header)}")
            code_text = row[i_emo].strip()
            try:
                code = int(code_text)
            except ValueError:
                raise ValueError(
                    f"{path}:{line}: emotion {code_text[:20]!r} is not an integer code"
                ) from None
            if not 0 <= code < len(names):
                raise ValueError(
                    f"{path}:{line}: emotion code {code} is out of range; expected 0.."
                    f"{len(names) - 1} ({', '.join(names)})"
                )
            pixels = _parse_pixels(row[i_pix], path, line)
            if expected is None:
                side = int(round(pixels.size**0.5))
                if side * side != pixels.size or side == 0:
                    raise ValueError(
                        f"{path}:{line}: {pixels.size} pixels is not a square image; pass "
                        "image_size=(height, width)"
                    )
                expected, shape = pixels.size, (side, side)
            if pixels.size != expected:
                raise ValueError(
                    f"{path}:{line}: {pixels.size} pixel values; expected {expected} "
                    f"({shape[0]}x{shape[1]})"  # type: ignore[index]
                )
            usage = row[i_use].strip() if i_use is not None else "Training"
            if not usage:
                raise ValueError(
                    f"{path}:{line}: empty Usage; expected Training, PublicTest or PrivateTest"
                )
            split = USAGE_TO_SPLIT.get(usage, usage)
            rows.setdefault(split, []).append(pixels)
            labels.setdefault(split, []).append(code)
            sources.setdefault(split, []).append(f"{path.name}:{line}")
    if not rows:
        raise ValueError(f"{path}: no data rows")
    assert shape is not None
    splits = {
        s: SplitArrays(
            np.stack(rows[s]).reshape(-1, shape[0], shape[1], 1),
            np.asarray(labels[s], np.int64),
            tuple(sources[s]),
        )
        for s in rows
    }
    return ReadResult(splits, names)


def _csv_lines(fh: Iterable[bytes], path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of a CSV file read as bytes: UTF-8 with or without Excel's
    byte-order mark, each line decoded on its own (so an error names the line), and no field
    size limit (the csv module's 128 KiB is the pixels of a 180x180 image, and emorec leaves
    that process-wide setting alone): a line is split at its commas, quoted fields as RFC
    4180 has them."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}:{number}: not UTF-8 text ({exc.reason} at column {exc.start + 1}); "
                "save the file as UTF-8 (or plain ASCII) CSV"
            ) from None
        if '"' not in text:
            yield number, text.split(",") if text else []
        else:
            yield number, _split_quoted(text, path, number)


def _split_quoted(text: str, path: Path, number: int) -> list[str]:
    """The fields of one CSV line with quoted fields (RFC 4180: ``""`` is a quote)."""
    fields, field, i, quoted = [], [], 0, False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1 : i + 2] == '"':
                field.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                field.append(char)
        elif char == '"' and not field:
            quoted = True
        elif char == ",":
            fields.append("".join(field))
            field = []
        else:
            field.append(char)
        i += 1
    if quoted:
        raise ValueError(f"{path}:{number}: a quoted field is not closed on its line")
    fields.append("".join(field))
    return fields


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
