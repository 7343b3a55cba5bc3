"""Download FER2013 from Kaggle into a local cache, atomically, with errors that say what to do.

Two Kaggle sources hold FER2013:

* :data:`FER2013_DATASET` (``msambare/fer2013``), an image-folder dataset
  (``train/<class>/*.jpg``, ``test/<class>/*.jpg``), kept as the downloaded ``fer2013.zip``
  because :meth:`EmotionDataset.from_directory` reads zips directly;
* :data:`FER2013_COMPETITION`, the original ICML 2013 challenge, whose download holds
  ``fer2013.tar.gz`` (with ``fer2013/fer2013.csv``), ``icml_face_data.csv``, ``train.csv`` and
  ``test.csv``; only ``fer2013.csv`` (or, failing that, ``icml_face_data.csv``) is kept.

Notes on the ``kaggle`` package (read from version 2.2.5, with ``kagglesdk`` 0.1.38)
------------------------------------------------------------------------------------
* ``import kaggle`` (and so ``import kaggle.api.kaggle_api_extended``, which runs the
  package ``__init__``) builds a ``KaggleApi`` and calls ``authenticate()`` inside
  ``try/except (Exception, SystemExit)``: it prints the authentication help to stdout when
  no credentials exist, and makes a network call when an access token is set. The class
  body also creates the config directory. The import is therefore done lazily, in
  :func:`_kaggle_api`, with stdout captured.
* ``KaggleApi.authenticate()`` tries, in order: an access token (env ``KAGGLE_API_TOKEN``, a
  token or a path to a token file, or ``~/.kaggle/access_token[.txt]``; verified by a network
  call), a legacy key (``username`` and ``key`` from ``kaggle.json`` in the config directory,
  overridden by ``KAGGLE_USERNAME`` / ``KAGGLE_KEY``; no network call), OAuth credentials from
  ``kaggle auth login`` (``~/.kaggle/credentials.json``). Without any it prints help and calls
  ``exit(1)``: it raises ``SystemExit``, not an ``Exception``. (kaggle 1.x raised ``OSError``.)
* The config directory is ``$KAGGLE_CONFIG_DIR``, else ``~/.kaggle``, else (Linux, when
  ``~/.kaggle`` does not exist) ``$XDG_CONFIG_HOME/kaggle`` or ``~/.config/kaggle``; it is a
  class attribute fixed at import time, so :func:`_kaggle_api` sets it again per instance.
* ``dataset_download_files(dataset, path=None, force=False, quiet=True, unzip=False,
  licenses=[])`` writes ``<path>/<dataset-slug>.zip`` (``fer2013.zip``) and always prints the
  dataset URL; ``competition_download_files(competition, path=None, force=False, quiet=True,
  unzip=False)`` writes ``<path>/<competition>.<extension of the signed URL>`` (a ``.zip``).
  Both show a tqdm progress bar (stderr) unless ``quiet``, and keep a ``<file>.kaggle-partial``
  resume marker beside an unfinished file.
* HTTP errors are ``requests.exceptions.HTTPError`` with ``.response.status_code`` (401: bad
  credentials, 403: e.g. competition rules not accepted); offline (DNS, refused connection) is
  ``requests.exceptions.ConnectionError`` (a subclass of ``OSError``); an interrupted stream is
  retried 5 times, then the last ``ConnectionError``/``ChunkedEncodingError``/urllib3
  ``ProtocolError``/``ReadTimeoutError`` is raised; a size mismatch raises ``ValueError``.

Examples
--------
>>> from emorec.data.kaggle import FER2013_DATASET, download_fer2013
>>> FER2013_DATASET
'msambare/fer2013'
>>> zip_path = download_fer2013("images")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Any, Literal, Protocol

from .._files import replace_durably

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
"""The original Kaggle challenge; its download holds ``fer2013.tar.gz`` with ``fer2013.csv``."""

_DATASET_URL = f"https://www.kaggle.com/datasets/{FER2013_DATASET}"
_COMPETITION_URL = f"https://www.kaggle.com/c/{FER2013_COMPETITION}"
_TOKEN_URL = "https://www.kaggle.com/settings/api"
_MANUAL_READ = (
    "EmotionDataset.from_directory('path/to/fer2013.zip') / "
    "EmotionDataset.from_csv('path/to/fer2013.csv')"
)
_CSV_NAMES = ("fer2013.csv", "icml_face_data.csv")  # in order of preference
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


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


class KaggleNotInstalledError(KaggleError, ImportError):
    """The ``kaggle`` package is not installed (also an :class:`ImportError`).

    Examples
    --------
    >>> from emorec.data.kaggle import KaggleError, KaggleNotInstalledError
    >>> issubclass(KaggleNotInstalledError, KaggleError), issubclass(
    ...     KaggleNotInstalledError, ImportError)
    (True, True)
    """


class _KaggleApiLike(Protocol):
    """The part of ``kaggle.api.kaggle_api_extended.KaggleApi`` used here (tests fake it)."""

    def dataset_download_files(
        self, dataset: str, path: str | None = ..., force: bool = ..., quiet: bool = ...
    ) -> Any: ...

    def competition_download_files(
        self, competition: str, path: str | None = ..., force: bool = ..., quiet: bool = ...
    ) -> Any: ...


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


# ------------------------------------------------------------------------------- credentials
def _kaggle_config_dir() -> Path:
    """The folder where the kaggle package looks for ``kaggle.json`` (as kaggle 2.x does)."""
    explicit = os.environ.get("KAGGLE_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    legacy = Path.home() / ".kaggle"
    if sys.platform.startswith("linux") and not legacy.exists():
        xdg = os.environ.get("XDG_CONFIG_HOME")
        return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "kaggle"
    return legacy


def _read_nonempty(path: Path) -> bool:
    try:
        return path.is_file() and bool(path.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return False


def _find_kaggle_credentials() -> str | None:
    """Say where Kaggle credentials would come from, or None; reads files only, no network.

    Mirrors the sources that ``KaggleApi.authenticate()`` of kaggle 2.x accepts.
    """
    home_kaggle = Path.home() / ".kaggle"
    token = os.environ.get("KAGGLE_API_TOKEN", "").strip()
    if token:
        return "the KAGGLE_API_TOKEN environment variable"
    for name in ("access_token", "access_token.txt"):
        if _read_nonempty(home_kaggle / name):
            return str(home_kaggle / name)
    notebook_token = os.environ.get("KAGGLE_API_V1_TOKEN")
    if (
        notebook_token
        and os.environ.get("KAGGLE_KERNEL_RUN_TYPE")
        and _read_nonempty(Path(notebook_token))
    ):
        return "the Kaggle notebook environment"

    config_file = _kaggle_config_dir() / "kaggle.json"
    values: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(config_file.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            values = loaded
    user = os.environ.get("KAGGLE_USERNAME") or values.get("username")
    key = os.environ.get("KAGGLE_KEY") or values.get("key")
    if user and key:
        if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
            return "the KAGGLE_USERNAME and KAGGLE_KEY environment variables"
        return str(config_file)

    oauth = home_kaggle / "credentials.json"
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(oauth.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("refresh_token"):
            return f"{oauth} (kaggle auth login)"
    return None


def _manual_hint(source: str) -> str:
    url = _COMPETITION_URL if source == "csv" else _DATASET_URL
    return f"download the dataset in a browser from {url} and read it with {_MANUAL_READ}"


def _credentials_help(source: str) -> str:
    config_file = _kaggle_config_dir() / "kaggle.json"
    return (
        f"To download from Kaggle, create an API token on kaggle.com -> Settings -> API "
        f"({_TOKEN_URL}) and either set KAGGLE_API_TOKEN=<token> or save the token in "
        f"~/.kaggle/access_token; or, with a legacy API key, save the kaggle.json file as "
        f"~/.kaggle/kaggle.json (here: {config_file}) and run 'chmod 600' on it, or set "
        f"KAGGLE_USERNAME and KAGGLE_KEY; or run 'kaggle auth login'. "
        f"Or {_manual_hint(source)}."
    )


# -------------------------------------------------------------------------- network boundary
@contextlib.contextmanager
def _stdout_to_log(level: int = logging.DEBUG) -> Iterator[None]:
    """Capture what the kaggle package prints to stdout and log it instead."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        for line in buffer.getvalue().splitlines():
            if line.strip():
                lvl = logging.WARNING if line.startswith("Warning") else level
                logger.log(lvl, "kaggle: %s", line.strip())


def _kaggle_api() -> _KaggleApiLike:
    """Import the kaggle package and return an authenticated ``KaggleApi``.

    This is the network boundary: tests replace it with a fake.

    Raises
    ------
    KaggleNotInstalledError
        If the ``kaggle`` package is not installed.
    KaggleError
        If authentication fails (no or rejected credentials, or kaggle.com unreachable).
    """
    try:
        with _stdout_to_log():
            from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError as exc:
        raise KaggleNotInstalledError(
            "downloading from Kaggle needs the 'kaggle' package: pip install kaggle; "
            f"or {_manual_hint('images')}"
        ) from exc
    except (Exception, SystemExit) as exc:  # kaggle 1.x authenticates (and raises) at import
        raise _translate_error(exc, "images") or KaggleError(
            f"the kaggle package failed to load ({exc!r}). {_credentials_help('images')}"
        ) from exc

    api = KaggleApi()
    # KaggleApi fixes its config path when first imported; follow the environment of now.
    config_dir = _kaggle_config_dir()
    api.config_dir = str(config_dir)
    api.config = str(config_dir / "kaggle.json")
    try:
        with _stdout_to_log():
            api.authenticate()
    except (Exception, SystemExit) as exc:  # 2.x: SystemExit(1) without credentials
        translated = _translate_error(exc, "images")
        if translated is not None:
            raise translated from exc
        found = _find_kaggle_credentials()
        what = f"with the credentials in {found}" if found else "(no credentials found)"
        raise KaggleError(
            f"could not authenticate with Kaggle {what}. {_credentials_help('images')}"
        ) from exc
    return api


# ------------------------------------------------------------------------ error translation
def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(exc, "status", None)  # kaggle 1.x ApiException
    return status if isinstance(status, int) else None


def _is_network_error(exc: BaseException) -> bool:
    import socket

    types: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror]
    with contextlib.suppress(ImportError):
        import requests

        types += [
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ]
    with contextlib.suppress(ImportError):
        import urllib3

        types.append(urllib3.exceptions.HTTPError)
    return isinstance(exc, tuple(types))


def _short(exc: BaseException, limit: int = 200) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _translate_error(exc: BaseException, source: str) -> KaggleError | None:
    """Turn an exception from the kaggle package into a KaggleError, or None if unknown."""
    status = _http_status(exc)
    what = (
        f"the competition {FER2013_COMPETITION!r}"
        if source == "csv"
        else f"the dataset {FER2013_DATASET!r}"
    )
    if status == 401:
        found = _find_kaggle_credentials() or "your Kaggle configuration"
        return KaggleError(
            f"Kaggle rejected the credentials from {found} (HTTP 401): the token or key is "
            f"wrong, expired or revoked. {_credentials_help(source)}"
        )
    if status == 403 and source == "csv":
        return KaggleError(
            f"Kaggle refused to serve {what} (HTTP 403): its rules must be accepted first. "
            f"Open {_COMPETITION_URL}/rules while logged in to the Kaggle account whose "
            f"credentials you use, accept the rules ('I Understand and Accept'), then retry. "
            f"Or {_manual_hint(source)}."
        )
    if status == 403:
        return KaggleError(
            f"Kaggle refused to serve {what} (HTTP 403): check that your account can open "
            f"{_DATASET_URL} while logged in, then retry. Or {_manual_hint(source)}."
        )
    if status == 404:
        return KaggleError(f"Kaggle has no {what} (HTTP 404). Or {_manual_hint(source)}.")
    if status == 429:
        return KaggleError(
            f"Kaggle is rate-limiting requests (HTTP 429); wait a while and retry, "
            f"or {_manual_hint(source)}."
        )
    if status is not None:
        return KaggleError(
            f"downloading {what} failed with HTTP {status} ({_short(exc)}); retry later, "
            f"or {_manual_hint(source)}."
        )
    if _is_network_error(exc):
        return KaggleError(
            f"could not reach kaggle.com ({_short(exc)}); check your network connection "
            f"(and proxy settings), or {_manual_hint(source)}."
        )
    return None


# ------------------------------------------------------------------------------- archives
def _is_safe_member(name: str) -> bool:
    """False for absolute names, drive names and names with a ``..`` component."""
    posix = name.replace("\\", "/")
    if not posix or posix.startswith("/") or PureWindowsPath(name).drive:
        return False
    return ".." not in PurePosixPath(posix).parts


def _check_members(archive: str, names: list[str]) -> None:
    bad = [n for n in names if not _is_safe_member(n)]
    if bad:
        raise KaggleError(
            f"refusing to extract from {archive}: member {bad[0]!r} has an absolute path or a "
            f"'..' component (the archive is corrupt or tampered with); delete it and retry, or "
            f"{_manual_hint('csv')}."
        )


def _copy_out(src: IO[bytes], dest: Path) -> Path:
    with open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    return dest


def _basename(member: str) -> str:
    return PurePosixPath(member.replace("\\", "/")).name


def _csv_from_tar(tar_path: Path, workdir: Path, label: str) -> Path | None:
    """Extract the preferred FER2013 csv of a tar archive into ``workdir``."""
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members = tar.getmembers()
            _check_members(label, [m.name for m in members])
            for wanted in _CSV_NAMES:
                for member in members:
                    if _basename(member.name) == wanted and member.isreg():
                        src = tar.extractfile(member)
                        if src is not None:
                            logger.info("Extracting %s from %s", member.name, label)
                            with src:
                                return _copy_out(src, workdir / wanted)
    except tarfile.TarError as exc:
        raise KaggleError(
            f"{label} is not a readable tar archive ({exc}); retry with force=True"
        ) from exc
    return None


def _extract_fer2013_csv(archive: Path, workdir: Path) -> Path:
    """Extract ``fer2013.csv`` (or ``icml_face_data.csv``) of a competition download."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            _check_members(archive.name, [i.filename for i in zf.infolist()])
            by_name = {_basename(i.filename): i for i in infos}
            if "fer2013.csv" in by_name:
                logger.info("Extracting %s from %s", by_name["fer2013.csv"].filename, archive.name)
                with zf.open(by_name["fer2013.csv"]) as src:
                    return _copy_out(src, workdir / "fer2013.csv")
            fallback: Path | None = None
            for info in infos:
                if info.filename.lower().endswith(_TAR_SUFFIXES):
                    inner = workdir / ("inner-" + _basename(info.filename))
                    with zf.open(info) as src:
                        _copy_out(src, inner)
                    found = _csv_from_tar(inner, workdir, f"{archive.name}:{info.filename}")
                    inner.unlink()
                    if found is not None and found.name == "fer2013.csv":
                        return found
                    fallback = fallback or found
            if fallback is not None:
                return fallback
            if "icml_face_data.csv" in by_name:
                info = by_name["icml_face_data.csv"]
                logger.info("Extracting %s from %s", info.filename, archive.name)
                with zf.open(info) as src:
                    return _copy_out(src, workdir / "icml_face_data.csv")
            names = sorted(by_name)
    elif tarfile.is_tarfile(archive):
        found = _csv_from_tar(archive, workdir, archive.name)
        if found is not None:
            return found
        names = []
    else:
        raise KaggleError(
            f"the Kaggle download {archive.name} is neither a zip nor a tar archive (corrupt or "
            f"interrupted download?); retry with force=True, or {_manual_hint('csv')}."
        )
    raise KaggleError(
        f"the Kaggle download {archive.name} holds no fer2013.csv or icml_face_data.csv "
        f"(found: {', '.join(names) or 'nothing usable'}); {_manual_hint('csv')}."
    )


# -------------------------------------------------------------------------------- download
def _cached(dest: Path, source: str) -> Path | None:
    names = _CSV_NAMES if source == "csv" else ("fer2013.zip",)
    return next((dest / n for n in names if (dest / n).is_file()), None)


def _downloaded_file(workdir: Path, expected: str) -> Path:
    if (workdir / expected).is_file():
        return workdir / expected
    files = [p for p in workdir.iterdir() if p.is_file() and not p.name.endswith(".kaggle-partial")]
    if len(files) == 1:
        return files[0]
    raise KaggleError(
        f"the Kaggle download did not produce {expected} (found: "
        f"{', '.join(sorted(p.name for p in files)) or 'nothing'}); retry with force=True"
    )


def _call(method: Any, name: str, workdir: Path, quiet: bool, source: str) -> None:
    """Call a kaggle download method, turning its known errors into KaggleError."""
    try:
        with _stdout_to_log(logging.INFO) if quiet else contextlib.nullcontext():
            method(name, path=str(workdir), force=True, quiet=quiet)
    except KaggleError:
        raise
    except Exception as exc:
        translated = _translate_error(exc, source)
        if translated is None:
            raise
        raise translated from exc


def download_fer2013(
    source: Literal["images", "csv"] = "images",
    *,
    path: str | os.PathLike[str] | None = None,
    force: bool = False,
    quiet: bool = False,
) -> Path:
    """Download FER2013 from Kaggle once and return the local file.

    ``source="images"`` downloads :data:`FER2013_DATASET` and returns ``fer2013.zip`` (kept
    zipped; read it with ``EmotionDataset.from_directory``). ``source="csv"`` downloads
    :data:`FER2013_COMPETITION` (whose rules must be accepted on kaggle.com first) and returns
    the extracted ``fer2013.csv``, or ``icml_face_data.csv`` if the download has no
    ``fer2013.csv`` (read either with ``EmotionDataset.from_csv``).

    If the file is already there it is returned without credentials or network, unless
    ``force``. Downloads go to a temporary folder beside the target and are moved into place
    only once complete, so an interrupted download never leaves a partial file at the target;
    an existing file is replaced only with ``force=True``.

    Parameters
    ----------
    source : {"images", "csv"}
        Which Kaggle download to get.
    path : str or path-like, optional
        Folder for the file; default ``default_cache_dir() / "datasets" / "fer2013"``.
    force : bool
        Download again even if the file exists, replacing it.
    quiet : bool
        Hide the kaggle package's progress bar and messages (they are logged instead).

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
        Without credentials (checked before any network call), offline, on HTTP 401 (rejected
        credentials) or 403 (competition rules not accepted), for an unusable or unsafe
        archive, or if the ``kaggle`` package is missing (:class:`KaggleNotInstalledError`).
        The message says what to do, including how to use a manual download instead.

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

    if _find_kaggle_credentials() is None:
        raise KaggleError(f"no Kaggle API credentials found. {_credentials_help(source)}")
    api = _kaggle_api()

    dest.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".emorec-download-", suffix=".part", dir=dest))
    try:
        if source == "images":
            logger.info("Downloading Kaggle dataset %s into %s", FER2013_DATASET, dest)
            _call(api.dataset_download_files, FER2013_DATASET, workdir, quiet, source)
            result = _downloaded_file(workdir, FER2013_DATASET.split("/")[-1] + ".zip")
            if not zipfile.is_zipfile(result):
                raise KaggleError(
                    f"the Kaggle download {result.name} is not a valid zip archive (corrupt or "
                    f"interrupted download?); retry, or {_manual_hint(source)}."
                )
            final = dest / "fer2013.zip"
        else:
            logger.info("Downloading Kaggle competition %s into %s", FER2013_COMPETITION, dest)
            _call(api.competition_download_files, FER2013_COMPETITION, workdir, quiet, source)
            archive = _downloaded_file(workdir, FER2013_COMPETITION + ".zip")
            extract_dir = workdir / "extracted"
            extract_dir.mkdir()
            result = _extract_fer2013_csv(archive, extract_dir)
            final = dest / result.name
        if not force and final.exists():  # appeared meanwhile (another process): keep it
            logger.info("Keeping %s, which appeared during the download", final)
            return final
        replace_durably(result, final)
        logger.info("Saved %s (%.1f MB)", final, final.stat().st_size / 1e6)
        return final
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
