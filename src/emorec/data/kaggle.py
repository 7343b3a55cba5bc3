"""Download FER2013 from Kaggle with ``kagglehub`` into emorec's cache, atomically.

Two Kaggle sources hold FER2013:

* :data:`FER2013_DATASET` (``msambare/fer2013``), a public image-folder dataset
  (``train/<class>/*.jpg``, ``test/<class>/*.jpg``); kagglehub hands it over extracted, and it is
  packed again, deterministically, into one ``fer2013.zip`` (what
  :meth:`EmotionDataset.from_directory` reads, and what a browser download gives), so that the
  cache holds one file that appears whole or not at all;
* :data:`FER2013_COMPETITION`, the original ICML 2013 challenge (credentials and accepted rules
  needed); only its ``fer2013.tar.gz`` is downloaded and its ``fer2013.csv`` kept, or, failing
  that, its ``icml_face_data.csv``.

Everything is downloaded into a temporary folder beside the target (never into kagglehub's own
cache) and only the final file is moved into place.

Notes on ``kagglehub``
----------------------
Read from version 1.0.3, with ``kagglesdk`` 0.1.38; ``output_dir`` exists since 0.4.3.

* ``dataset_download(handle, path=None, *, force_download=False, output_dir=None)`` asks for the
  current version, downloads the dataset's archive, extracts it (``zipfile.extractall``, which
  drops ``..`` and absolute parts of member names; tars with ``filter="data"``) into
  ``output_dir`` (default ``$KAGGLEHUB_CACHE``, else ``~/.cache/kagglehub``), deletes the archive,
  leaves a completion marker under ``<output_dir>/.complete/`` and returns the folder. Public
  datasets need no credentials.
* ``competition_download(handle, path=None, *, ...)`` raises
  ``kagglehub.exceptions.UnauthenticatedError`` without credentials, before any network call;
  with ``path`` it downloads that one file and returns its path.
* Inside a Kaggle notebook ``output_dir`` is ignored and a read-only mounted path is returned:
  only the returned path is read, never written.
* Credentials (``kagglehub.config.get_kaggle_credentials``): ``kagglehub.login()``, then
  ``KAGGLE_API_TOKEN`` (a token or a token file's path), ``~/.kaggle/access_token[.txt]``,
  ``KAGGLE_USERNAME`` with ``KAGGLE_KEY``, ``$KAGGLE_CONFIG_DIR/kaggle.json`` (default
  ``~/.kaggle/kaggle.json``; a malformed one raises ``ValueError``), Colab secrets.
* HTTP errors are ``kagglehub.exceptions.KaggleApiHTTPError`` (a ``requests.HTTPError``;
  ``.response.status_code``: 401, 403 for competition rules not accepted, 404); offline is
  ``requests.exceptions.ConnectionError``, unwrapped; a checksum mismatch is
  ``DataCorruptionError``.
* It logs to stdout through its own handler on the ``kagglehub`` logger (``propagate=False``) and
  may ``sys.stdout.write`` an outdated-version warning; both go to emorec's log during a download,
  so that stdout keeps only what the caller prints. Its tqdm bar goes to stderr.

Examples
--------
>>> from emorec.data.kaggle import FER2013_DATASET, download_fer2013
>>> FER2013_DATASET
'msambare/fer2013'
>>> zip_path = download_fer2013("images")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import ModuleType
from typing import Literal

from .._files import atomic_file, replace_durably
from .._optional import MissingDependencyError

__all__ = [
    "FER2013_COMPETITION",
    "FER2013_DATASET",
    "KaggleError",
    "KaggleNotInstalledError",
    "default_cache_dir",
    "download_fer2013",
]

logger = logging.getLogger("emorec")

FER2013_DATASET = "msambare/fer2013"
"""Kaggle image-folder dataset: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``."""

FER2013_COMPETITION = (
    "challenges-in-representation-learning-facial-expression-recognition-challenge"
)
"""The original Kaggle challenge; its files hold ``fer2013.tar.gz`` with ``fer2013.csv``."""

_DATASET_URL = f"https://www.kaggle.com/datasets/{FER2013_DATASET}"
_COMPETITION_URL = f"https://www.kaggle.com/c/{FER2013_COMPETITION}"
_TOKEN_URL = "https://www.kaggle.com/settings/api"
_CSV_NAMES = ("fer2013.csv", "icml_face_data.csv")  # in order of preference


class KaggleError(RuntimeError):
    """A Kaggle download failed; the message says why and what to do about it.

    Examples
    --------
    >>> from emorec.data.kaggle import KaggleError
    >>> try:
    ...     raise KaggleError("no Kaggle credentials; see ~/.kaggle/kaggle.json")
    ... except RuntimeError as exc:
    ...     print(exc)
    no Kaggle credentials; see ~/.kaggle/kaggle.json
    """


class KaggleNotInstalledError(KaggleError, MissingDependencyError):
    """``kagglehub`` is not installed (also a :class:`~emorec._optional.MissingDependencyError`,
    so an :class:`ImportError`); the message names the extra that installs it.

    Examples
    --------
    >>> from emorec.data.kaggle import KaggleError, KaggleNotInstalledError
    >>> issubclass(KaggleNotInstalledError, KaggleError), issubclass(
    ...     KaggleNotInstalledError, ImportError)
    (True, True)
    """


# --------------------------------------------------------------------------------- cache dir
def default_cache_dir() -> Path:
    """Return emorec's cache folder.

    ``$EMOREC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/emorec`` if ``XDG_CACHE_HOME`` is set,
    else ``~/.cache/emorec``. The folder is not created.

    Returns
    -------
    pathlib.Path
        The cache folder.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> env = {k: v for k, v in os.environ.items() if k != "EMOREC_CACHE_DIR"}
    >>> with mock.patch.dict(os.environ, env, clear=True):
    ...     default_cache_dir().name
    'emorec'
    >>> with mock.patch.dict(os.environ, {"EMOREC_CACHE_DIR": "/data/emorec-cache"}):
    ...     default_cache_dir().as_posix()
    '/data/emorec-cache'
    """
    explicit = os.environ.get("EMOREC_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "emorec"


# ---------------------------------------------------------------------------------- messages
def _manual_hint(source: str) -> str:
    if source == "csv":
        return (
            f"download fer2013.tar.gz by hand from {_COMPETITION_URL}/data and pass its path "
            "(EmotionDataset.from_csv reads it as it is)"
        )
    return (
        f"download fer2013.zip by hand from {_DATASET_URL} and pass its path "
        "(EmotionDataset.from_directory('path/to/fer2013.zip'))"
    )


def _credentials_help(source: str) -> str:
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle") / "kaggle.json"
    return (
        f"Create an API token at {_TOKEN_URL} and set KAGGLE_API_TOKEN=<token> or save it in "
        f"~/.kaggle/access_token; or, with a legacy API key, set KAGGLE_USERNAME and KAGGLE_KEY "
        f"or save kaggle.json as {config} (chmod 600). Or {_manual_hint(source)}."
    )


def _what(source: str) -> str:
    if source == "csv":
        return f"the competition {FER2013_COMPETITION!r}"
    return f"the dataset {FER2013_DATASET!r}"


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -------------------------------------------------------------------------- network boundary
def _kagglehub() -> ModuleType:
    """Import kagglehub, or raise :class:`KaggleNotInstalledError` naming the extra."""
    try:
        import kagglehub
    except ImportError as exc:
        raise KaggleNotInstalledError(
            "downloading FER2013 from Kaggle needs kagglehub, which is not installed: "
            'pip install "emorec[kaggle]"'
        ) from exc
    return kagglehub


def _has_credentials(source: str) -> bool:
    """Whether kagglehub finds credentials (no network); a malformed kaggle.json is an error."""
    from kagglehub.config import get_kaggle_credentials

    try:
        return get_kaggle_credentials() is not None
    except ValueError as exc:  # kaggle.json is not JSON or lacks "username"/"key"
        raise KaggleError(f"{exc}: fix or delete it. {_credentials_help(source)}") from exc


@contextlib.contextmanager
def _kagglehub_output_to_log(quiet: bool) -> Iterator[None]:
    """Send what kagglehub writes to stdout (its log handler, its version warning) to emorec's
    log while the block runs, and with ``quiet`` drop its progress bar (stderr)."""
    buffer = io.StringIO()
    handlers = [
        h for h in logging.getLogger("kagglehub").handlers if type(h) is logging.StreamHandler
    ]
    streams = [h.setStream(buffer) for h in handlers]
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(buffer))
            if quiet:
                stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
            yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
        for line in buffer.getvalue().splitlines():
            if line.strip():
                logger.info("kagglehub: %s", line.strip())


def _translate(exc: BaseException, source: str, has_credentials: bool) -> KaggleError | None:
    """A KaggleError for a known kagglehub (or requests) exception, None for any other."""
    import requests
    from kagglehub.exceptions import DataCorruptionError, UnauthenticatedError

    what, manual = _what(source), _manual_hint(source)
    if isinstance(exc, UnauthenticatedError):
        return KaggleError(
            f"no Kaggle API credentials found; {what} needs them. {_credentials_help(source)}"
        )
    if isinstance(exc, requests.HTTPError):
        status = getattr(exc.response, "status_code", None)
        if status in (401, 403) and not has_credentials:
            return KaggleError(
                f"Kaggle refused {what} without credentials (HTTP {status}). "
                f"{_credentials_help(source)}"
            )
        if status == 401:
            return KaggleError(
                "Kaggle rejected your API credentials (HTTP 401): the token or key is wrong, "
                f"expired or revoked. {_credentials_help(source)}"
            )
        if status == 403 and source == "csv":
            return KaggleError(
                f"Kaggle refused {what} (HTTP 403): its rules must be accepted first. Open "
                f"{_COMPETITION_URL}/rules while logged in to the account whose credentials you "
                f"use, accept them, then retry. Or {manual}."
            )
        if status == 403:
            return KaggleError(
                f"Kaggle refused {what} (HTTP 403): check that your account can open "
                f"{_DATASET_URL} while logged in, then retry. Or {manual}."
            )
        return KaggleError(
            f"downloading {what} failed with HTTP {status} ({_one_line(exc)}); retry later, "
            f"or {manual}."
        )
    network = (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
    )
    if isinstance(exc, network):
        return KaggleError(
            f"could not reach Kaggle ({_one_line(exc)}); check your network connection, "
            f"or {manual}."
        )
    if isinstance(exc, DataCorruptionError):
        return KaggleError(f"the download of {what} was corrupted in transit; retry, or {manual}.")
    return None


def _fetch(
    download: Callable[..., str],
    handle: str,
    source: str,
    has_credentials: bool,
    *,
    missing_ok: bool = False,
    **kwargs: object,
) -> Path | None:
    """Call a kagglehub download function; its errors become KaggleError (and an HTTP 404
    None, with ``missing_ok``)."""
    try:
        return Path(download(handle, **kwargs))
    except Exception as exc:
        response = getattr(exc, "response", None)
        if missing_ok and getattr(response, "status_code", None) == 404:
            return None
        translated = _translate(exc, source, has_credentials)
        if translated is None:
            raise
        raise translated from exc


# ------------------------------------------------------------------------------- archives
def _is_safe_member(name: str) -> bool:
    """False for absolute names, drive names and names with a ``..`` component."""
    posix = name.replace("\\", "/")
    if not posix or posix.startswith("/") or PureWindowsPath(name).drive:
        return False
    return ".." not in PurePosixPath(posix).parts


def _csv_from_tar(tar_path: Path, dest: Path) -> Path | None:
    """Write ``fer2013.csv`` of a tar archive to ``dest`` atomically; None if it has none."""
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members = tar.getmembers()
            bad = next((m.name for m in members if not _is_safe_member(m.name)), None)
            if bad is not None:
                raise KaggleError(
                    f"refusing to extract from {tar_path.name}: member {bad!r} has an absolute "
                    f"path or a '..' component (a corrupt or tampered archive); "
                    f"{_manual_hint('csv')}."
                )
            for member in members:
                if member.isreg() and PurePosixPath(member.name).name == "fer2013.csv":
                    src = tar.extractfile(member)
                    if src is None:  # pragma: no cover - a regular member always has data
                        continue
                    logger.info("Extracting %s from %s", member.name, tar_path.name)
                    with src, atomic_file(dest / "fer2013.csv") as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    return dest / "fer2013.csv"
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:  # damaged
        raise KaggleError(
            f"{tar_path.name} from Kaggle is not a readable tar archive ({exc}); retry, "
            f"or {_manual_hint('csv')}."
        ) from exc
    return None


def _zip_folder(root: Path, out: Path) -> int:
    """Pack the files under ``root`` into the zip ``out``, the same bytes for the same files:
    sorted names, fixed dates and modes, stored (JPEGs do not shrink). Hidden names (such as
    kagglehub's ``.complete`` marker folder) are left out; a symbolic link is refused.
    Returns the number of files."""
    files = sorted(
        (p.relative_to(root).as_posix(), p)
        for p in root.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
        and (p.is_symlink() or p.is_file())
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, path in files:
            if path.is_symlink():
                raise KaggleError(
                    f"refusing to pack {path}: a symbolic link in the Kaggle download of "
                    f"{FER2013_DATASET}; {_manual_hint('images')}."
                )
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, whatever the platform, for the same bytes
            info.external_attr = 0o100644 << 16
            info.file_size = path.stat().st_size
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    return len(files)


# -------------------------------------------------------------------------------- download
def _cached(dest: Path, source: str) -> Path | None:
    names = _CSV_NAMES if source == "csv" else ("fer2013.zip",)
    return next((dest / n for n in names if (dest / n).is_file()), None)


def _download_images(hub: ModuleType, workdir: Path, dest: Path, has_creds: bool) -> Path:
    folder = _fetch(
        hub.dataset_download, FER2013_DATASET, "images", has_creds, output_dir=str(workdir)
    )
    assert folder is not None
    final = dest / "fer2013.zip"
    with atomic_file(final) as tmp:
        if _zip_folder(folder, tmp) == 0:
            raise KaggleError(
                f"the Kaggle download of {FER2013_DATASET} holds no files; retry, "
                f"or {_manual_hint('images')}."
            )
    return final


def _download_csv(hub: ModuleType, workdir: Path, dest: Path, has_creds: bool) -> Path:
    def fetch(name: str) -> Path | None:  # None if the competition has no such file
        return _fetch(
            hub.competition_download,
            FER2013_COMPETITION,
            "csv",
            has_creds,
            missing_ok=True,
            path=name,
            output_dir=str(workdir),
        )

    tar = fetch("fer2013.tar.gz")
    if tar is not None:
        found = _csv_from_tar(tar, dest)
        if found is not None:
            return found
        logger.info("fer2013.tar.gz holds no fer2013.csv; downloading icml_face_data.csv")
    icml = fetch("icml_face_data.csv")
    if icml is None:
        raise KaggleError(
            f"Kaggle's {_what('csv')} has neither fer2013.tar.gz (with fer2013.csv) nor "
            f"icml_face_data.csv; {_manual_hint('csv')}."
        )
    final = dest / "icml_face_data.csv"
    if icml.resolve().is_relative_to(workdir.resolve()):
        replace_durably(icml, final)
    else:  # a read-only path kagglehub returned (a Kaggle notebook's mounted input)
        with atomic_file(final) as tmp:
            shutil.copyfile(icml, tmp)
    return final


def download_fer2013(
    source: Literal["images", "csv"] = "images",
    *,
    path: str | os.PathLike[str] | None = None,
    force: bool = False,
    quiet: bool = False,
) -> Path:
    """Download FER2013 from Kaggle once and return the local file.

    ``source="images"`` downloads the public dataset :data:`FER2013_DATASET` (no credentials
    needed) and returns ``fer2013.zip``: its image folders packed as a browser download gives
    them (read it with ``EmotionDataset.from_directory``). ``source="csv"`` downloads the
    ``fer2013.tar.gz`` of :data:`FER2013_COMPETITION` (credentials needed, and its rules accepted
    on kaggle.com) and returns the extracted ``fer2013.csv``, or ``icml_face_data.csv`` if
    there is no ``fer2013.csv`` (read either with ``EmotionDataset.from_csv``).

    If the file is already there it is returned without network (or kagglehub), unless
    ``force``. Downloads go to a temporary folder beside the target and the file is moved into
    place only once complete, so an interrupted download never leaves a partial file at the
    target, and a failed forced download keeps the old file.

    Parameters
    ----------
    source : {"images", "csv"}
        Which Kaggle download to get.
    path : str or path-like, optional
        Folder for the file; default ``default_cache_dir() / "datasets" / "fer2013"``.
    force : bool
        Download again even if the file exists, replacing it.
    quiet : bool
        Hide kagglehub's progress bar.

    Returns
    -------
    pathlib.Path
        ``<path>/fer2013.zip`` for images; ``<path>/fer2013.csv`` (or
        ``<path>/icml_face_data.csv``) for csv.

    Raises
    ------
    ValueError
        If ``source`` is not ``"images"`` or ``"csv"``.
    KaggleError
        Without credentials where they are needed, with rejected ones (HTTP 401), with the
        competition's rules not accepted (HTTP 403), offline, for an unusable or unsafe
        archive, or without kagglehub (:class:`KaggleNotInstalledError`). The message says what
        to do, including how to download the file by hand instead.

    Examples
    --------
    >>> zip_path = download_fer2013("images")  # doctest: +SKIP
    >>> zip_path.name  # doctest: +SKIP
    'fer2013.zip'
    """
    if source not in ("images", "csv"):
        raise ValueError(f"source must be 'images' or 'csv', not {source!r}")
    default = default_cache_dir() / "datasets" / "fer2013"
    dest = default if path is None else Path(path).expanduser()

    if not force:
        cached = _cached(dest, source)
        if cached is not None:
            logger.info("Using FER2013 already downloaded at %s", cached)
            return cached

    hub = _kagglehub()
    has_creds = _has_credentials(source)
    dest.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".emorec-download-", suffix=".part", dir=dest))
    try:
        what = FER2013_DATASET if source == "images" else FER2013_COMPETITION
        logger.info("Downloading %s from Kaggle into %s", what, dest)
        with _kagglehub_output_to_log(quiet):
            if source == "images":
                final = _download_images(hub, workdir / "files", dest, has_creds)
            else:
                final = _download_csv(hub, workdir / "files", dest, has_creds)
        logger.info("Saved %s (%.1f MB)", final, final.stat().st_size / 1e6)
        return final
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
