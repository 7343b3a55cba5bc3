"""Reading labelled images from disk: class folders, zips of them, and ``fer2013.csv``.

These functions are what :meth:`EmotionDataset.from_directory`, :meth:`EmotionDataset.from_csv`
and :meth:`EmotionDataset.to_csv` delegate to. They return and take plain arrays
(:class:`SplitArrays`, :class:`ReadResult`), so they know nothing of the dataset container.

- :func:`read_class_folders`: ``<class>/<image>`` or ``<split>/<class>/<image>``, from a folder
  or a ``.zip`` read in memory; zip members with absolute, drive or ``..`` names are refused.
  Cost is bounded: a file or member over :data:`MAX_IMAGE_BYTES`, or a member that inflates
  more than :data:`MAX_INFLATION` times (a zip bomb), is refused before it is read; only
  regular files are read (a FIFO, a device or a link to one is skipped and reported, never
  opened for reading); a damaged member (bad CRC, encrypted, unknown compression, corrupt
  data) is an :class:`~emorec.ImageError` naming it, skipped under ``errors="skip"``.
  ``image_size=`` resizes on reading through :func:`emorec.pixels.resize`, the pixel contract's
  filter, so images read here match what a model is fed.
- :func:`read_fer2013_csv` and :func:`write_fer2013_csv`: the FER2013 challenge file
  (``emotion,pixels,Usage``), pixel exact both ways.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> from PIL import Image
>>> from emorec.data.readers import read_class_folders
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for name in ["happy", "sad"]:
...     (root / "train" / name).mkdir(parents=True)
...     Image.new("L", (48, 48)).save(root / "train" / name / "1.png")
>>> read = read_class_folders(root)
>>> read.label_names, list(read.splits), read.splits["train"].images.shape
(('happy', 'sad'), ['train'], (2, 48, 48, 1))
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from .._files import atomic_file
from .._progress import progress
from ..images import IMAGE_EXTENSIONS, ImageError, NotRegularFileError, load_image, open_regular
from ..labels import LABELS, canonical_label, is_fer_label_set, map_label_names
from ..pixels import ColorMode, resize
from ..sources import is_hidden

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_INFLATION",
    "SPLIT_FOLDER_NAMES",
    "SPLIT_TO_USAGE",
    "USAGE_TO_SPLIT",
    "Errors",
    "LabelledImages",
    "ReadResult",
    "SplitArrays",
    "read_class_folders",
    "read_fer2013_csv",
    "split_sort_key",
    "write_fer2013_csv",
]

#: ``Usage`` values of fer2013.csv and the split names they become.
USAGE_TO_SPLIT: dict[str, str] = {
    "Training": "train",
    "PublicTest": "public_test",
    "PrivateTest": "private_test",
}
#: Split names and the ``Usage`` values :func:`write_fer2013_csv` writes for them.
SPLIT_TO_USAGE: dict[str, str] = {v: k for k, v in USAGE_TO_SPLIT.items()}

#: Folder names recognised as split folders (``train/happy/x.jpg``) rather than class folders.
SPLIT_FOLDER_NAMES = frozenset(
    {"train", "training", "test", "testing", "val", "valid", "validation", "dev"}
    | set(USAGE_TO_SPLIT.values())
)

#: What to do with an unreadable image: raise an error naming it, or skip it.
Errors = Literal["raise", "skip"]

_SPLIT_ORDER = (
    "train",
    "training",
    "val",
    "valid",
    "validation",
    "dev",
    "test",
    "testing",
    "public_test",
    "private_test",
)


class LabelledImages(Protocol):
    """Anything with uint8 ``images (N, H, W, C)`` and integer ``labels (N,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> part = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1])["train"]
    >>> part.images.shape, part.labels.tolist()  # a DatasetSplit is LabelledImages
    ((2, 4, 4, 1), [0, 1])
    """

    @property
    def images(self) -> npt.NDArray[np.uint8]: ...

    @property
    def labels(self) -> npt.NDArray[np.int64]: ...


@dataclass(frozen=True)
class SplitArrays:
    """The images of one split as read: uint8 ``images``, int64 ``labels``, their ``sources``.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.readers import SplitArrays
    >>> SplitArrays(np.zeros((1, 2, 2, 1), np.uint8), np.array([3]), ("x.png",)).sources
    ('x.png',)
    """

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ReadResult:
    """What a reader found.

    Attributes
    ----------
    splits : dict of str to SplitArrays
        The splits, training splits first, then validation, then test splits.
    label_names : tuple of str
        The label set; ``labels`` index it.
    skipped : tuple of (str, str)
        ``(source, reason)`` for each image skipped: unreadable ones with ``errors="skip"``,
        and, whatever ``errors`` says, entries that are not regular files (FIFOs, devices).
    not_images : int
        Files skipped because their suffix is not an image suffix.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.data.readers import ReadResult, SplitArrays
    >>> part = SplitArrays(np.zeros((1, 2, 2, 1), np.uint8), np.array([0]), ("x.png",))
    >>> ReadResult({"train": part}, ("happy",)).skipped
    ()
    """

    splits: dict[str, SplitArrays]
    label_names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    not_images: int = 0


logger = logging.getLogger("emorec")

#: The largest image file (or zip member, inflated) the readers read: face images are
#: kilobytes to a few megabytes.
MAX_IMAGE_BYTES = 64 * 1024 * 1024
#: A zip member over 1 MiB that inflates more than this many times its compressed size is
#: refused unread (images are compressed already; a bomb is not).
MAX_INFLATION = 200
#: What reading a damaged zip member raises (bad CRC, encryption, unknown compression...).
_ZIP_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError)


def _read_regular(path: Path, label: str) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_IMAGE_BYTES`
    (:func:`~emorec.images.open_regular`: a FIFO or a device is refused unread)."""
    try:
        file, info = open_regular(path, label)
    except NotRegularFileError as exc:
        raise NotRegularFileError(f"{exc}; not read") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot be opened ({exc.strerror})") from None
    with file:
        if info.st_size > MAX_IMAGE_BYTES:
            raise ImageError(
                f"{label}: {info.st_size} bytes; an image file of at most {MAX_IMAGE_BYTES} "
                "bytes expected"
            )
        return file.read(MAX_IMAGE_BYTES + 1)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    """A zip member's bytes, refused unread when it would inflate past the limits."""
    size, packed = info.file_size, max(1, info.compress_size)
    if size > MAX_IMAGE_BYTES or (size > 1024 * 1024 and size > MAX_INFLATION * packed):
        raise ImageError(
            f"{label}: inflates to {size} bytes from {info.compress_size} (at most "
            f"{MAX_IMAGE_BYTES} bytes and {MAX_INFLATION}x expected); refusing to read it"
        )
    try:
        with zf.open(info) as fh:  # zipfile stops at the header's size and checks the CRC
            return fh.read(MAX_IMAGE_BYTES + 1)
    except _ZIP_ERRORS as exc:
        raise ImageError(f"{label}: a damaged zip member ({exc}); not read") from None


def split_sort_key(name: str) -> tuple[int, str]:
    """Sort key for split names: training splits first, then validation, then test, then others.

    Examples
    --------
    >>> from emorec.data.readers import split_sort_key
    >>> sorted(["test", "extra", "val", "train"], key=split_sort_key)
    ['train', 'val', 'test', 'extra']
    """
    low = name.lower()
    return (_SPLIT_ORDER.index(low) if low in _SPLIT_ORDER else len(_SPLIT_ORDER), low)


# ------------------------------------------------------------------------------ folders, zips
def read_class_folders(
    path: str | os.PathLike[str],
    *,
    color_mode: ColorMode = "grayscale",
    image_size: tuple[int, int] | None = None,
    errors: Errors = "raise",
    progress_bar: bool | None = None,
) -> ReadResult:
    """Read ``<class>/<image>`` or ``<split>/<class>/<image>`` from a folder or a ``.zip``.

    The layout rules, label mapping and parameters are those of
    :meth:`emorec.EmotionDataset.from_directory`, which calls this and turns the result into a
    dataset. This function does not warn: the caller reports ``skipped`` and ``not_images``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the layout is not class folders, a zip member is unsafe, ``errors`` is unknown, or
        sizes differ without ``image_size``.
    emorec.images.ImageError
        If an image cannot be read and ``errors="raise"``.

    Examples
    --------
    >>> import tempfile, zipfile, io, os
    >>> from PIL import Image
    >>> from emorec.data.readers import read_class_folders
    >>> buf = io.BytesIO(); Image.new("RGB", (64, 32)).save(buf, "PNG")
    >>> z = os.path.join(tempfile.mkdtemp(), "faces.zip")
    >>> with zipfile.ZipFile(z, "w") as zf:
    ...     zf.writestr("happy/1.png", buf.getvalue()); zf.writestr("sad/1.png", buf.getvalue())
    >>> read = read_class_folders(z, image_size=(24, 24), color_mode="rgb")
    >>> read.splits["train"].images.shape, read.splits["train"].sources[0].endswith(":happy/1.png")
    ((2, 24, 24, 3), True)
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors={errors!r}; expected 'raise' or 'skip'")
    size = None if image_size is None else (int(image_size[0]), int(image_size[1]))
    with _Tree(Path(path)) as (display, files, read):
        return _read_tree(display, files, read, color_mode, size, errors, progress_bar)


class _Tree:
    """Context manager yielding ``(display name, relative file paths, reader)`` for a folder/zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None

    def __enter__(self) -> tuple[str, list[PurePosixPath], Callable[[PurePosixPath], bytes]]:
        path = self.path
        display = str(path)
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: no such file or folder; expected class folders "
                "(<class>/<image>) or a .zip of them"
            )
        if path.is_dir():
            files = []
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel = Path(dirpath).relative_to(path)
                files += [PurePosixPath(rel.as_posix()) / f for f in sorted(filenames)]

            def read_file(p: PurePosixPath) -> bytes:
                return _read_regular(path / p, str(path / p))

            return display, files, read_file
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{path}: neither a folder nor a zip archive; expected class "
                "folders (<class>/<image>) or a .zip of them"
            )
        try:
            self._zip = zf = zipfile.ZipFile(path)
        except (*_ZIP_ERRORS, OSError) as exc:
            raise ValueError(f"{path}: a damaged zip archive ({exc})") from None
        files = []
        for info in zf.infolist():
            name = info.filename
            posix = PurePosixPath(name.replace("\\", "/"))
            if (
                name.startswith(("/", "\\"))
                or posix.is_absolute()
                or ".." in posix.parts
                or (posix.parts and ":" in posix.parts[0])
            ):
                raise ValueError(
                    f"{path}: member {name!r} escapes the archive; refusing to read it"
                )
            if not info.is_dir():
                files.append(posix)
        by_name = {PurePosixPath(i.filename.replace("\\", "/")): i for i in zf.infolist()}

        def read_member(p: PurePosixPath) -> bytes:
            return _read_member(zf, by_name[p], f"{path}:{p}")

        return display, files, read_member

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_tree(
    display: str,
    files: list[PurePosixPath],
    read: Callable[[PurePosixPath], bytes],
    color_mode: ColorMode,
    image_size: tuple[int, int] | None,
    errors: Errors,
    progress_bar: bool | None,
) -> ReadResult:
    files = [f for f in files if not is_hidden(f)]
    images = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS]
    if not images:
        raise ValueError(
            f"{display}: no images found; expected class folders "
            "(<class>/<image>.jpg|png|...) or split folders (train/<class>/...)"
        )
    # Look through single wrapping folders (fer2013/train/happy/x.jpg).
    prefix = 0
    while (
        len({f.parts[prefix] for f in images if len(f.parts) > prefix + 1}) == 1
        and all(len(f.parts) >= prefix + 3 for f in images)
        and images[0].parts[prefix].lower() not in SPLIT_FOLDER_NAMES
    ):
        prefix += 1
    depths = Counter(len(f.parts) - prefix for f in images)
    if set(depths) == {2}:
        layout = "classes"
    elif set(depths) == {3}:
        layout = "splits"
    else:
        example = {
            1: "an image outside any class folder",
            2: "class folders beside split folders",
        }
        shallow = min(depths)
        sample = next(f for f in images if len(f.parts) - prefix == shallow)
        raise ValueError(
            f"{display}: cannot tell the layout; found {example.get(shallow, 'nested folders')} "
            f"({sample}); expected <class>/<image> or <split>/<class>/<image>"
        )
    entries: list[tuple[str, str, PurePosixPath]] = []  # split, class, path
    for f in images:
        parts = f.parts[prefix:]
        split, klass = ("train", parts[0]) if layout == "classes" else (parts[0], parts[1])
        entries.append((split, klass, f))
    class_names = sorted({k for _, k, _ in entries})
    if len(class_names) < 2 and layout == "classes":
        raise ValueError(
            f"{display}: found one class folder only ({class_names[0]!r}); a classifier needs "
            "at least two (<class>/<image>)"
        )
    label_names, index = map_label_names(class_names)
    is_folder = os.path.isdir(display)
    out_images: dict[str, list[np.ndarray]] = {}
    out_labels: dict[str, list[int]] = {}
    out_sources: dict[str, list[str]] = {}
    skipped: list[tuple[str, str]] = []
    for split, klass, f in progress(
        entries, len(entries), f"reading {Path(display).name}", enabled=progress_bar
    ):
        source = str(Path(display) / f) if is_folder else f"{display}:{f}"
        try:
            arr = load_image(read(f), color_mode, name=source)
        except NotRegularFileError as exc:  # skipped whatever errors says
            logger.warning("skipped %s", exc)
            skipped.append((source, str(exc)))
            continue
        except ImageError as exc:
            if errors == "raise":
                raise
            skipped.append((source, str(exc)))
            continue
        if image_size is not None:
            arr = resize(arr, image_size)
        out_images.setdefault(split, []).append(arr)
        out_labels.setdefault(split, []).append(index[klass])
        out_sources.setdefault(split, []).append(source)
    if not out_images:
        raise ValueError(f"{display}: none of the {len(entries)} images could be read")
    splits = {
        name: SplitArrays(
            _stack(out_images[name], out_sources[name], display),
            np.asarray(out_labels[name], np.int64),
            tuple(out_sources[name]),
        )
        for name in sorted(out_images, key=split_sort_key)
    }
    return ReadResult(splits, label_names, tuple(skipped), len(files) - len(images))


def _stack(arrays: list[np.ndarray], sources: list[str], display: str) -> np.ndarray:
    shapes = Counter(a.shape for a in arrays)
    if len(shapes) > 1:
        (common, n), *_ = shapes.most_common()
        odd = next(s for a, s in zip(arrays, sources) if a.shape != common)
        raise ValueError(
            f"{display}: images differ in size ({len(shapes)} sizes; {n} are "
            f"{common[0]}x{common[1]}, but e.g. {odd} is not); pass "
            f"image_size=({common[0]}, {common[1]}) (on the command line: --image-size "
            f"{common[0]}x{common[1]}) to resize them on reading"
        )
    return np.stack(arrays)


# ------------------------------------------------------------------------------ fer2013.csv
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
    >>> from emorec.data.readers import read_fer2013_csv
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
        (an :class:`emorec.DatasetSplit`, a :class:`SplitArrays`).
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
    >>> from emorec.data.readers import SplitArrays, write_fer2013_csv
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
