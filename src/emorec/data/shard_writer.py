"""Writing a shard folder (:mod:`emorec.data.shards`) one face at a time: :class:`ShardWriter`.

Each face becomes a ``tf.train.Example`` (PNG bytes, label, position, source, split, soft
targets and label sets) appended to its split's current TFRecord file; the writer keeps only
the labels in memory, so it shards data of any size. :func:`emorec.data.shards.write_shards`
(what :meth:`EmotionDataset.to_shards <emorec.EmotionDataset.to_shards>` calls) drives it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .._version import __version__
from .shard_files import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SPLIT_NAME,
    TEMP,
    exists,
    gfile,
    is_url,
    join,
    listdir,
    load_json,
    open_file,
    remove,
    rename,
    sha256,
    size,
)

__all__ = ["ShardWriter"]


# ------------------------------------------------------------------------------- records
def _encode_png(image: npt.NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()


def _example(
    split: str,
    index: int,
    image: npt.NDArray[np.uint8],
    label: int,
    source: str,
    targets: npt.NDArray[np.floating] | None,
    label_sets: Mapping[str, int],
) -> bytes:
    import tensorflow as tf

    def ints(value: int) -> Any:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))

    def text(value: bytes) -> Any:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {
        "image": text(_encode_png(image)),
        "label": ints(label),
        "index": ints(index),
        "source": text(source.encode()),
        "split": text(split.encode()),
    }
    if targets is not None:
        values = np.asarray(targets, np.float32).tolist()
        feature["targets"] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    for key, value in label_sets.items():
        feature[f"label_set/{key}"] = ints(value)
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return bytes(example.SerializeToString())


class _SplitState:
    """What a :class:`ShardWriter` keeps for one split while writing it."""

    def __init__(self, name: str, records_per_shard: int) -> None:
        self.name, self.records_per_shard = name, records_per_shard
        self.shards: list[dict[str, Any]] = []  # file, temp, records
        self.writer: Any = None
        self.labels: list[int] = []
        self.targets: list[npt.NDArray[np.float32]] | None = None
        self.label_sets: dict[str, list[int]] | None = None
        self.image_shape: tuple[int, ...] | None = None


class ShardWriter:
    """Write labelled faces one at a time into TFRecord shards with a manifest.

    What :meth:`EmotionDataset.to_shards <emorec.EmotionDataset.to_shards>` uses; use it
    directly to shard data that does not fit in memory (for example images read one folder at
    a time), since it holds only the labels, never the images. Nothing is final until
    :meth:`close` (or the end of a ``with`` block without an error) renames the files and
    writes the manifest; an error inside the block removes what was written.

    Parameters
    ----------
    directory : str or path-like
        The folder (created if missing), or a bucket URL that ``tf.io.gfile`` supports.
    label_names : sequence of str
        The label set, in output order.
    records_per_shard : int
        Images per shard file; a split's last shard may hold fewer.
    overwrite : bool
        Write into a folder that is not empty, replacing the shards its manifest lists.
    skipped : sequence of (str, str)
        ``(source, reason)`` of images left out when reading, kept in the manifest.

    Raises
    ------
    FileExistsError
        If ``directory`` is not empty and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from emorec.data.shards import ShardWriter
    >>> with ShardWriter(tempfile.mkdtemp(), ["a", "b"], records_per_shard=2) as writer:
    ...     for i in range(3):
    ...         writer.add("train", np.full((4, 4, 1), i, np.uint8), i % 2, source=f"{i}.png")
    >>> sorted(name for name in os.listdir(writer.directory))
    ['manifest.json', 'train-00000.tfrecord', 'train-00001.tfrecord', 'train-index.npz']
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        label_names: Sequence[str],
        *,
        records_per_shard: int = 10_000,
        overwrite: bool = False,
        skipped: Sequence[tuple[str, str]] = (),
    ) -> None:
        if not isinstance(records_per_shard, (int, np.integer)) or records_per_shard < 1:
            raise ValueError(f"records_per_shard={records_per_shard!r}; expected an integer >= 1")
        self.directory = os.fspath(directory)
        self.label_names = tuple(label_names)
        self.records_per_shard = int(records_per_shard)
        self.skipped = [list(item) for item in skipped]
        self._token = uuid.uuid4().hex[:12]
        self._splits: dict[str, _SplitState] = {}
        self._closed = False
        self._replaced = self._check_folder(overwrite)

    def _check_folder(self, overwrite: bool) -> list[str]:
        """Create the folder, or check that it may be written; the old files to replace."""
        if not exists(self.directory):
            if is_url(self.directory):
                gfile().makedirs(self.directory)
            else:
                os.makedirs(self.directory)
            return []
        present = sorted(listdir(self.directory))
        if present and not overwrite:
            shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
            raise FileExistsError(
                f"{self.directory}: the folder is not empty ({len(present)} entries: {shown}); "
                "choose an empty or new folder, or pass overwrite=True to replace the shards in it"
            )
        old = [name for name in present if TEMP.search(name)]
        if MANIFEST in present:
            try:
                manifest = load_json(join(self.directory, MANIFEST))
                for split in manifest.get("splits", {}).values():
                    old += [s["file"] for s in split.get("shards", [])]
                    old.append(split["index"]["file"])
            except (ValueError, KeyError, TypeError):
                pass  # a broken manifest: replace it, delete nothing else
            old.append(MANIFEST)
        return [name for name in dict.fromkeys(old) if name in present]

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if error is None:
            self.close()
        else:
            self.abort()

    def _state(self, split: str) -> _SplitState:
        state = self._splits.get(split)
        if state is None:
            if not isinstance(split, str) or not SPLIT_NAME.fullmatch(split):
                raise ValueError(
                    f"split name {split!r}: expected letters, digits, '_', '-' or '.' (it "
                    "names the shard files)"
                )
            state = self._splits[split] = _SplitState(split, self.records_per_shard)
        return state

    def add(
        self,
        split: str,
        image: npt.ArrayLike,
        label: int,
        *,
        source: str = "",
        targets: npt.ArrayLike | None = None,
        label_sets: Mapping[str, int] | None = None,
    ) -> None:
        """Append one face to ``split``.

        Parameters
        ----------
        split : str
            The split's name (letters, digits, ``_``, ``-``, ``.``).
        image : array_like
            uint8 ``(h, w, 1 | 3)`` (or ``(h, w)`` grey); every image of a split has one shape.
        label : int
            Index into the label names.
        source : str
            Where the image came from.
        targets : array_like, optional
            Soft targets over the labels; give them for every image of the split or for none.
        label_sets : mapping of str to int, optional
            Other labellings of the image (-1 for none); the same names for every image.

        Raises
        ------
        ValueError
            For an image of another shape or dtype than the split's first, a label out of
            range, or targets or label sets given for some images of a split and not others.
        """
        if self._closed:
            raise ValueError(f"{self.directory}: this ShardWriter is closed; start a new one")
        state = self._state(split)
        arr = np.asarray(image)
        if arr.ndim == 2:
            arr = arr[..., None]
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[-1] not in (1, 3):
            raise ValueError(
                f"split {split!r}: an image of shape {arr.shape} and dtype {arr.dtype}; expected "
                "uint8 (h, w, 1 or 3)"
            )
        if state.image_shape is None:
            state.image_shape = arr.shape
        elif arr.shape != state.image_shape:
            raise ValueError(
                f"split {split!r}: image {len(state.labels)} ({source or 'no source'}) has shape "
                f"{arr.shape}, the split's first {state.image_shape}; resize them to one size"
            )
        if not 0 <= int(label) < len(self.label_names):
            raise ValueError(f"label {label} is out of range for {len(self.label_names)} labels")
        first = not state.labels
        row = None if targets is None else np.asarray(targets, np.float32).reshape(-1)
        sets = dict(label_sets or {})
        if first:
            state.targets = None if row is None else []
            state.label_sets = {key: [] for key in sets}
        if (row is None) != (state.targets is None) or set(sets) != set(state.label_sets or {}):
            raise ValueError(
                f"split {split!r}: image {len(state.labels)} has targets or label sets the "
                "split's first image has not (or the other way round); give them for all or none"
            )
        if row is not None and row.shape != (len(self.label_names),):
            raise ValueError(
                f"split {split!r}: targets of {row.shape[0]} values; expected "
                f"{len(self.label_names)}, one per label"
            )
        if state.writer is None or state.shards[-1]["records"] >= state.records_per_shard:
            self._next_shard(state)
        record = _example(split, len(state.labels), arr, int(label), source, row, sets)
        state.writer.write(record)
        state.shards[-1]["records"] += 1
        state.labels.append(int(label))
        if row is not None and state.targets is not None:
            state.targets.append(row)
        for key, value in sets.items():
            assert state.label_sets is not None
            state.label_sets[key].append(int(value))

    def _next_shard(self, state: _SplitState) -> None:
        import tensorflow as tf

        if state.writer is not None:
            state.writer.close()
        name = f"{state.name}-{len(state.shards):05d}.tfrecord"
        temp = join(self.directory, f".{name}.emorec-tmp-{self._token}")
        state.writer = tf.io.TFRecordWriter(temp)
        state.shards.append({"file": name, "temp": temp, "records": 0})

    def _temporaries(self) -> Iterator[str]:
        for state in self._splits.values():
            yield from (shard["temp"] for shard in state.shards)
        for name in listdir(self.directory) if exists(self.directory) else []:
            if name.endswith(f".emorec-tmp-{self._token}"):
                yield join(self.directory, name)

    def abort(self) -> None:
        """Stop writing and remove this writer's temporary files; the folder keeps its old
        content (and no new manifest)."""
        self._closed = True
        for state in self._splits.values():
            if state.writer is not None:
                state.writer.close()
        for temp in dict.fromkeys(self._temporaries()):
            if exists(temp):
                remove(temp)

    def close(self) -> str:
        """Finish: write each split's index, rename the files into place, write the manifest.

        Returns
        -------
        str
            The folder.
        """
        if self._closed:
            return self.directory
        try:
            splits = {name: self._finish_split(state) for name, state in self._splits.items()}
        except BaseException:
            self.abort()
            raise
        self._closed = True
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "emorec_version": __version__,
            "label_names": list(self.label_names),
            "splits": splits,
            "skipped": self.skipped,
        }
        # the old manifest goes first: the folder is never a mix that a manifest vouches for
        if MANIFEST in self._replaced:
            remove(join(self.directory, MANIFEST))
        new = {s["file"] for split in splits.values() for s in [*split["shards"], split["index"]]}
        for state in self._splits.values():
            for shard in state.shards:
                rename(shard["temp"], join(self.directory, shard["file"]))
            index = join(self.directory, f".{state.name}-index.npz.emorec-tmp-{self._token}")
            rename(index, join(self.directory, f"{state.name}-index.npz"))
        for name in self._replaced:
            if name not in new and name != MANIFEST and exists(join(self.directory, name)):
                remove(join(self.directory, name))
        temp = join(self.directory, f".{MANIFEST}.emorec-tmp-{self._token}")
        with open_file(temp, "w") as fh:
            fh.write(json.dumps(manifest, indent=1))
        rename(temp, join(self.directory, MANIFEST))
        return self.directory

    def _finish_split(self, state: _SplitState) -> dict[str, Any]:
        if state.writer is not None:
            state.writer.close()
        labels = np.asarray(state.labels, np.int64)
        arrays: dict[str, Any] = {"labels": labels}
        if state.targets is not None:
            arrays["targets"] = np.asarray(state.targets, np.float32)
        for key, values in (state.label_sets or {}).items():
            arrays[f"label_set/{key}"] = np.asarray(values, np.int64)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
        index = join(self.directory, f".{state.name}-index.npz.emorec-tmp-{self._token}")
        with open_file(index, "wb") as fh:
            fh.write(data)
        counts = np.bincount(labels, minlength=len(self.label_names))
        return {
            "count": len(labels),
            "class_counts": dict(zip(self.label_names, counts.tolist())),
            "image_shape": list(state.image_shape or ()),
            "targets": state.targets is not None,
            "label_sets": sorted(state.label_sets or {}),
            "shards": [
                {
                    "file": s["file"],
                    "records": s["records"],
                    "bytes": size(s["temp"]),
                    "sha256": sha256(s["temp"]),
                }
                for s in state.shards
            ],
            "index": {
                "file": f"{state.name}-index.npz",
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        }
