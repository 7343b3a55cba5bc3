"""Tests for emorec.data.ferplus_download; the network boundary (``urlopen``) is faked."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import socket
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from emorec.cli import main
from emorec.data import ferplus_download as fd
from emorec.data.ferplus import FERPLUS_COLUMNS, FERPLUS_FILE, read_ferplus_votes
from emorec.data.ferplus_download import (
    FERPLUS_URL,
    MIN_ROWS,
    DownloadError,
    download_ferplus,
)

HEADER = "Usage,Image name," + ",".join(FERPLUS_COLUMNS)


def votes_csv(rows: int = MIN_ROWS + 20, usage: str | None = None) -> bytes:
    """A small fer2013new.csv: FER2013's three splits, some faces dropped (no image name)."""
    lines = [HEADER]
    for i in range(rows):
        split = usage or ("Training", "PublicTest", "PrivateTest")[i % 3]
        name = "" if i % 50 == 7 else f"fer{i:07d}.png"
        lines.append(f"{split},{name},{i % 10},1,0,2,0,0,0,0,0,1")
    return ("\n".join(lines) + "\n").encode()


class FakeResponse(io.BytesIO):
    """What ``urlopen`` returns: a readable body with headers (Content-Length by default)."""

    def __init__(self, body: bytes, length: int | str | None = "auto") -> None:
        super().__init__(body)
        self.headers = Message()
        if length == "auto":
            length = len(body)
        if length is not None:
            self.headers["Content-Length"] = str(length)


class FakeNetwork:
    """Stands in for ``urllib.request.urlopen``: answers each call with ``answer``."""

    def __init__(self, answer: bytes | BaseException | FakeResponse) -> None:
        self.answer = answer
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, request: urllib.request.Request, timeout: Any = None) -> FakeResponse:
        self.calls.append((request.full_url, timeout))
        if isinstance(self.answer, BaseException):
            raise self.answer
        if isinstance(self.answer, FakeResponse):
            return self.answer
        return FakeResponse(self.answer)


def use_network(monkeypatch: pytest.MonkeyPatch, answer: Any) -> FakeNetwork:
    net = FakeNetwork(answer)
    monkeypatch.setattr(urllib.request, "urlopen", net)
    return net


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network must not be reached")

    monkeypatch.setattr(urllib.request, "urlopen", boom)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "data"


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- downloads
def test_download_lands_and_reads(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    body = votes_csv()
    net = use_network(monkeypatch, body)
    path = download_ferplus(dest, progress_bar=False)
    assert path == dest / FERPLUS_FILE and path.read_bytes() == body
    assert files_in(dest) == [FERPLUS_FILE]  # no temporary left beside it
    assert net.calls == [(FERPLUS_URL, fd._TIMEOUT_S)]  # one call, with a timeout
    votes = read_ferplus_votes(path)
    assert len(votes) == MIN_ROWS + 20 and votes.dropped.any()


def test_download_writes_atomically(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    from emorec import _files

    targets = []
    real = _files.atomic_file

    def spy(path: Any) -> Any:
        targets.append(Path(path))
        return real(path)

    monkeypatch.setattr(fd, "atomic_file", spy)
    use_network(monkeypatch, votes_csv())
    assert download_ferplus(dest, progress_bar=False) == dest / FERPLUS_FILE
    assert targets == [dest / FERPLUS_FILE]


def test_default_folder_is_beside_kaggle_fer2013(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMOREC_CACHE_DIR", str(tmp_path / "cache"))
    use_network(monkeypatch, votes_csv())
    path = download_ferplus(progress_bar=False)
    assert path == tmp_path / "cache" / "datasets" / "fer2013" / FERPLUS_FILE
    assert path.is_file()


def test_existing_file_not_downloaded_again(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    dest.mkdir()
    (dest / FERPLUS_FILE).write_text("mine")
    forbid_network(monkeypatch)
    assert download_ferplus(dest) == dest / FERPLUS_FILE
    assert (dest / FERPLUS_FILE).read_text() == "mine"


def test_force_downloads_again(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    dest.mkdir()
    (dest / FERPLUS_FILE).write_text("old")
    body = votes_csv()
    net = use_network(monkeypatch, body)
    assert download_ferplus(dest, force=True, progress_bar=False).read_bytes() == body
    assert len(net.calls) == 1 and files_in(dest) == [FERPLUS_FILE]


def test_other_url_and_sha256(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    body = votes_csv()
    mirror = "https://mirror.example/fer2013new.csv"
    net = use_network(monkeypatch, body)
    good = hashlib.sha256(body).hexdigest()
    assert download_ferplus(dest, url=mirror, sha256=good.upper(), progress_bar=False).is_file()
    assert net.calls[0][0] == mirror
    with pytest.raises(DownloadError, match=f"SHA-256 {good}, expected 00ff") as exc:
        download_ferplus(dest, url=mirror, sha256="00ff", force=True, progress_bar=False)
    assert mirror in str(exc.value)
    assert (dest / FERPLUS_FILE).read_bytes() == body  # the old file stays


def test_progress_bar_drawn(
    monkeypatch: pytest.MonkeyPatch, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_network(monkeypatch, votes_csv())
    download_ferplus(dest, progress_bar=True)
    assert f"downloading {FERPLUS_FILE}" in capsys.readouterr().err


def test_without_content_length(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    body = votes_csv()
    use_network(monkeypatch, FakeResponse(body, length=None))
    assert download_ferplus(dest, progress_bar=True).read_bytes() == body


def test_unexpected_row_count_warns(
    monkeypatch: pytest.MonkeyPatch, dest: Path, caplog: pytest.LogCaptureFixture
) -> None:
    use_network(monkeypatch, votes_csv())
    with caplog.at_level(logging.WARNING, logger="emorec"):
        download_ferplus(dest, progress_bar=False)
    assert "35887" in caplog.text


# ------------------------------------------------------------------------ network errors
@pytest.mark.parametrize(
    "error, words",
    [
        (
            urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")),
            "could not reach",
        ),
        (
            urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
            "could not reach",
        ),
        (TimeoutError("timed out"), "TimeoutError"),
        (urllib.error.HTTPError(FERPLUS_URL, 404, "Not Found", Message(), None), "HTTP 404"),
        (urllib.error.HTTPError(FERPLUS_URL, 503, "Unavailable", Message(), None), "HTTP 503"),
        (urllib.error.HTTPError(FERPLUS_URL, 403, "Forbidden", Message(), None), "HTTP 403"),
    ],
)
def test_network_errors_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, dest: Path, error: BaseException, words: str
) -> None:
    use_network(monkeypatch, error)
    with pytest.raises(DownloadError) as exc:
        download_ferplus(dest)
    message = str(exc.value)
    assert words in message and FERPLUS_URL in message
    assert "github.com/microsoft/FERPlus" in message and "--ferplus PATH" in message
    assert "beside fer2013.csv" in message
    assert not dest.exists()  # nothing written, not even the folder


def test_connection_broken_mid_body(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    class Broken(FakeResponse):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise ConnectionResetError(104, "Connection reset by peer")
            return super().read(size)

    use_network(monkeypatch, Broken(votes_csv()))
    with pytest.raises(DownloadError, match="broke off after"):
        download_ferplus(dest, progress_bar=False)
    assert files_in(dest) == []


# --------------------------------------------------------------------- refused contents
HTML = b"<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head></html>\n"


@pytest.mark.parametrize(
    "body, words",
    [
        (HTML, "HTML page"),
        (b"\n  <html><body>Proxy error</body></html>", "HTML page"),
        (b"emotion,pixels,Usage\n0,1 2 3,Training\n", "not FER+'s header"),
        (b"", "sent an empty file"),
        (votes_csv()[:-5], "broken or truncated"),  # cut in the middle of the last line
        (votes_csv().replace(b",1,0,2,", b",x,0,2,", 1), "broken or truncated"),
        (votes_csv()[:30_000] + b"\xff\xfe garbage\n", "broken or truncated"),
        (votes_csv(rows=50), "only 50 rows"),
        (votes_csv(usage="Validation"), "Usage is 'Validation'"),
    ],
)
def test_wrong_body_refused_and_not_kept(
    monkeypatch: pytest.MonkeyPatch, dest: Path, body: bytes, words: str
) -> None:
    use_network(monkeypatch, body)
    with pytest.raises(DownloadError, match=re.escape(words)) as exc:
        download_ferplus(dest, progress_bar=False)
    assert FERPLUS_URL in str(exc.value) and "Usage,Image name,neutral" in str(exc.value)
    assert ".partial" not in str(exc.value)  # the temporary's name is not shown
    assert files_in(dest) == []


def test_truncated_by_content_length(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    body = votes_csv()
    use_network(monkeypatch, FakeResponse(body[: len(body) // 2], length=len(body)))
    with pytest.raises(DownloadError, match=r"ended after .* bytes \(truncated\)"):
        download_ferplus(dest, progress_bar=False)
    assert files_in(dest) == []


def test_refused_download_keeps_the_old_file(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    dest.mkdir()
    (dest / FERPLUS_FILE).write_text("old")
    use_network(monkeypatch, HTML)
    with pytest.raises(DownloadError):
        download_ferplus(dest, force=True, progress_bar=False)
    assert files_in(dest) == [FERPLUS_FILE] and (dest / FERPLUS_FILE).read_text() == "old"


def test_oversized_body_refused(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    monkeypatch.setattr(fd, "_MAX_BYTES", 1000)
    use_network(monkeypatch, votes_csv())
    with pytest.raises(DownloadError, match="sent more than"):
        download_ferplus(dest, progress_bar=False)
    assert files_in(dest) == []


# ------------------------------------------------------------------------------------ CLI
def test_cli_download_ferplus(
    monkeypatch: pytest.MonkeyPatch, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_network(monkeypatch, votes_csv())
    assert main(["download", "ferplus", "--dir", str(dest)]) == 0
    assert capsys.readouterr().out.strip() == str(dest / FERPLUS_FILE)
    forbid_network(monkeypatch)  # present: printed again without the network
    assert main(["download", "ferplus", "--dir", str(dest)]) == 0
    assert capsys.readouterr().out.strip() == str(dest / FERPLUS_FILE)


def test_cli_download_ferplus_force(
    monkeypatch: pytest.MonkeyPatch, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest.mkdir()
    (dest / FERPLUS_FILE).write_text("old")
    body = votes_csv()
    use_network(monkeypatch, body)
    assert main(["download", "ferplus", "--dir", str(dest), "--force"]) == 0
    assert (dest / FERPLUS_FILE).read_bytes() == body


def test_cli_download_ferplus_offline(
    monkeypatch: pytest.MonkeyPatch, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_network(monkeypatch, urllib.error.URLError(OSError(101, "Network is unreachable")))
    assert main(["download", "ferplus", "--dir", str(dest)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].startswith("emorec: error: could not reach " + FERPLUS_URL)
    assert "--ferplus PATH" in lines[0] and "Traceback" not in captured.err


def test_cli_download_ferplus_rejects_csv_flag(
    monkeypatch: pytest.MonkeyPatch, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forbid_network(monkeypatch)
    assert main(["download", "ferplus", "--csv", "--dir", str(dest)]) == 2
    assert "--csv is for fer2013" in capsys.readouterr().err
