"""Download FER+'s vote file ``fer2013new.csv`` from Microsoft's FERPlus repository.

The file (MIT licence) lives at https://github.com/microsoft/FERPlus; :data:`FERPLUS_URL` is
its raw address. :func:`download_ferplus` fetches it with the standard library only
(``urllib.request``, which honours the usual ``HTTPS_PROXY`` settings), writes it atomically
and keeps it only once it reads as FER+'s votes: the header, at least
:data:`MIN_ROWS` rows, and ``Usage`` values of FER2013's three splits. An HTML page (a proxy's
or portal's answer), a truncated or garbled body is refused and nothing is kept; offline or
on an HTTP error it raises :class:`DownloadError`, whose message says how to get the file by
hand.

Examples
--------
>>> from emorec.data.ferplus_download import FERPLUS_URL, download_ferplus
>>> FERPLUS_URL.rsplit("/", 1)[-1]
'fer2013new.csv'
>>> votes_path = download_ferplus("data/")  # doctest: +SKIP
>>> votes_path.name  # doctest: +SKIP
'fer2013new.csv'
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .._files import atomic_file
from .._progress import progress_bytes
from .._version import __version__
from .ferplus import FERPLUS_COLUMNS, FERPLUS_FILE, read_ferplus_votes
from .kaggle import default_cache_dir

__all__ = [
    "FERPLUS_ROWS",
    "FERPLUS_URL",
    "MIN_ROWS",
    "DownloadError",
    "download_ferplus",
]

logger = logging.getLogger("emorec")

FERPLUS_URL = "https://raw.githubusercontent.com/microsoft/FERPlus/master/fer2013new.csv"
"""The raw address of ``fer2013new.csv`` in Microsoft's FERPlus repository."""

FERPLUS_REPOSITORY = "https://github.com/microsoft/FERPlus"

FERPLUS_ROWS = 35_887
"""Rows of Microsoft's file: one per row of ``fer2013.csv``."""

MIN_ROWS = 1_000
"""Fewer rows than this is not FER+'s file (a cut or broken download); it is refused."""

_HEADER = ("Usage", "Image name", *FERPLUS_COLUMNS)
_USAGES = frozenset({"Training", "PublicTest", "PrivateTest"})
_TIMEOUT_S = 60.0  # per connect / read, not for the whole download
_BLOCK = 64 * 1024
_MAX_BYTES = 64 * 1024 * 1024  # the real file is about 1.6 MB


class DownloadError(RuntimeError):
    """A download failed or gave the wrong file; the message says why and what to do.

    Examples
    --------
    >>> from emorec.data.ferplus_download import DownloadError
    >>> issubclass(DownloadError, RuntimeError)
    True
    """


def _by_hand(url: str) -> str:
    return (
        f"or download {FERPLUS_FILE} by hand from {FERPLUS_REPOSITORY} (the raw file: {url}) "
        f"and put it beside fer2013.csv, or pass its path with `--ferplus PATH` to "
        f"`emorec train` / `emorec evaluate` (EmotionDataset.from_csv(..., ferplus=PATH))"
    )


def _expected(url: str) -> str:
    return (
        f"expected FER+'s vote table from {url}: a CSV with the header "
        f"'{','.join(_HEADER)}' and {FERPLUS_ROWS:,} rows"
    )


def _open(url: str) -> IO[bytes]:
    """Open ``url`` (the network boundary), turning failures into :class:`DownloadError`."""
    request = urllib.request.Request(url, headers={"User-Agent": f"emorec/{__version__}"})
    try:
        return urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            what = "no such file (HTTP 404): it may have moved; look in the repository,"
        elif exc.code == 429 or exc.code >= 500:
            what = f"the server is busy or failing (HTTP {exc.code}); retry later,"
        else:
            what = f"the server refused (HTTP {exc.code} {exc.reason});"
        raise DownloadError(f"could not download {url}: {what} {_by_hand(url)}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"could not reach {url} ({exc.reason}); check the network connection (and "
            f"HTTPS_PROXY), {_by_hand(url)}"
        ) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:  # timeouts, resets
        raise DownloadError(
            f"could not download {url} ({type(exc).__name__}: {exc}); check the network "
            f"connection and retry, {_by_hand(url)}"
        ) from exc


def _blocks(response: IO[bytes], url: str) -> Iterator[bytes]:
    """The body in blocks; a broken connection becomes :class:`DownloadError`."""
    got = 0
    while True:
        try:
            block = response.read(_BLOCK)
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(
                f"the download of {url} broke off after {got:,} bytes ({type(exc).__name__}: "
                f"{exc}); retry, {_by_hand(url)}"
            ) from exc
        if not block:
            return
        got += len(block)
        if got > _MAX_BYTES:
            raise DownloadError(
                f"{url} sent more than {_MAX_BYTES // 2**20} MiB, far more than FER+'s "
                f"{FERPLUS_FILE} (about 1.6 MB); {_expected(url)}"
            )
        yield block


def _content_length(response: IO[bytes]) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _check_votes(tmp: Path, url: str) -> int:
    """Check that ``tmp`` is FER+'s vote table; returns its rows."""
    with tmp.open("rb") as fh:
        start = fh.read(512).lstrip(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"<"):  # <!DOCTYPE html>, <html>, <?xml ...>
        raise DownloadError(
            f"{url} sent an HTML page, not a CSV (a proxy, login or error page?); "
            f"{_expected(url)}; {_by_hand(url)}"
        )
    if not start:
        raise DownloadError(f"{url} sent an empty file; {_expected(url)}; {_by_hand(url)}")
    first = start.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if [f.strip().lower() for f in first.split(",")] != [h.lower() for h in _HEADER]:
        raise DownloadError(
            f"{url} sent a file that starts {first[:80]!r}, not FER+'s header; "
            f"{_expected(url)}; {_by_hand(url)}"
        )
    try:
        votes = read_ferplus_votes(tmp)
    except ValueError as exc:
        reason = str(exc).replace(str(tmp), FERPLUS_FILE)
        raise DownloadError(
            f"{url} sent a broken or truncated file ({reason}); {_expected(url)}; retry, "
            f"{_by_hand(url)}"
        ) from exc
    if len(votes) < MIN_ROWS:
        raise DownloadError(
            f"{url} sent only {len(votes):,} rows (a cut or truncated file); {_expected(url)}; "
            f"{_by_hand(url)}"
        )
    odd = sorted(set(votes.usage) - _USAGES)
    if odd:
        raise DownloadError(
            f"{url} sent rows whose Usage is {odd[0]!r}, not one of "
            f"{', '.join(sorted(_USAGES))}; {_expected(url)}; {_by_hand(url)}"
        )
    if len(votes) != FERPLUS_ROWS:
        logger.warning(
            "%s has %d rows, not the %d of Microsoft's file (one per fer2013.csv row); it may "
            "not line up with your fer2013.csv",
            FERPLUS_FILE,
            len(votes),
            FERPLUS_ROWS,
        )
    return len(votes)


def download_ferplus(
    path: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    url: str = FERPLUS_URL,
    sha256: str | None = None,
    progress_bar: bool | None = None,
) -> Path:
    """Download FER+'s ``fer2013new.csv`` once and return its path.

    If the file is already in the folder it is returned without any network access, unless
    ``force``. The download is written to a temporary file beside the target and moved into
    place only once complete and checked, so a failed or refused download never leaves a
    file (and an existing one stays as it was).

    Parameters
    ----------
    path : str or path-like, optional
        Folder for the file; default ``default_cache_dir() / "datasets" / "fer2013"``, where
        :func:`emorec.data.kaggle.download_fer2013` puts ``fer2013.csv``, so that ``--ferplus``
        (the file beside the data) finds it.
    force : bool
        Download again even if the file exists, replacing it.
    url : str
        Where to download from (a mirror, say); default :data:`FERPLUS_URL`.
    sha256 : str, optional
        The file's expected SHA-256 in hex; a download that differs is refused. Default: not
        checked (the structure always is).
    progress_bar : bool, optional
        Draw a progress bar on stderr; default: when stderr is a terminal.

    Returns
    -------
    pathlib.Path
        ``<path>/fer2013new.csv``.

    Raises
    ------
    DownloadError
        Offline, on a timeout or an HTTP error, or when the body is not FER+'s vote table (an
        HTML page, a truncated or garbled file, fewer than :data:`MIN_ROWS` rows, unknown
        ``Usage`` values, or another SHA-256 than ``sha256``). The message names the URL and
        says how to get the file by hand.

    Examples
    --------
    >>> votes_path = download_ferplus()  # doctest: +SKIP
    >>> votes_path.name  # doctest: +SKIP
    'fer2013new.csv'
    """
    folder = default_cache_dir() / "datasets" / "fer2013" if path is None else Path(path)
    target = folder.expanduser() / FERPLUS_FILE
    if target.is_file() and not force:
        logger.info("Using FER+ votes already downloaded at %s", target)
        return target

    logger.info("Downloading %s into %s", url, target.parent)
    response = _open(url)
    with response:
        length = _content_length(response)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        got = 0
        with atomic_file(target) as tmp:
            bar = progress_bytes(length, f"downloading {FERPLUS_FILE}", progress_bar)
            with tmp.open("wb") as out, bar:
                for block in _blocks(response, url):
                    out.write(block)
                    digest.update(block)
                    got += len(block)
                    bar.update(len(block))
            if length is not None and got != length:
                raise DownloadError(
                    f"the download of {url} ended after {got:,} of {length:,} bytes "
                    f"(truncated); retry, {_by_hand(url)}"
                )
            if sha256 is not None and digest.hexdigest() != sha256.strip().lower():
                raise DownloadError(
                    f"{url} sent a file with SHA-256 {digest.hexdigest()}, expected {sha256}; "
                    f"it changed upstream or was damaged on the way; {_by_hand(url)}"
                )
            rows = _check_votes(tmp, url)
    logger.info("Saved %s (%.1f MB, %d rows)", target, got / 1e6, rows)
    return target
