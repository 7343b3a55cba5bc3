"""The files of a shard folder (:mod:`emorec.data.shards`): their names, the manifest's format
constants, and the few file operations the writer and reader need, through the operating system
for local paths and through TensorFlow's filesystem, ``tf.io.gfile``, for paths with a scheme
(``gs://``, ``s3://``: those the installed TensorFlow supports).

Examples
--------
>>> from emorec.data.shard_files import join
>>> join("gs://bucket/faces/", "manifest.json")
'gs://bucket/faces/manifest.json'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "SPLIT_NAME",
    "TEMP",
    "exists",
    "gfile",
    "is_url",
    "join",
    "listdir",
    "load_json",
    "open_file",
    "remove",
    "rename",
    "sha256",
    "size",
]

#: The manifest's file name.
MANIFEST = "manifest.json"
#: The manifest's ``format`` value.
FORMAT = "emorec-shards"
#: The newest manifest version this emorec writes and reads.
FORMAT_VERSION = 1
#: The end of a temporary file's name while it is written (an interrupted write leaves them).
TEMP = re.compile(r"\.emorec-tmp-[0-9a-f]{12}$")
#: What a split's name may hold: it names the split's files.
SPLIT_NAME = re.compile(r"[A-Za-z0-9_.-]+")


# ------------------------------------------------------------------------------- files
def is_url(path: str) -> bool:
    """Whether ``path`` has a scheme (``gs://...``), so goes through ``tf.io.gfile``."""
    return "://" in path


def gfile() -> Any:
    """TensorFlow's filesystem module (TensorFlow is imported only for such paths)."""
    import tensorflow as tf

    return tf.io.gfile


def join(directory: str, name: str) -> str:
    """``directory/name``, for a local folder or a bucket URL."""
    return (
        directory.rstrip("/") + "/" + name if is_url(directory) else os.path.join(directory, name)
    )


def exists(path: str) -> bool:
    """Whether the file or folder exists."""
    return bool(gfile().exists(path)) if is_url(path) else os.path.exists(path)


def listdir(path: str) -> list[str]:
    """The names in a folder."""
    if is_url(path):
        return [name.rstrip("/") for name in gfile().listdir(path)]
    return os.listdir(path)


def size(path: str) -> int:
    """A file's size in bytes."""
    return int(gfile().stat(path).length) if is_url(path) else os.path.getsize(path)


def open_file(path: str, mode: str) -> Any:
    """A file object, as ``open`` gives (``mode`` of ``r``, ``w``, ``rb``, ``wb``)."""
    return gfile().GFile(path, mode) if is_url(path) else open(path, mode)


def rename(source: str, target: str) -> None:
    """Move ``source`` to ``target``, replacing it."""
    if is_url(source):
        gfile().rename(source, target, overwrite=True)
    else:
        os.replace(source, target)


def remove(path: str) -> None:
    """Delete a file."""
    if is_url(path):
        gfile().remove(path)
    else:
        os.remove(path)


def sha256(path: str) -> str:
    """A file's SHA-256, hex."""
    digest = hashlib.sha256()
    with open_file(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_json(path: str) -> dict[str, Any]:
    """A JSON object from a file.

    Raises
    ------
    ValueError
        For a file that is not JSON, or not an object; the message names it."""
    with open_file(path, "r") as fh:
        text = fh.read()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); write the shards again") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data
