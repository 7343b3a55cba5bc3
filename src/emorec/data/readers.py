"""Reading labelled images from disk: class folders and zips of them.

These functions are what :meth:`EmotionDataset.from_directory` delegates to. They return plain
arrays (:class:`SplitArrays`, :class:`ReadResult`), so they know nothing of the dataset
container; the FER2013 CSV reader and writer (:mod:`emorec.data.fer_csv`) return and take the
same types.

- :func:`read_class_folders`: ``<class>/<image>`` or ``<split>/<class>/<image>``, from a folder
  or a ``.zip`` read in memory; zip members with absolute, drive or ``..`` names are refused.
  Cost is bounded: a file or member over :data:`MAX_IMAGE_BYTES`, or a member that inflates
  more than :data:`MAX_INFLATION` times (a zip bomb), is refused before it is read; only
  regular files are read (a FIFO, a device or a link to one is skipped and reported, never
  opened for reading); a damaged member (bad CRC, encrypted, unknown compression, corrupt
  data) is an :class:`~emorec.ImageError` naming it, skipped under ``errors="skip"``.
  ``image_size=`` resizes on reading through :func:`emorec.pixels.resize`, the pixel contract's
  filter, so images read here match what a model is fed.
- :data:`USAGE_TO_SPLIT` and :data:`SPLIT_TO_USAGE`: fer2013.csv's ``Usage`` values and the
  split names they become (split folder names too). The file itself is read and written by
  :mod:`emorec.data.fer_csv`, whose two functions are importable from here too.

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
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from .._paths import check_path
from .._progress import progress
from ..images import IMAGE_EXTENSIONS, ImageError, NotRegularFileError, load_image, open_regular
from ..labels import map_label_names
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
    "split_sort_key",
]

#: ``Usage`` values of fer2013.csv and the split names they become.
USAGE_TO_SPLIT: dict[str, str] = {
    "Training": "train",
    "PublicTest": "public_test",
    "PrivateTest": "private_test",
}
#: Split names and the ``Usage`` values :func:`~emorec.data.fer_csv.write_fer2013_csv` writes
#: for them.
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
    #: Soft targets ``(N, classes)`` (FER+'s vote distributions), or None.
    targets: npt.NDArray[np.float32] | None = None
    #: Other labellings of the same images (``"fer2013"``, ``"ferplus"``), -1 for none.
    label_sets: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)


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
        If the layout is not class folders, a class folder holds no images, two class folders
        differ only in Unicode normalisation, a zip member is unsafe, ``errors`` is unknown, or
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
    check_path(path, "path")
    size = None if image_size is None else (int(image_size[0]), int(image_size[1]))
    tree = _Tree(Path(path))
    with tree as (display, files, read):
        return _read_tree(
            display, files, tree.folders, read, color_mode, size, errors, progress_bar
        )


def _walk_folder(path: Path) -> tuple[list[PurePosixPath], list[PurePosixPath]]:
    """The files and the folders under ``path``, relative, in sorted order, hidden folders
    left out.

    Symbolic links to folders are followed (a class folder may be a link); a link back to a
    folder the walk is already inside is not, so a loop of links ends.
    """
    files: list[PurePosixPath] = []
    folders: list[PurePosixPath] = []
    # The real folders each walked folder is inside (itself included): a link to one of them
    # would walk the same folders again, forever.
    inside: dict[str, frozenset[str]] = {str(path): frozenset({os.path.realpath(path)})}
    for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
        above = inside.pop(dirpath)
        kept = []
        for d in sorted(dirnames):
            real = os.path.realpath(os.path.join(dirpath, d))
            if d.startswith(".") or real in above:
                continue
            inside[os.path.join(dirpath, d)] = above | {real}
            kept.append(d)
        dirnames[:] = kept
        rel = PurePosixPath(Path(dirpath).relative_to(path).as_posix())
        files += [rel / f for f in sorted(filenames)]
        folders += [rel / d for d in kept]
    return files, folders


class _Tree:
    """Context manager yielding ``(display name, relative file paths, reader)`` for a folder/zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        #: The folders in the tree, relative.
        self.folders: list[PurePosixPath] = []

    def __enter__(self) -> tuple[str, list[PurePosixPath], Callable[[PurePosixPath], bytes]]:
        path = self.path
        display = str(path)
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: no such file or folder; expected class folders "
                "(<class>/<image>) or a .zip of them"
            )
        if path.is_dir():
            files, self.folders = _walk_folder(path)

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
            elif posix.parts:
                self.folders.append(posix)
        # A zip need not list a folder as a member: those of its members are folders too.
        implied = {p for f in files for p in f.parents if p.parts}
        self.folders = sorted(set(self.folders) | implied)
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
    folders: list[PurePosixPath],
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
    _refuse_unicode_twins(display, class_names, entries)
    depth = prefix + (1 if layout == "classes" else 2)
    wrapper = images[0].parts[:prefix]
    empty = [
        d
        for d in folders
        if len(d.parts) == depth
        and d.parts[:prefix] == wrapper
        and d.parts[-1] not in class_names
        and not is_hidden(d)
    ]
    if empty:
        shown = ", ".join(_shown(display, d) for d in empty[:5])
        more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        raise ValueError(
            f"{display}: class folder(s) with no images: {shown}{more}; their label(s) would "
            "be lost. Add images (.jpg, .png, ...) to each, or remove the folder"
        )
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
        entries, len(entries), f"reading {Path(display).name}", "image", progress_bar
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


def _shown(display: str, relative: PurePosixPath) -> str:
    """How a folder or file of the tree is named in messages: its path, or ``archive:member``."""
    return str(Path(display) / relative) if os.path.isdir(display) else f"{display}:{relative}"


def _refuse_unicode_twins(
    display: str, class_names: list[str], entries: list[tuple[str, str, PurePosixPath]]
) -> None:
    """Refuse class folders whose names differ only in Unicode normalisation ("café" written
    with one code point or with "e" and a combining accent): they look alike but would be
    two labels."""
    spellings: dict[str, list[str]] = {}
    for name in class_names:
        spellings.setdefault(unicodedata.normalize("NFC", name), []).append(name)
    for same, names in spellings.items():
        if len(names) > 1:
            folders = [next(f.parent for _, k, f in entries if k == name) for name in names[:2]]
            shown = [_shown(display, folder) for folder in folders]
            raise ValueError(
                f"class folders {shown[0]} and {shown[1]} are both named {same!r}, spelled "
                f"with different Unicode code points ({names[0]!a} and {names[1]!a}: they "
                "differ only in normalisation, NFC vs NFD) and would be two labels; rename one "
                "so that both are spelled alike, or merge them"
            )


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
