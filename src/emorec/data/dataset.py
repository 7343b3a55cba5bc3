"""`EmotionDataset`: labelled face images in named splits, read from folders, zips, CSVs or arrays.

A dataset holds, for each split (``train``, ``test``, ``public_test``...), a uint8 image array
``(N, H, W, C)`` and integer labels ``(N,)`` that index :attr:`EmotionDataset.label_names`.
It is immutable: :meth:`EmotionDataset.split` returns a new dataset.

This module is the container and its public way in; the methods delegate the work: building
splits to :mod:`emorec.data.dataset_build`; carving, deduplicating and relabelling them to
:mod:`emorec.data.dataset_edits`; counts, weights and the summary to
:mod:`emorec.data.dataset_summary`; files to :mod:`emorec.data.readers`, :mod:`~emorec.data.fer_csv`
and :mod:`~emorec.data.shards`; feeds to :mod:`emorec.data.pipeline` (imported only when asked
for, so that ``import emorec`` stays light).

The Trainer reads data only through :meth:`EmotionDataset.to_tf` (or :meth:`to_keras`), so a
dataset streamed from TFRecord shards (:meth:`EmotionDataset.from_shards`) stands in for this one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..labels import LABELS
from ..pixels import ColorMode
from .dataset_build import check_label_names, split_from_arrays, splits_from_read, warn_about_skips
from .dataset_edits import carve_split, drop_seen, relabel_splits
from .dataset_summary import balanced_class_weights, count_classes, summary_table
from .fer_csv import read_fer2013_csv, write_fer2013_csv
from .ferplus import FerPlusMode
from .readers import Errors, ReadResult, read_class_folders
from .sharded_split import keep_lazy
from .shards import from_shards, to_shards
from .splits import DatasetSplit

if TYPE_CHECKING:
    import tensorflow as tf

    from .pipeline import ArrayBatches, Augment, LabelMode

__all__ = ["DatasetSplit", "EmotionDataset"]


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
        self._label_names = check_label_names(splits, label_names)
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
        return cls({split: split_from_arrays(images, labels, names, split)}, names)

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
        names are refused. Links to folders (a class folder that is a symbolic link) are
        followed. Class folder names map to FER2013 classes through
        :data:`emorec.labels.ALIASES` (``happiness`` -> ``happy``); if any name is not a FER2013
        class, the label set is the folder names, sorted.

        Parameters
        ----------
        path : str or path-like
            A folder or a ``.zip`` file.
        color_mode : {"grayscale", "rgb"}
            Colour mode the images are converted to.
        image_size : (height, width), optional
            Resize every image to this size (:func:`emorec.pixels.resize`, the filter models are
            fed with). By default images keep their size, which must then
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
            If the layout is not class folders, a class folder holds no images (its label
            would be lost), two class folders differ only in Unicode normalisation, a zip
            member is unsafe, or sizes differ without ``image_size``.
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
        read = read_class_folders(
            path,
            color_mode=color_mode,
            image_size=image_size,
            errors=errors,
            progress_bar=progress_bar,
        )
        warn_about_skips(path, read, stacklevel=2)
        return cls._from_read(read)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        label_names: Sequence[str] | None = None,
        image_size: tuple[int, int] | None = None,
        progress_bar: bool | None = None,
        ferplus: str | os.PathLike[str] | bool | None = None,
        ferplus_mode: FerPlusMode = "majority",
        contempt: bool = False,
    ) -> EmotionDataset:
        """Read the FER2013 challenge file ``fer2013.csv`` (``emotion,pixels,Usage``), with
        FER+'s votes if asked.

        ``Usage`` values become splits: ``Training`` -> ``train``, ``PublicTest`` ->
        ``public_test``, ``PrivateTest`` -> ``private_test``; any other value is kept as the
        split's name, and without a ``Usage`` column every row goes to ``train``. Column names
        may carry spaces (as in Kaggle's ``icml_face_data.csv``). ``path`` may be the
        challenge's tarball ``fer2013.tar.gz`` itself (read without unpacking).

        With ``ferplus``, the labels are FER+'s (Barsoum et al. 2016: ten annotators a face,
        Microsoft's ``fer2013new.csv``, one row per row of ``fer2013.csv``): faces FER+ marks
        as not a face or unknown are dropped, and in ``"majority"`` mode so are ties (the
        rules: :mod:`emorec.data.ferplus`). Each split keeps FER2013's original labels and
        FER+'s majority as :attr:`DatasetSplit.label_sets` ``"fer2013"`` and ``"ferplus"``,
        which :func:`emorec.evaluate` reports accuracy against.

        Parameters
        ----------
        path : str or path-like
            The CSV file, or a tarball holding one ``fer2013.csv``.
        label_names : sequence of str, optional
            What the ``emotion`` codes mean; default the FER2013 classes
            (:data:`emorec.labels.LABELS`).
        image_size : (height, width), optional
            Size of each image; default square, inferred from the first row (48x48 for FER2013).
        progress_bar : bool, optional
            Draw a progress bar on stderr; default: when stderr is a terminal.
        ferplus : str, path-like or bool, optional
            FER+'s ``fer2013new.csv``, or True for the one beside ``path``
            (``emorec download ferplus`` fetches it).
        ferplus_mode : {"majority", "probability", "fer2013"}
            Train on the majority emotion, or on the vote distribution as soft targets
            (:attr:`DatasetSplit.targets`; the splits' ``labels`` are then the most voted
            emotion); or keep every face with FER2013's own labels and FER+'s majority only
            beside them (``"fer2013"``: to measure a model against both label sets).
        contempt : bool
            Keep FER+'s eighth class, ``contempt`` (:data:`emorec.labels.FERPLUS_LABELS`); by
            default its votes are dropped, and faces most voted contempt with them.

        Raises
        ------
        FileNotFoundError
            If ``path`` or the FER+ file is missing; the message says how to get FER+.
        ValueError
            For a missing column, or a row with the wrong number of pixels, a non-integer, a
            value outside 0..255 or an unknown emotion code; the message names the line. For
            FER+ votes whose rows do not align with the CSV's.

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
        read = read_fer2013_csv(
            path,
            label_names=label_names,
            image_size=image_size,
            progress_bar=progress_bar,
            ferplus=ferplus,
            ferplus_mode=ferplus_mode,
            contempt=contempt,
        )
        return cls._from_read(read)

    @classmethod
    def from_kaggle(
        cls,
        source: Literal["images", "csv"] = "images",
        *,
        path: str | os.PathLike[str] | None = None,
        force: bool = False,
        **read_kwargs: Any,
    ) -> EmotionDataset:
        """Download FER2013 from Kaggle with kagglehub (once, into a cache) and read it.

        ``source="images"`` gets the image-folder dataset ``msambare/fer2013`` (splits ``train``
        and ``test``); ``source="csv"`` gets the original challenge's ``fer2013.csv`` (splits
        ``train``, ``public_test``, ``private_test``), which requires accepting the challenge's
        rules on kaggle.com first. Needs ``pip install "emorec[kaggle]"``; ``source="csv"``
        also needs Kaggle API credentials (the images are public). Without them, or offline,
        it fails at once with a message saying how to set them or how to read a manual
        download.

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
        return write_fer2013_csv(path, self._splits, self._label_names, overwrite=overwrite)

    to_shards = to_shards  # data larger than memory: defined in emorec.data.shards
    from_shards = classmethod(from_shards)

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
        splits = carve_split(self, name, fraction, stratify, seed, source)
        return type(self)(splits, self._label_names, skipped=self.skipped)

    def drop_duplicates(self, split: str, *, of: str = "train") -> EmotionDataset:
        """A new dataset whose ``split`` leaves out the images whose pixels also occur in
        split ``of`` (exact copies; :mod:`emorec.data.duplicates`).

        FER2013's PublicTest holds hundreds of Training faces again: a test figure without
        them measures faces the model never saw.

        Examples
        --------
        >>> import numpy as np
        >>> images = np.zeros((3, 2, 2), np.uint8); images[2] = 7
        >>> ds = EmotionDataset.from_arrays(images[:2], [0, 3])
        >>> test = EmotionDataset.from_arrays(images[1:], [3, 6], split="test")["test"]
        >>> both = EmotionDataset({"train": ds["train"], "test": test}, ds.label_names)
        >>> len(both.drop_duplicates("test")["test"])
        1
        """
        splits = drop_seen(self, split, of)
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
        splits, names = relabel_splits(self, mapping, drop_unmapped=drop_unmapped)
        return type(self)(keep_lazy(splits), names, skipped=self.skipped)

    def class_counts(self, split: str | None = None) -> dict[str, int]:
        """Images per class in one split, or over all splits (``split=None``)."""
        parts = [self[split]] if split is not None else list(self._splits.values())
        return count_classes(parts, self._label_names)

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
        return balanced_class_weights(self[split].labels, len(self._label_names))

    # ----------------------------------------------------------------------------- display
    def summary(self) -> str:
        """A table of image counts per class (rows) and split (columns), with totals."""
        splits = list(self._splits.values())
        return summary_table(splits, self._label_names, skipped=len(self.skipped))

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
        augment: Augment = False,
        shuffle: bool | None = None,
        seed: int | None = None,
        label_mode: LabelMode = "int",
        drop_remainder: bool = False,
    ) -> tf.data.Dataset:
        """A batched, prefetched ``tf.data.Dataset`` of ``(float32 images, labels)``.

        Images are float32 in 0..255 (models rescale them themselves), shape
        ``(batch, height, width, channels)``. The split is converted to ``image_size`` and
        ``color_mode`` once, by :func:`emorec.pixels.to_model_input` (the pixel contract that
        serving uses too), then cast and augmented per batch; see :mod:`emorec.data.pipeline`.
        A split of :meth:`from_shards` is streamed from its files, converted and augmented alike.

        Parameters
        ----------
        split : str
            Which split.
        batch_size : int
            Images per batch.
        image_size : (height, width), optional
            Resize to this size (Pillow's bilinear filter, antialiased when shrinking); default:
            keep the stored size.
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
        label_mode : {"int", "categorical", "probability"}
            Integer labels, one-hot float32 vectors, or the split's soft targets
            (:attr:`DatasetSplit.targets`, for example FER+'s vote distributions).
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
        from .pipeline import to_tf

        part = self._nonempty(split)
        # a split that streams itself (ShardedSplit, from its files) feeds itself
        feed = getattr(part, "to_tf", None) or partial(to_tf, part.images, part.labels)
        return feed(
            num_classes=len(self._label_names),
            batch_size=batch_size,
            image_size=image_size,
            color_mode=color_mode,
            augment=augment,
            shuffle=split == "train" if shuffle is None else shuffle,
            seed=seed,
            label_mode=label_mode,
            drop_remainder=drop_remainder,
            targets=part.targets,
        )

    def to_keras(
        self,
        split: str,
        batch_size: int = 32,
        *,
        image_size: tuple[int, int] | None = None,
        color_mode: ColorMode = "grayscale",
        augment: Augment = False,
        shuffle: bool | None = None,
        seed: int | None = None,
        label_mode: LabelMode = "int",
    ) -> ArrayBatches:
        """The same batches as :meth:`to_tf`, as a ``keras.utils.PyDataset`` for any backend.

        For Keras on JAX or PyTorch without TensorFlow (for example on a GPU machine that has
        no TensorFlow); the Trainer uses it when the Keras backend is not TensorFlow.
        Augmentation runs the same Keras preprocessing layers, on the backend's device. The
        parameters are those of :meth:`to_tf`; the feed is
        :class:`emorec.data.pipeline.ArrayBatches`.

        Examples
        --------
        >>> import numpy as np
        >>> ds = EmotionDataset.from_arrays(np.zeros((5, 48, 48), np.uint8), [0, 1, 2, 3, 4])
        >>> batches = ds.to_keras("train", batch_size=4)
        >>> len(batches), batches[0][0].shape
        (2, (4, 48, 48, 1))
        """
        from .pipeline import ArrayBatches

        part = self._nonempty(split)
        return ArrayBatches(
            part.images,
            part.labels,
            batch_size=batch_size,
            num_classes=len(self._label_names),
            image_size=image_size,
            color_mode=color_mode,
            augment=augment,
            shuffle=split == "train" if shuffle is None else shuffle,
            seed=seed,
            label_mode=label_mode,
            targets=part.targets,
        )

    def _nonempty(self, split: str) -> DatasetSplit:
        part = self[split]
        if len(part) == 0:
            raise ValueError(f"split {split!r} is empty; nothing to feed")
        return part

    @classmethod
    def _from_read(cls, read: ReadResult) -> EmotionDataset:
        return cls(splits_from_read(read), read.label_names, skipped=read.skipped)
