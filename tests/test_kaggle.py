"""Tests for emorec.data.kaggle; the network boundary (``_kaggle_api``) is faked."""

from __future__ import annotations

import doctest
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emorec.data import kaggle as kg
from emorec.data.kaggle import (
    FER2013_COMPETITION,
    FER2013_DATASET,
    KaggleError,
    KaggleNotInstalledError,
    default_cache_dir,
    download_fer2013,
)

requests = pytest.importorskip("requests")

CSV_TEXT = "emotion,pixels,Usage\n3," + " ".join(["128"] * 48 * 48) + ",Training\n"


# ------------------------------------------------------------------------------ fixtures
def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (48, 48), color=128).save(buf, format="PNG")
    return buf.getvalue()


def images_zip() -> bytes:
    """A tiny stand-in for msambare/fer2013's fer2013.zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("train/happy/x.png", _png_bytes())
        zf.writestr("test/sad/y.png", _png_bytes())
    return buf.getvalue()


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def competition_zip(
    tar_members: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None
) -> bytes:
    """Like the challenge's download: fer2013.tar.gz plus the icml/train/test csvs."""
    if tar_members is None:
        tar_members = {
            "fer2013/fer2013.csv": CSV_TEXT.encode(),
            "fer2013/README": b"readme",
        }
    members = {
        "example_submission.csv": b"Id,Emotion\n",
        "fer2013.tar.gz": tar_gz(tar_members),
        "train.csv": b"emotion,pixels\n",
        "test.csv": b"pixels\n",
    }
    members.update(extra or {})
    return make_zip(members)


def http_error(status: int) -> Exception:
    """An HTTPError as kagglesdk raises it (``raise_for_status`` with the response)."""
    response = requests.Response()
    response.status_code = status
    response.url = "https://api.kaggle.com/v1/competitions.CompetitionApiService/DownloadDataFiles"
    return requests.exceptions.HTTPError(f"{status} Client Error", response=response)


def offline_error() -> Exception:
    return requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.kaggle.com', port=443): Max retries exceeded "
        "(Caused by NameResolutionError: Failed to resolve 'api.kaggle.com')"
    )


class FakeKaggleApi:
    """Writes files as KaggleApi does (``<path>/<slug>.zip``) or raises, and records calls."""

    def __init__(
        self,
        payload: bytes | None = None,
        *,
        error: BaseException | None = None,
        partial: bytes | None = None,
    ) -> None:
        self.payload = payload
        self.error = error
        self.partial = partial
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def _write(self, outfile: Path) -> None:
        outfile.parent.mkdir(parents=True, exist_ok=True)
        if self.partial is not None:  # an interrupted stream: half a file, then the error
            outfile.write_bytes(self.partial)
            Path(str(outfile) + ".kaggle-partial").write_text("{}")
        if self.error is not None:
            raise self.error
        assert self.payload is not None
        outfile.write_bytes(self.payload)

    def dataset_download_files(
        self,
        dataset: str,
        path: str | None = None,
        force: bool = False,
        quiet: bool = True,
        unzip: bool = False,
    ) -> None:
        self.calls.append(("dataset", dataset, {"path": path, "force": force, "quiet": quiet}))
        assert path is not None
        self._write(Path(path) / (dataset.split("/")[1] + ".zip"))

    def competition_download_files(
        self, competition: str, path: str | None = None, force: bool = False, quiet: bool = True
    ) -> None:
        self.calls.append(("competition", competition, {"path": path, "force": force}))
        assert path is not None
        self._write(Path(path) / (competition + ".zip"))


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and config dir, no KAGGLE_* variables; returns the fake HOME."""
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("KAGGLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("EMOREC_CACHE_DIR", raising=False)
    return home


@pytest.fixture
def credentials(no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef")


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "data"


def use_api(monkeypatch: pytest.MonkeyPatch, api: FakeKaggleApi) -> FakeKaggleApi:
    monkeypatch.setattr(kg, "_kaggle_api", lambda: api)
    return api


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise AssertionError("the network boundary must not be reached")

    monkeypatch.setattr(kg, "_kaggle_api", boom)


# ---------------------------------------------------------------------------- cache dir
def test_default_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EMOREC_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "c"


def test_default_cache_dir_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMOREC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "emorec"


def test_default_cache_dir_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMOREC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "emorec"


def test_default_download_folder(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMOREC_CACHE_DIR", str(tmp_path / "cache"))
    use_api(monkeypatch, FakeKaggleApi(images_zip()))
    assert download_fer2013() == tmp_path / "cache" / "datasets" / "fer2013" / "fer2013.zip"


# --------------------------------------------------------------------------------- cache
@pytest.mark.parametrize(
    ("source", "name"),
    [("images", "fer2013.zip"), ("csv", "fer2013.csv"), ("csv", "icml_face_data.csv")],
)
def test_cached_file_returned_without_network(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str, name: str
) -> None:
    forbid_network(monkeypatch)
    dest.mkdir()
    (dest / name).write_bytes(b"user data")
    assert download_fer2013(source, path=dest) == dest / name  # type: ignore[arg-type]
    assert (dest / name).read_bytes() == b"user data"
    assert sorted(p.name for p in dest.iterdir()) == [name]


def test_invalid_source(dest: Path) -> None:
    with pytest.raises(ValueError, match="images"):
        download_fer2013("pixels", path=dest)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ images
def test_images_download(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    api = use_api(monkeypatch, FakeKaggleApi(images_zip()))
    result = download_fer2013("images", path=dest, quiet=True)
    assert result == dest / "fer2013.zip"
    with zipfile.ZipFile(result) as zf:
        assert "train/happy/x.png" in zf.namelist()
    assert [p.name for p in dest.iterdir()] == ["fer2013.zip"]  # temporary folder removed
    [(kind, name, kwargs)] = api.calls
    assert (kind, name) == ("dataset", FER2013_DATASET)
    assert Path(kwargs["path"]).parent == dest  # a sibling temporary folder
    assert kwargs["quiet"] is True


def test_images_download_then_cached(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    api = use_api(monkeypatch, FakeKaggleApi(images_zip()))
    first = download_fer2013(path=dest)
    second = download_fer2013(path=dest)
    assert first == second
    assert len(api.calls) == 1


def test_force_redownloads(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    dest.mkdir()
    (dest / "fer2013.zip").write_bytes(b"old")
    api = use_api(monkeypatch, FakeKaggleApi(images_zip()))
    result = download_fer2013(path=dest, force=True)
    assert len(api.calls) == 1
    assert zipfile.is_zipfile(result)
    assert [p.name for p in dest.iterdir()] == ["fer2013.zip"]


def test_corrupt_images_download(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_api(monkeypatch, FakeKaggleApi(b"<html>not a zip</html>"))
    with pytest.raises(KaggleError, match="not a valid zip"):
        download_fer2013(path=dest)
    assert list(dest.iterdir()) == []


# --------------------------------------------------------------------------------- csv
def test_csv_download_from_tar_gz(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    api = use_api(monkeypatch, FakeKaggleApi(competition_zip()))
    result = download_fer2013("csv", path=dest)
    assert result == dest / "fer2013.csv"
    assert result.read_text() == CSV_TEXT
    assert [p.name for p in dest.iterdir()] == ["fer2013.csv"]
    assert api.calls[0][:2] == ("competition", FER2013_COMPETITION)


def test_csv_download_plain_member(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    payload = make_zip({"fer2013/fer2013.csv": CSV_TEXT.encode(), "README": b"x"})
    use_api(monkeypatch, FakeKaggleApi(payload))
    assert download_fer2013("csv", path=dest).read_text() == CSV_TEXT


def test_csv_download_icml_only(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    payload = make_zip({"icml_face_data.csv": b"emotion, Usage, pixels\n", "train.csv": b""})
    use_api(monkeypatch, FakeKaggleApi(payload))
    result = download_fer2013("csv", path=dest)
    assert result == dest / "icml_face_data.csv"
    assert result.read_bytes() == b"emotion, Usage, pixels\n"


def test_csv_download_without_csv(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_api(monkeypatch, FakeKaggleApi(make_zip({"train.csv": b""})))
    with pytest.raises(KaggleError, match=r"no fer2013\.csv"):
        download_fer2013("csv", path=dest)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(competition_zip(extra={"../evil.csv": b"pwned"}), id="zip-dotdot"),
        pytest.param(make_zip({"/tmp/fer2013.csv": b"pwned"}), id="zip-absolute"),
        pytest.param(
            competition_zip({"fer2013/../../fer2013.csv": CSV_TEXT.encode()}), id="tar-dotdot"
        ),
        pytest.param(competition_zip({"/etc/fer2013.csv": b"pwned"}), id="tar-absolute"),
    ],
)
def test_zip_slip_refused(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: bytes
) -> None:
    dest = tmp_path / "a" / "b" / "data"
    use_api(monkeypatch, FakeKaggleApi(payload))
    with pytest.raises(KaggleError, match=r"refusing to extract.*'\.\.'"):
        download_fer2013("csv", path=dest)
    assert list(dest.iterdir()) == []
    written = {p.name for p in tmp_path.rglob("*")}
    assert "evil.csv" not in written
    assert "fer2013.csv" not in written


# ------------------------------------------------------------------------------ errors
def test_no_credentials(no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    forbid_network(monkeypatch)
    with pytest.raises(KaggleError) as info:
        download_fer2013(path=dest)
    message = str(info.value)
    assert "kaggle.json" in message
    assert "chmod 600" in message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert "KAGGLE_API_TOKEN" in message
    assert "EmotionDataset.from_directory('path/to/fer2013.zip')" in message
    assert "EmotionDataset.from_csv('path/to/fer2013.csv')" in message
    assert not dest.exists()


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", "KGAT_x"), id="token-env"),
        pytest.param(
            lambda home, mp: (home / ".kaggle" / "access_token").write_text("KGAT_x\n"),
            id="token-file",
        ),
        pytest.param(
            lambda home, mp: (home / ".kaggle" / "kaggle.json").write_text(
                json.dumps({"username": "u", "key": "k"})
            ),
            id="kaggle.json",
        ),
        pytest.param(
            lambda home, mp: (
                mp.setenv("KAGGLE_USERNAME", "u"),
                (home / ".kaggle" / "kaggle.json").write_text(json.dumps({"key": "k"})),
            ),
            id="mixed",
        ),
        pytest.param(
            lambda home, mp: (home / ".kaggle" / "credentials.json").write_text(
                json.dumps({"refresh_token": "r", "username": "u"})
            ),
            id="oauth",
        ),
    ],
)
def test_credential_sources(
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    dest: Path,
    setup: Callable[[Path, pytest.MonkeyPatch], object],
) -> None:
    (no_credentials / ".kaggle").mkdir()
    setup(no_credentials, monkeypatch)
    assert kg._find_kaggle_credentials() is not None
    api = use_api(monkeypatch, FakeKaggleApi(images_zip()))
    download_fer2013(path=dest)
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda home, mp: mp.setenv("KAGGLE_USERNAME", "u"), id="username-only"),
        pytest.param(
            lambda home, mp: (home / ".kaggle" / "kaggle.json").write_text("{not json"),
            id="bad-json",
        ),
        pytest.param(
            lambda home, mp: (home / ".kaggle" / "access_token").write_text("  \n"),
            id="empty-token",
        ),
    ],
)
def test_incomplete_credentials(
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[Path, pytest.MonkeyPatch], object],
) -> None:
    (no_credentials / ".kaggle").mkdir()
    setup(no_credentials, monkeypatch)
    assert kg._find_kaggle_credentials() is None


@pytest.mark.parametrize("source", ["images", "csv"])
def test_offline(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    error = offline_error()
    use_api(monkeypatch, FakeKaggleApi(error=error))
    with pytest.raises(KaggleError) as info:
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    message = str(info.value)
    assert "could not reach kaggle.com" in message
    assert "network connection" in message
    assert "from_directory" in message
    assert info.value.__cause__ is error
    assert list(dest.iterdir()) == []


def test_competition_rules_not_accepted(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_api(monkeypatch, FakeKaggleApi(error=http_error(403)))
    with pytest.raises(KaggleError) as info:
        download_fer2013("csv", path=dest)
    message = str(info.value)
    assert f"https://www.kaggle.com/c/{FER2013_COMPETITION}/rules" in message
    assert "rules must be accepted" in message
    assert "logged in" in message
    assert "retry" in message


def test_dataset_forbidden(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    use_api(monkeypatch, FakeKaggleApi(error=http_error(403)))
    with pytest.raises(KaggleError, match="HTTP 403") as info:
        download_fer2013("images", path=dest)
    assert "/rules" not in str(info.value)


@pytest.mark.parametrize("source", ["images", "csv"])
def test_credentials_rejected(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    use_api(monkeypatch, FakeKaggleApi(error=http_error(401)))
    with pytest.raises(KaggleError, match="rejected the credentials") as info:
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    assert "KAGGLE_USERNAME" in str(info.value)
    assert list(dest.iterdir()) == []


def test_other_errors_propagate(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_api(monkeypatch, FakeKaggleApi(error=ZeroDivisionError("bug")))
    with pytest.raises(ZeroDivisionError):
        download_fer2013(path=dest)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(requests.exceptions.ChunkedEncodingError("connection broken"), id="network"),
        pytest.param(KeyboardInterrupt(), id="ctrl-c"),
    ],
)
def test_interrupted_download_leaves_no_file(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, error: BaseException
) -> None:
    api = use_api(monkeypatch, FakeKaggleApi(error=error, partial=images_zip()[:100]))
    with pytest.raises((KaggleError, KeyboardInterrupt)):
        download_fer2013(path=dest)
    assert len(api.calls) == 1
    assert not (dest / "fer2013.zip").exists()
    assert list(dest.iterdir()) == []  # no temporary folder or partial file left


def test_failed_forced_download_keeps_existing_file(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    dest.mkdir()
    (dest / "fer2013.csv").write_text("mine")
    use_api(monkeypatch, FakeKaggleApi(error=offline_error(), partial=b"PK\x03\x04"))
    with pytest.raises(KaggleError):
        download_fer2013("csv", path=dest, force=True)
    assert (dest / "fer2013.csv").read_text() == "mine"
    assert [p.name for p in dest.iterdir()] == ["fer2013.csv"]


# ----------------------------------------------------------------- the real kaggle package
def test_kaggle_not_installed(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    for name in ("kaggle", "kaggle.api", "kaggle.api.kaggle_api_extended"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(KaggleNotInstalledError, match="pip install kaggle") as info:
        download_fer2013(path=dest)
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, KaggleError)
    assert "from_directory" in str(info.value)


needs_kaggle = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("kaggle") is None,
    reason="the kaggle package is not installed",
)


@needs_kaggle
def test_real_api_authenticates_offline_with_legacy_key(credentials: None) -> None:
    api = kg._kaggle_api()  # KAGGLE_USERNAME/KAGGLE_KEY: no network call needed
    assert callable(api.dataset_download_files)
    assert callable(api.competition_download_files)
    assert api.config_values["username"] == "someone"  # type: ignore[attr-defined]


@needs_kaggle
def test_real_api_without_credentials(no_credentials: Path) -> None:
    with pytest.raises(KaggleError, match=r"kaggle\.json") as info:  # not SystemExit
        kg._kaggle_api()
    assert "from_directory" in str(info.value)


def test_import_does_not_import_kaggle() -> None:
    src = Path(kg.__file__).resolve().parents[2]
    code = "import sys, emorec.data.kaggle; assert 'kaggle' not in sys.modules, 'imported'"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *sys.path])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_doctests() -> None:
    result = doctest.testmod(kg, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
