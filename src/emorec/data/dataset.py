"""`EmotionDataset`: labelled face images in named splits, read from folders, zips, CSVs or arrays.

A dataset holds, for each split (``train``, ``test``, ``public_test``...), a uint8 image array
``(N, H, W, C)`` and integer labels ``(N,)`` that index :attr:`EmotionDataset.label_names`.
It is immutable: :meth:`EmotionDataset.split` returns a new dataset.

The Trainer reads data only through :meth:`EmotionDataset.to_tf`, so that a later dataset
streamed from disk can stand in for this in-memory one.
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._progress import progress
from ..images import IMAGE_EXTENSIONS, ImageError, load_image
from ..labels import LABELS, canonical_label, is_fer_label_set, map_label_names

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["DatasetSplit", "EmotionDataset"]

logger = logging.getLogger("emorec")

#: ``Usage`` values of fer2013.csv and the split names they become.
USAGE_TO_SPLIT: dict[str, str] = {
    "Training": "train",
    "PublicTest": "public_test",
    "PrivateTest": "private_test",
}
SPLIT_TO_USAGE: dict[str, str] = {v: k for k, v in USAGE_TO_SPLIT.items()}

#: Folder names recognised as split folders (``train/happy/x.jpg``) rather than class folders.
SPLIT_FOLDER_NAMES = frozenset(
    {"train", "training", "test", "testing", "val", "valid", "validation", "dev"}
    | set(USAGE_TO_SPLIT.values())
)

ColorMode = Literal["grayscale", "rgb"]
Errors = Literal["raise", "skip"]


@dataclass(frozen=True)
class DatasetSplit:
    """One split of an :class:`EmotionDataset`: images, labels and where each image came from.

    Attributes
    ----------
    name : str
        The split's name (``"train"``, ``"test"``...).
    images : numpy.ndarray
        uint8 array of shape ``(N, H, W, C)``.
    labels : numpy.ndarray
        int64 array of shape ``(N,)``; values index ``label_names``.
    label_names : tuple of str
        The dataset's label set, in output order.
    sources : tuple of str
        For each image, the file (or ``file:line``) it was read from.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> part = EmotionDataset.from_arrays(np.zeros((3, 48, 48), np.uint8), [3, 3, 4])["train"]
    >>> len(part), part.images.shape, part.class_counts()["happy"]
    (3, (3, 48, 48, 1), 2)
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    sources: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> dict[str, int]:
        """Number of images of each class, in label order (zeros included)."""
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return {name: int(c) for name, c in zip(self.label_names, counts)}

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape[1:])
        return f"DatasetSplit({self.name!r}, {len(self)} images of {shape})"


class EmotionDataset:
    """Labelled face images in named splits.

    Build one with :meth:`from_directory`, :meth:`from_csv`, :meth:`from_arrays` or
    :meth:`from_kaggle`; feed it to training with :meth:`to_tf`.

    Parameters
    ----------
    splits : mapping of str to DatasetSplit
        The splits, by name.
    label_names : sequence of str
        The label set, in output order.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec import EmotionDataset
    >>> images = np.zeros((6, 48, 48, 1), np.uint8)
    >>> ds = EmotionDataset.from_arrays(images, [0, 3, 3, 4, 6, 6])
    >>> ds.split_names, len(ds["train"])
    (('train',), 6)
    >>> ds.class_counts()["happy"]
    2
    """

    def __init__(
        self,
        splits: Mapping[str, DatasetSplit],
        label_names: Sequence[str],
        *,
        skipped: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._label_names = tuple(label_names)
        if not self._label_names:
            raise ValueError("a dataset needs at least one label name")
        if len(set(self._label_names)) != len(self._label_names):
            raise ValueError(f"label names repeat: {self._label_names}")
        for name, part in splits.items():
            if part.label_names != self._label_names:
                raise ValueError(
                    f"split {name!r} has labels {part.label_names}, expected {self._label_names}"
                )
        self._splits = dict(splits)
        #: ``(source, reason)`` for each image skipped with ``errors="skip"``.
        self.skipped: tuple[tuple[str, str], ...] = tuple(skipped)

    # ----------------------------------------------------------------------------- access
    @property
    def label_names(self) -> tuple[str, ...]:
        """The label set, in model-output order."""
        return self._label_names

    @property
    def split_names(self) -> tuple[str, ...]:
        """The names of the splits, in the order they were read or added."""
        return tuple(self._splits)

    def __getitem__(self, split: str) -> DatasetSplit:
        try:
            return self._splits[split]
        except KeyError:
            have = ", ".join(self.split_names) or "none"
            raise KeyError(f"no split {split!r} in this dataset; it has {have}") from None

    def __contains__(self, split: object) -> bool:
        return split in self._splits

    def __iter__(self) -> Iterator[str]:
        return iter(self._splits)

    def __len__(self) -> int:
        """Total number of images over all splits."""
        return sum(len(s) for s in self._splits.values())

    # ----------------------------------------------------------------------------- readers
    @classmethod
    def from_arrays(
        cls,
        images: Any,
        labels: Sequence[int] | np.ndarray,
        label_names: Sequence[str] | None = None,
        *,
        split: str = "train",
    ) -> EmotionDataset:
        """Make a one-split dataset from an image array and integer labels.

        Parameters
        ----------
        images : array_like
            ``(N, H, W)`` or ``(N, H, W, C)`` with C in 1 or 3; uint8, or float in [0, 255].
        labels : sequence of int
            Class indices into ``label_names``.
        label_names : sequence of str, optional
            The label set; default :data:`emorec.labels.LABELS` (FER2013 code order).
        split : str
            Name of the split; default ``"train"``.

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((2, 8, 8), np.uint8), [0, 1], ["cat", "dog"])
        >>> ds["train"].images.shape
        (2, 8, 8, 1)
        """
        names = tuple(LABELS if label_names is None else label_names)
        arr = np.asarray(images)
        if arr.ndim == 3:
            arr = arr[..., None]
        if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
            raise ValueError(
                f"images have shape {arr.shape}; expected (N, H, W) or (N, H, W, C) with C 1 or 3"
            )
        if arr.dtype != np.uint8:
            if not np.issubdtype(arr.dtype, np.number):
                raise ValueError(f"images have dtype {arr.dtype}; expected uint8 or numbers")
            if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 255 or np.isnan(arr).any()):
                raise ValueError("image values must lie in 0..255")
            arr = np.rint(arr).astype(np.uint8)
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != arr.shape[0]:
            raise ValueError(f"got {arr.shape[0]} images but labels of shape {lab.shape}")
        if lab.size and not np.issubdtype(lab.dtype, np.integer):
            raise ValueError(f"labels have dtype {lab.dtype}; expected integers")
        lab = lab.astype(np.int64)
        if lab.size and (lab.min() < 0 or lab.max() >= len(names)):
            bad = lab[(lab < 0) | (lab >= len(names))][0]
            raise ValueError(f"label {bad} is out of range for {len(names)} label names {names}")
        part = DatasetSplit(
            split,
            np.ascontiguousarray(arr),
            lab,
            names,
            tuple(f"<array>[{i}]" for i in range(len(lab))),
        )
        return cls({split: part}, names)

    @classmethod
    def from_directory(
        cls,
        path: str | os.PathLike[str],
        *,
        color_mode: ColorMode = "grayscale",
        image_size: tuple[int, int] | None = None,
        errors: Errors = "raise",
        progress_bar: bool | None = None,
    ) -> EmotionDataset:
        """Read class folders (``<class>/*.jpg``), optionally under split folders, or a zip of them.

        Layouts:

        - ``root/<class>/<image>``: one split, named ``"train"``;
        - ``root/<split>/<class>/<image>`` with split folders such as ``train``, ``test``,
          ``val`` (the Kaggle FER2013 download): one split per folder, named as the folder.

        A single wrapping folder (``fer2013/train/...``) is looked through. ``path`` may be a
        ``.zip`` of the same, read in memory without extracting; members with absolute or ``..``
        names are refused. Class folder names map to FER2013 classes through
        :data:`emorec.labels.ALIASES` (``happiness`` -> ``happy``); if any name is not a FER2013
        class, the label set is the folder names, sorted.

        Parameters
        ----------
        path : str or path-like
            A folder or a ``.zip`` file.
        color_mode : {"grayscale", "rgb"}
            Colour mode the images are converted to.
        image_size : (height, width), optional
            Resize every image to this size. By default images keep their size, which must then
            be the same for all.
        errors : {"raise", "skip"}
            What to do with an image that cannot be read: raise an error naming it, or skip it
            (listed in :attr:`skipped` and counted in a warning). Files whose suffix is not an
            image suffix are always skipped and counted in a warning.
        progress_bar : bool, optional
            Draw a progress bar on stderr; default: when stderr is a terminal.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the layout is not class folders, a zip member is unsafe, or sizes differ without
            ``image_size``.
        emorec.images.ImageError
            If an image cannot be read and ``errors="raise"``.

        Examples
        --------
        >>> import tempfile, pathlib, numpy as np
        >>> from PIL import Image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for cls_name in ["happy", "sad"]:
        ...     (root / cls_name).mkdir()
        ...     Image.fromarray(np.zeros((48, 48), np.uint8)).save(root / cls_name / "1.png")
        >>> ds = EmotionDataset.from_directory(root)
        >>> ds.label_names, len(ds["train"])
        (('happy', 'sad'), 2)
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'skip'")
        with _open_tree(Path(path)) as (display, files, read):
            images, labels, sources, label_names, skipped = _read_tree(
                display, files, read, color_mode, image_size, errors, progress_bar
            )
        splits = {}
        for split_name in sorted(images, key=_split_order):
            arr = _stack(images[split_name], sources[split_name], image_size, display)
            splits[split_name] = DatasetSplit(
                split_name,
                arr,
                np.asarray(labels[split_name], np.int64),
                label_names,
                tuple(sources[split_name]),
            )
        if skipped:
            warnings.warn(
                f"{display}: skipped {len(skipped)} unreadable image(s), e.g. {skipped[0][0]} "
                f"({skipped[0][1]}); see dataset.skipped for the list",
                stacklevel=2,
            )
        return cls(splits, label_names, skipped=skipped)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        label_names: Sequence[str] | None = None,
        image_size: tuple[int, int] | None = None,
        progress_bar: bool | None = None,
    ) -> EmotionDataset:
        """Read the FER2013 challenge file ``fer2013.csv`` (``emotion,pixels,Usage``).

        ``Usage`` values become splits: ``Training`` -> ``train``, ``PublicTest`` ->
        ``public_test``, ``PrivateTest`` -> ``private_test``; any other value is kept as the
        split's name, and without a ``Usage`` column every row goes to ``train``. Column names
        may carry spaces (as in Kaggle's ``icml_face_data.csv``).

        Parameters
        ----------
        path : str or path-like
            The CSV file.
        label_names : sequence of str, optional
            What the ``emotion`` codes mean; default the FER2013 classes
            (:data:`emorec.labels.LABELS`).
        image_size : (height, width), optional
            Size of each image; default square, inferred from the first row (48x48 for FER2013).
        progress_bar : bool, optional
            Draw a progress bar on stderr; default: when stderr is a terminal.

        Raises
        ------
        ValueError
            For a missing column, or a row with the wrong number of pixels, a non-integer, a
            value outside 0..255 or an unknown emotion code; the message names the line.

        Examples
        --------
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "fer.csv")
        >>> with open(p, "w") as f:
        ...     _ = f.write("emotion,pixels,Usage\\n3," + " ".join(["7"] * 4) + ",Training\\n")
        >>> ds = EmotionDataset.from_csv(p)
        >>> ds["train"].images.shape, ds.label_names[ds["train"].labels[0]]
        ((1, 2, 2, 1), 'happy')
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
        with path.open(newline="", encoding="utf-8") as fh:
            total = sum(1 for _ in fh) - 1
            fh.seek(0)
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            missing = [c for c in ("emotion", "pixels") if c not in header]
            if missing:
                raise ValueError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected a header "
                    "'emotion,pixels,Usage' as in fer2013.csv"
                )
            i_emo, i_pix = header.index("emotion"), header.index("pixels")
            i_use = header.index("usage") if "usage" in header else None
            for row in progress(reader, total, f"reading {path.name}", enabled=progress_bar):
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{path}:{line}: {len(row)} fields; expected {len(header)}")
                code_text = row[i_emo].strip()
                try:
                    code = int(code_text)
                except ValueError:
                    raise ValueError(
                        f"{path}:{line}: emotion {code_text!r} is not an integer code"
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
            s: DatasetSplit(
                s,
                np.stack(rows[s]).reshape(-1, shape[0], shape[1], 1),
                np.asarray(labels[s], np.int64),
                names,
                tuple(sources[s]),
            )
            for s in rows
        }
        return cls(splits, names)

    @classmethod
    def from_kaggle(
        cls,
        source: Literal["images", "csv"] = "images",
        *,
        path: str | os.PathLike[str] | None = None,
        force: bool = False,
        **read_kwargs: Any,
    ) -> EmotionDataset:
        """Download FER2013 through the Kaggle API (once, into a cache) and read it.

        ``source="images"`` gets the image-folder dataset ``msambare/fer2013`` (splits ``train``
        and ``test``); ``source="csv"`` gets the original challenge's ``fer2013.csv`` (splits
        ``train``, ``public_test``, ``private_test``), which requires accepting the challenge's
        rules on kaggle.com first. Needs Kaggle API credentials; without them, or offline, it
        fails at once with a message saying how to set them or how to read a manual download.

        Parameters
        ----------
        source : {"images", "csv"}
            Which Kaggle download to use.
        path : str or path-like, optional
            Folder to download into; default ``~/.cache/emorec/datasets/fer2013``.
        force : bool
            Download again even if the file is already there.
        **read_kwargs
            Passed to :meth:`from_directory` or :meth:`from_csv`.

        Examples
        --------
        >>> ds = EmotionDataset.from_kaggle()  # doctest: +SKIP
        """
        from .kaggle import download_fer2013

        file = download_fer2013(source, path=path, force=force)
        if source == "csv":
            return cls.from_csv(file, **read_kwargs)
        return cls.from_directory(file, **read_kwargs)

    # ----------------------------------------------------------------------------- writers
    def to_csv(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the dataset in the ``fer2013.csv`` format (``emotion,pixels,Usage``).

        Splits ``train``, ``public_test`` and ``private_test`` are written as ``Training``,
        ``PublicTest`` and ``PrivateTest``; other splits keep their names, so that
        :meth:`from_csv` gives back the same splits, labels and pixels. Emotion codes are
        FER2013 codes when the label set is FER2013's, else indices into :attr:`label_names`.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        ValueError
            If the images are not grayscale.

        Examples
        --------
        >>> import tempfile, os, numpy as np
        >>> ds = EmotionDataset.from_arrays(np.full((1, 2, 2), 9, np.uint8), [3])
        >>> p = ds.to_csv(os.path.join(tempfile.mkdtemp(), "out.csv"))
        >>> p.read_text().splitlines()[1]
        '3,9 9 9 9,Training'
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        codes = (
            np.array([LABELS.index(canonical_label(n) or n) for n in self._label_names])
            if is_fer_label_set(self._label_names)
            else np.arange(len(self._label_names))
        )
        for part in self._splits.values():
            if part.images.shape[-1] != 1:
                raise ValueError(
                    f"split {part.name!r} is not grayscale; fer2013.csv holds "
                    "grey pixels only (read with color_mode='grayscale')"
                )
        tmp = path.with_name(path.name + ".partial")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            fh.write("emotion,pixels,Usage\n")
            for name, part in self._splits.items():
                usage = SPLIT_TO_USAGE.get(name, name)
                flat = part.images.reshape(len(part), -1)
                for img, lab in zip(flat, part.labels):
                    fh.write(f"{codes[lab]},{' '.join(map(str, img.tolist()))},{usage}\n")
        os.replace(tmp, path)
        return path

    # ----------------------------------------------------------------------------- splits
    def split(
        self,
        name: str = "val",
        *,
        fraction: float = 0.1,
        stratify: bool = True,
        seed: int = 0,
        source: str = "train",
    ) -> EmotionDataset:
        """Carve a new split out of ``source`` (``train``); returns a new dataset.

        The same ``seed`` always carves the same images. With ``stratify``, each class gives
        the same fraction (at least one image of a class with two or more).

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((20, 4, 4), np.uint8), [0] * 10 + [3] * 10)
        >>> ds2 = ds.split("val", fraction=0.2)
        >>> len(ds2["train"]), len(ds2["val"]), ds2["val"].class_counts()["happy"]
        (16, 4, 2)
        """
        if name in self._splits:
            raise ValueError(f"split {name!r} exists already; choose another name")
        if not 0 < fraction < 1:
            raise ValueError(f"fraction={fraction}; expected a number between 0 and 1")
        part = self[source]
        rng = np.random.default_rng(seed)
        if stratify:
            picked = []
            for c in range(len(self._label_names)):
                idx = np.flatnonzero(part.labels == c)
                if len(idx) == 0:
                    continue
                k = int(round(fraction * len(idx)))
                k = min(max(k, 1 if len(idx) >= 2 else 0), len(idx) - 1)
                picked.append(rng.permutation(idx)[:k])
            held = np.sort(np.concatenate(picked)) if picked else np.array([], np.int64)
        else:
            k = int(round(fraction * len(part)))
            held = np.sort(rng.permutation(len(part))[:k])
        if len(held) == 0 or len(held) == len(part):
            raise ValueError(
                f"split {source!r} has {len(part)} images: too few to carve "
                f"{fraction:.0%} out of it"
            )
        keep = np.setdiff1d(np.arange(len(part)), held)
        splits = dict(self._splits)
        splits[source] = _take(part, keep, source)
        splits[name] = _take(part, held, name)
        return type(self)(splits, self._label_names, skipped=self.skipped)

    def map_labels(
        self, mapping: Mapping[str, str | Sequence[str]], *, drop_unmapped: bool = False
    ) -> EmotionDataset:
        """Merge or rename classes: a new dataset whose labels are ``mapping``'s keys, in order.

        Parameters
        ----------
        mapping : mapping of str to str or sequence of str
            New label -> the old label(s) it takes in.
        drop_unmapped : bool
            Drop images of old labels that no new label takes in (default: an error).

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((4, 2, 2), np.uint8), [0, 3, 4, 6])
        >>> three = ds.map_labels({"negative": ["angry", "sad"], "positive": "happy",
        ...                        "other": ["surprise", "neutral"]}, drop_unmapped=True)
        >>> three.label_names, three["train"].labels.tolist()
        (('negative', 'positive', 'other'), [0, 1, 0, 2])
        """
        old_to_new: dict[int, int] = {}
        for new_index, olds in enumerate(mapping.values()):
            for old in [olds] if isinstance(olds, str) else olds:
                if old not in self._label_names:
                    raise ValueError(
                        f"{old!r} is not a label of this dataset ({', '.join(self._label_names)})"
                    )
                if self._label_names.index(old) in old_to_new:
                    raise ValueError(f"{old!r} is mapped twice")
                old_to_new[self._label_names.index(old)] = new_index
        unmapped = [n for i, n in enumerate(self._label_names) if i not in old_to_new]
        if unmapped and not drop_unmapped:
            raise ValueError(
                f"no new label takes in {', '.join(unmapped)}; map them or pass drop_unmapped=True"
            )
        lookup = np.full(len(self._label_names), -1, np.int64)
        for old_index, new_index in old_to_new.items():
            lookup[old_index] = new_index
        names = tuple(mapping)
        splits = {}
        for name, part in self._splits.items():
            new = lookup[part.labels]
            keep = np.flatnonzero(new >= 0)
            taken = _take(part, keep, name)
            splits[name] = DatasetSplit(name, taken.images, new[keep], names, taken.sources)
        return type(self)(splits, names, skipped=self.skipped)

    def class_counts(self, split: str | None = None) -> dict[str, int]:
        """Images per class in one split, or over all splits (``split=None``)."""
        parts = [self[split]] if split is not None else list(self._splits.values())
        total = Counter[str]()
        for part in parts:
            total.update(part.class_counts())
        return {n: total[n] for n in self._label_names}

    def class_weights(self, split: str = "train") -> dict[int, float]:
        """Balanced class weights ``n / (k * count)`` for Keras ``fit(class_weight=...)``.

        Classes absent from the split get weight 0.

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((4, 2, 2), np.uint8), [0, 0, 0, 1], ["a", "b"])
        >>> ds.class_weights()
        {0: 0.6666666666666666, 1: 2.0}
        """
        counts = np.bincount(self[split].labels, minlength=len(self._label_names))
        present = counts > 0
        n, k = counts.sum(), present.sum()
        return {i: (float(n / (k * c)) if c else 0.0) for i, c in enumerate(counts.tolist())}

    # ----------------------------------------------------------------------------- display
    def summary(self) -> str:
        """A table of image counts per class (rows) and split (columns), with totals."""
        splits = list(self._splits.values())
        head = ["class", *[s.name for s in splits], "total"]
        body = []
        for i, label in enumerate(self._label_names):
            counts = [int((s.labels == i).sum()) for s in splits]
            body.append([label, *map(str, counts), str(sum(counts))])
        body.append(["total", *[str(len(s)) for s in splits], str(len(self))])
        widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
        fmt = lambda r: "  ".join(  # noqa: E731
            c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))
        )
        shapes = ", ".join(f"{s.name} {'x'.join(map(str, s.images.shape[1:]))}" for s in splits)
        lines = [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, body)]
        lines.append(f"images: {shapes or 'none'} (height x width x channels), uint8")
        if self.skipped:
            lines.append(f"skipped: {len(self.skipped)} unreadable image(s)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={len(p)}" for s, p in self._splits.items())
        return f"EmotionDataset({parts}; labels={list(self._label_names)})"

    # ----------------------------------------------------------------------------- tf.data
    def to_tf(
        self,
        split: str,
        batch_size: int = 32,
        *,
        image_size: tuple[int, int] | None = None,
        color_mode: ColorMode = "grayscale",
        augment: bool | dict[str, Any] | Callable[..., Any] = False,
        shuffle: bool | None = None,
        seed: int | None = None,
        label_mode: Literal["int", "categorical"] = "int",
        drop_remainder: bool = False,
    ) -> tf.data.Dataset:
        """A batched, prefetched ``tf.data.Dataset`` of ``(float32 images, labels)``.

        Images are float32 in 0..255 (models rescale them themselves), shape
        ``(batch, height, width, channels)``.

        Parameters
        ----------
        split : str
            Which split.
        batch_size : int
            Images per batch.
        image_size : (height, width), optional
            Resize to this size (bilinear); default: keep the stored size.
        color_mode : {"grayscale", "rgb"}
            Channels of the output: 1 or 3.
        augment : bool, dict or callable
            ``True`` applies :func:`emorec.data.augment.default_augmentation` (random shift,
            horizontal flip, small rotation, brightness and contrast) as Keras preprocessing
            layers inside the pipeline; a dict passes options to it (for example
            ``{"erasing": 0.5}``); a callable (for example a ``keras.Sequential`` of
            preprocessing layers) is applied to each batch instead.
        shuffle : bool, optional
            Shuffle every epoch; default True for ``"train"``, else False.
        seed : int, optional
            Seed for shuffling and augmentation.
        label_mode : {"int", "categorical"}
            Integer labels, or one-hot float32 vectors.
        drop_remainder : bool
            Drop a last, smaller batch.

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((5, 48, 48), np.uint8), [0, 1, 2, 3, 4])
        >>> x, y = next(iter(ds.to_tf("train", batch_size=4, color_mode="rgb")))
        >>> tuple(x.shape), x.dtype.name, tuple(y.shape)
        ((4, 48, 48, 3), 'float32', (4,))
        """
        import tensorflow as tf

        from .augment import make_augmenter

        part = self[split]
        if len(part) == 0:
            raise ValueError(f"split {split!r} is empty")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; expected a positive integer")
        if color_mode not in ("grayscale", "rgb"):
            raise ValueError(f"color_mode={color_mode!r}; expected 'grayscale' or 'rgb'")
        shuffle = split == "train" if shuffle is None else shuffle
        augmenter = make_augmenter(augment, seed)
        num_classes = len(self._label_names)
        stored_channels = part.images.shape[-1]

        def prepare(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            x = tf.cast(x, tf.float32)
            if color_mode == "rgb" and stored_channels == 1:
                x = tf.image.grayscale_to_rgb(x)
            elif color_mode == "grayscale" and stored_channels == 3:
                x = tf.image.rgb_to_grayscale(x)
            if image_size is not None and tuple(image_size) != part.images.shape[1:3]:
                x = tf.image.resize(x, image_size)
            if augmenter is not None:
                x = augmenter(x, training=True) if _takes_training(augmenter) else augmenter(x)
                x = tf.clip_by_value(x, 0.0, 255.0)
            y = tf.one_hot(y, num_classes) if label_mode == "categorical" else tf.cast(y, tf.int32)
            return x, y

        data = tf.data.Dataset.from_tensor_slices((part.images, part.labels))
        if shuffle:
            data = data.shuffle(len(part), seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size, drop_remainder=drop_remainder)
        # Keras' random layers keep their state in a variable: parallel calls would draw in a
        # racy order, so a seeded augmenting pipeline maps sequentially (still prefetched).
        if seed is not None and augmenter is not None:
            data = data.map(prepare)
        else:
            data = data.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return data.prefetch(tf.data.AUTOTUNE)

    def to_keras(
        self,
        split: str,
        batch_size: int = 32,
        *,
        image_size: tuple[int, int] | None = None,
        color_mode: ColorMode = "grayscale",
        augment: bool | dict[str, Any] | Callable[..., Any] = False,
        shuffle: bool | None = None,
        seed: int | None = None,
        label_mode: Literal["int", "categorical"] = "int",
    ) -> Any:
        """The same batches as :meth:`to_tf`, as a ``keras.utils.PyDataset`` for any backend.

        For Keras on JAX or PyTorch without TensorFlow (for example on a GPU machine that has
        no TensorFlow); the Trainer uses it when the Keras backend is not TensorFlow.
        Augmentation runs the same Keras preprocessing layers, on the backend's device.

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((5, 48, 48), np.uint8), [0, 1, 2, 3, 4])
        >>> batches = ds.to_keras("train", batch_size=4)
        >>> len(batches), batches[0][0].shape
        (2, (4, 48, 48, 1))
        """
        from .augment import make_augmenter
        from .feed import ArrayBatches

        part = self[split]
        if len(part) == 0:
            raise ValueError(f"split {split!r} is empty")
        augmenter = make_augmenter(augment, seed)
        return ArrayBatches(
            part.images,
            part.labels,
            batch_size=batch_size,
            num_classes=len(self._label_names),
            image_size=image_size,
            color_mode=color_mode,
            augmenter=augmenter,
            shuffle=split == "train" if shuffle is None else shuffle,
            seed=seed,
            label_mode=label_mode,
        )


# --------------------------------------------------------------------------------- helpers
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


def _split_order(name: str) -> tuple[int, str]:
    """Sort key: training splits first, then validation, then test splits, then the rest."""
    low = name.lower()
    return (_SPLIT_ORDER.index(low) if low in _SPLIT_ORDER else len(_SPLIT_ORDER), low)


def _takes_training(fn: Any) -> bool:
    try:
        import keras

        return isinstance(fn, keras.layers.Layer)
    except ImportError:  # pragma: no cover
        return False


def _take(part: DatasetSplit, idx: np.ndarray, name: str) -> DatasetSplit:
    return DatasetSplit(
        name,
        part.images[idx],
        part.labels[idx],
        part.label_names,
        tuple(part.sources[i] for i in idx) if part.sources else (),
    )


def _parse_pixels(text: str, path: Path, line: int) -> np.ndarray:
    tokens = text.split()
    try:
        values = np.array(tokens, dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("+-").isdigit())
        raise ValueError(
            f"{path}:{line}: pixel value {bad!r} is not an integer; expected integers 0..255"
        ) from None
    if values.size and (values.min() < 0 or values.max() > 255):
        bad_value = values[(values < 0) | (values > 255)][0]
        raise ValueError(f"{path}:{line}: pixel value {bad_value} is outside 0..255")
    return values.astype(np.uint8)


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
                return (path / p).read_bytes()

            return display, files, read_file
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{path}: neither a folder nor a zip archive; expected class "
                "folders (<class>/<image>) or a .zip of them"
            )
        self._zip = zf = zipfile.ZipFile(path)
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
            return zf.read(by_name[p])

        return display, files, read_member

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()


_open_tree = _Tree


def _is_hidden(p: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in p.parts)


def _read_tree(
    display: str,
    files: list[PurePosixPath],
    read: Callable[[PurePosixPath], bytes],
    color_mode: ColorMode,
    image_size: tuple[int, int] | None,
    errors: Errors,
    progress_bar: bool | None,
) -> tuple[
    dict[str, list[np.ndarray]],
    dict[str, list[int]],
    dict[str, list[str]],
    tuple[str, ...],
    list[tuple[str, str]],
]:
    files = [f for f in files if not _is_hidden(f)]
    images = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS]
    others = len(files) - len(images)
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
    if others:
        warnings.warn(
            f"{display}: skipped {others} file(s) that are not images (by suffix)", stacklevel=3
        )
    out_images: dict[str, list[np.ndarray]] = {}
    out_labels: dict[str, list[int]] = {}
    out_sources: dict[str, list[str]] = {}
    skipped: list[tuple[str, str]] = []
    for split, klass, f in progress(
        entries, len(entries), f"reading {Path(display).name}", enabled=progress_bar
    ):
        source = f"{display}:{f}" if not os.path.isdir(display) else str(Path(display) / f)
        try:
            arr = load_image(read(f), color_mode, name=source)
            if image_size is not None and arr.shape[:2] != tuple(image_size):
                arr = _resize(arr, image_size)
        except ImageError as exc:
            if errors == "raise":
                raise
            skipped.append((source, str(exc)))
            continue
        out_images.setdefault(split, []).append(arr)
        out_labels.setdefault(split, []).append(index[klass])
        out_sources.setdefault(split, []).append(source)
    if not out_images:
        raise ValueError(f"{display}: none of the {len(entries)} images could be read")
    return out_images, out_labels, out_sources, label_names, skipped


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    out = np.asarray(img.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    return out[..., None] if out.ndim == 2 else out


def _stack(
    arrays: list[np.ndarray], sources: list[str], image_size: tuple[int, int] | None, display: str
) -> np.ndarray:
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
