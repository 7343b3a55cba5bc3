"""Tests for emorec.data.kaggle.

The network boundary is faked twice: most tests replace ``kagglehub.dataset_download`` and
``kagglehub.competition_download`` with fakes that write into ``output_dir`` as kagglehub does, or
raise kagglehub's own exceptions; the ``real kagglehub`` tests run kagglehub itself against a fake
Kaggle server (``requests.Session.send``), to check what it really does and raises.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emorec._optional import MissingDependencyError
from emorec.data import kaggle as kg
from emorec.data.kaggle import (
    FER2013_COMPETITION,
    FER2013_DATASET,
    KaggleError,
    KaggleNotInstalledError,
    default_cache_dir,
    download_fer2013,
)

kagglehub = pytest.importorskip("kagglehub")
requests = pytest.importorskip("requests")
from kagglehub.exceptions import KaggleApiHTTPError, UnauthenticatedError  # noqa: E402

CSV_TEXT = "emotion,pixels,Usage\n3," + " ".join(["128"] * 48 * 48) + ",Training\n"
COMPETITION_DATA = f"https://www.kaggle.com/c/{FER2013_COMPETITION}/data"
DATASET_PAGE = f"https://www.kaggle.com/datasets/{FER2013_DATASET}"
ICML_TEXT = "emotion, Usage, pixels\n3,Training," + " ".join(["7"] * 48 * 48) + "\n"


# ------------------------------------------------------------------------------ fixtures
def png_bytes(shade: int = 128) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (48, 48), color=shade).save(buf, format="PNG")
    return buf.getvalue()


#: A tiny stand-in for msambare/fer2013's image folders.
TREE = {"train/happy/x.png": png_bytes(100), "test/sad/y.png": png_bytes(200)}


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FER2013_TAR = tar_gz({"fer2013/README": b"readme", "fer2013/fer2013.csv": CSV_TEXT.encode()})


def http_error(status: int) -> KaggleApiHTTPError:
    """An HTTP error as kagglehub's ``handle_call`` raises it."""
    response = requests.Response()
    response.status_code = status
    response.url = "https://api.kaggle.com/v1/competitions.CompetitionApiService/DownloadDataFile"
    return KaggleApiHTTPError(f"{status} Client Error.\n\nsomething", response=response)


def offline_error() -> Exception:
    return requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.kaggle.com', port=443): Max retries exceeded\n"
        "(Caused by NameResolutionError: Failed to resolve 'api.kaggle.com')"
    )


class FakeHub:
    """kagglehub's two download functions: they write what kagglehub would into ``output_dir``
    (extracted image folders and its ``.complete`` marker; one competition file) and return its
    path, or raise; a competition file not in ``files`` is an HTTP 404."""

    def __init__(
        self,
        tree: dict[str, bytes] | None = None,
        files: dict[str, bytes] | None = None,
        *,
        error: BaseException | None = None,
        before_error: Callable[[Path], None] | None = None,
        returns: Path | None = None,
        mtime: float | None = None,
    ) -> None:
        self.tree = TREE if tree is None else tree
        self.files = {} if files is None else files
        self.error = error
        self.before_error = before_error
        self.returns = returns
        self.mtime = mtime
        self.calls: list[tuple[str, str, str | None, str | None]] = []

    def _fail(self, out: Path) -> None:
        if self.before_error is not None:
            self.before_error(out)
        if self.error is not None:
            raise self.error

    def dataset_download(
        self,
        handle: str,
        path: str | None = None,
        *,
        force_download: bool | None = False,
        output_dir: str | None = None,
    ) -> str:
        assert output_dir is not None, "emorec must not use kagglehub's own cache"
        self.calls.append(("dataset", handle, path, output_dir))
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        self._fail(out)
        for name, data in self.tree.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
            if self.mtime is not None:
                os.utime(out / name, (self.mtime, self.mtime))
        marker = out / ".complete" / "datasets" / "msambare" / "fer2013" / "1" / "bundle.complete"
        marker.parent.mkdir(parents=True)
        marker.touch()
        return str(self.returns or out)

    def competition_download(
        self,
        handle: str,
        path: str | None = None,
        *,
        force_download: bool | None = False,
        output_dir: str | None = None,
    ) -> str:
        assert output_dir is not None, "emorec must not use kagglehub's own cache"
        self.calls.append(("competition", handle, path, output_dir))
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        self._fail(out)
        assert path is not None
        if path not in self.files:
            raise http_error(404)
        if self.returns is not None:
            return str(self.returns / path)
        (out / path).write_bytes(self.files[path])
        return str(out / path)


def use_hub(monkeypatch: pytest.MonkeyPatch, hub: FakeHub) -> FakeHub:
    monkeypatch.setattr(kagglehub, "dataset_download", hub.dataset_download)
    monkeypatch.setattr(kagglehub, "competition_download", hub.competition_download)
    return hub


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("kagglehub must not be called")

    monkeypatch.setattr(kagglehub, "dataset_download", boom)
    monkeypatch.setattr(kagglehub, "competition_download", boom)


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and config dir, no KAGGLE_* variables, no kagglehub.login(); returns
    the fake HOME."""
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("KAGGLE"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub-cache"))
    monkeypatch.delenv("EMOREC_CACHE_DIR", raising=False)
    monkeypatch.setattr(kagglehub.config, "_kaggle_credentials", None)
    return home


@pytest.fixture
def credentials(no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef")


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "data"


def listing(folder: Path) -> list[str]:
    """Every path under ``folder``, hidden temporaries included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


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
    use_hub(monkeypatch, FakeHub())
    assert download_fer2013() == tmp_path / "cache" / "datasets" / "fer2013" / "fer2013.zip"
    assert not (tmp_path / "kagglehub-cache").exists()


def test_invalid_source(dest: Path) -> None:
    with pytest.raises(ValueError, match="images"):
        download_fer2013("pixels", path=dest)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- cache
@pytest.mark.parametrize(
    ("source", "name"),
    [("images", "fer2013.zip"), ("csv", "fer2013.csv"), ("csv", "icml_face_data.csv")],
)
def test_cached_file_returned_without_kagglehub(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str, name: str
) -> None:
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # not even imported
    dest.mkdir()
    (dest / name).write_bytes(b"user data")
    assert download_fer2013(source, path=dest) == dest / name  # type: ignore[arg-type]
    assert (dest / name).read_bytes() == b"user data"
    assert listing(dest) == [name]


def test_second_call_is_a_cache_hit(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    hub = use_hub(monkeypatch, FakeHub())
    first = download_fer2013(path=dest)
    second = download_fer2013(path=dest)
    assert first == second == dest / "fer2013.zip"
    assert len(hub.calls) == 1


def test_force_downloads_again(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    dest.mkdir()
    (dest / "fer2013.zip").write_bytes(b"old")
    hub = use_hub(monkeypatch, FakeHub())
    result = download_fer2013(path=dest, force=True)
    assert len(hub.calls) == 1
    with zipfile.ZipFile(result) as zf:
        assert sorted(zf.namelist()) == sorted(TREE)
    assert listing(dest) == ["fer2013.zip"]


# ------------------------------------------------------------------------------ images
def test_images_download(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    hub = use_hub(monkeypatch, FakeHub())
    result = download_fer2013("images", path=dest)
    assert result == dest / "fer2013.zip"
    with zipfile.ZipFile(result) as zf:  # the folders as they are; kagglehub's marker left out
        assert sorted(zf.namelist()) == ["test/sad/y.png", "train/happy/x.png"]
        assert zf.read("train/happy/x.png") == TREE["train/happy/x.png"]
    assert listing(dest) == ["fer2013.zip"]  # the temporary folder is gone
    [(kind, handle, path, output_dir)] = hub.calls
    assert (kind, handle, path) == ("dataset", FER2013_DATASET, None)
    assert output_dir is not None and Path(output_dir).parent.parent == dest

    from emorec import EmotionDataset

    ds = EmotionDataset.from_directory(result)
    assert sorted(ds.split_names) == ["test", "train"]
    assert ds.label_names[ds["train"].labels[0]] == "happy"


def test_images_need_no_credentials(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    hub = use_hub(monkeypatch, FakeHub())
    assert download_fer2013(path=dest) == dest / "fer2013.zip"
    assert len(hub.calls) == 1


def test_images_zip_is_deterministic(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tree = {f"train/{c}/{i}.png": png_bytes(i) for c in ("sad", "angry") for i in (9, 1, 5)}
    use_hub(monkeypatch, FakeHub(tree, mtime=1e9))
    first = download_fer2013(path=tmp_path / "a")
    with zipfile.ZipFile(first) as zf:
        assert zf.namelist() == sorted(tree)
    reordered = dict(reversed(list(tree.items())))  # written in another order, at another time
    use_hub(monkeypatch, FakeHub(reordered, mtime=1.5e9))
    second = download_fer2013(path=tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_empty_images_download(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_hub(monkeypatch, FakeHub(tree={}))
    with pytest.raises(KaggleError, match="holds no files"):
        download_fer2013(path=dest)
    assert listing(dest) == []


def test_returned_folder_elsewhere_is_read_not_written(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dest: Path
) -> None:
    """In a Kaggle notebook kagglehub ignores output_dir and returns a mounted input folder."""
    mounted = tmp_path / "kaggle" / "input" / "fer2013"
    for name, data in TREE.items():
        (mounted / name).parent.mkdir(parents=True, exist_ok=True)
        (mounted / name).write_bytes(data)
    before = listing(mounted)
    use_hub(monkeypatch, FakeHub(tree={}, returns=mounted))
    with zipfile.ZipFile(download_fer2013(path=dest)) as zf:
        assert sorted(zf.namelist()) == sorted(TREE)
    assert listing(mounted) == before
    assert listing(dest) == ["fer2013.zip"]


def test_symlink_in_download_refused_and_nothing_left(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dest: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")

    def add_link(out: Path) -> None:
        (out / "train" / "happy").mkdir(parents=True)
        (out / "train" / "happy" / "zz.png").symlink_to(secret)

    use_hub(monkeypatch, FakeHub(before_error=add_link))  # packing fails after some members
    with pytest.raises(KaggleError, match="refusing to pack .*symbolic link"):
        download_fer2013(path=dest)
    assert listing(dest) == []  # no fer2013.zip, no temporary zip, no temporary folder


# --------------------------------------------------------------------------------- csv
def test_csv_download_from_tar_gz(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    hub = use_hub(monkeypatch, FakeHub(files={"fer2013.tar.gz": FER2013_TAR}))
    result = download_fer2013("csv", path=dest)
    assert result == dest / "fer2013.csv"
    assert result.read_text() == CSV_TEXT
    assert listing(dest) == ["fer2013.csv"]
    assert [c[:3] for c in hub.calls] == [("competition", FER2013_COMPETITION, "fer2013.tar.gz")]


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"icml_face_data.csv": ICML_TEXT.encode()}, id="no-tar"),
        pytest.param(
            {"fer2013.tar.gz": tar_gz({"README": b"x"}), "icml_face_data.csv": ICML_TEXT.encode()},
            id="tar-without-csv",
        ),
    ],
)
def test_csv_falls_back_to_icml_face_data(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, files: dict[str, bytes]
) -> None:
    hub = use_hub(monkeypatch, FakeHub(files=files))
    result = download_fer2013("csv", path=dest)
    assert result == dest / "icml_face_data.csv"
    assert result.read_text() == ICML_TEXT
    assert listing(dest) == ["icml_face_data.csv"]
    assert [c[2] for c in hub.calls] == ["fer2013.tar.gz", "icml_face_data.csv"]


def test_csv_neither_file(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    use_hub(monkeypatch, FakeHub(files={"train.csv": b""}))
    with pytest.raises(KaggleError, match="neither fer2013.tar.gz .* nor icml_face_data.csv"):
        download_fer2013("csv", path=dest)
    assert listing(dest) == []


def test_csv_from_a_read_only_mount_is_copied(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dest: Path
) -> None:
    mounted = tmp_path / "kaggle" / "input" / "challenge"
    mounted.mkdir(parents=True)
    (mounted / "icml_face_data.csv").write_text(ICML_TEXT)
    use_hub(monkeypatch, FakeHub(files={"icml_face_data.csv": b""}, returns=mounted))
    assert download_fer2013("csv", path=dest).read_text() == ICML_TEXT
    assert (mounted / "icml_face_data.csv").read_text() == ICML_TEXT  # copied, not moved


@pytest.mark.parametrize(
    "member",
    ["fer2013/../../fer2013.csv", "../evil.csv", "/etc/fer2013.csv", "C:/fer2013.csv"],
)
def test_path_traversal_refused(
    credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, member: str
) -> None:
    dest = tmp_path / "a" / "b" / "data"
    tar = tar_gz({member: b"pwned", "fer2013/fer2013.csv": CSV_TEXT.encode()})
    use_hub(monkeypatch, FakeHub(files={"fer2013.tar.gz": tar}))
    with pytest.raises(KaggleError, match=r"refusing to extract .*absolute path or a '\.\.'"):
        download_fer2013("csv", path=dest)
    assert listing(dest) == []
    assert {p.name for p in tmp_path.rglob("*")}.isdisjoint({"evil.csv", "fer2013.csv"})


def test_truncated_tar_leaves_nothing(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    big = tar_gz({"fer2013/fer2013.csv": os.urandom(1 << 16)})
    use_hub(monkeypatch, FakeHub(files={"fer2013.tar.gz": big[: len(big) // 2]}))
    with pytest.raises(KaggleError, match="not a readable tar archive"):
        download_fer2013("csv", path=dest)
    assert listing(dest) == []  # no fer2013.csv, not even a partial temporary one


# ------------------------------------------------------------------------- atomicity
@pytest.mark.parametrize(
    "error",
    [pytest.param(offline_error(), id="network"), pytest.param(KeyboardInterrupt(), id="ctrl-c")],
)
@pytest.mark.parametrize("source", ["images", "csv"])
def test_interrupted_download_leaves_nothing(
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    dest: Path,
    error: BaseException,
    source: str,
) -> None:
    def half_written(out: Path) -> None:
        (out / "fer2013.tar.gz").write_bytes(FER2013_TAR[:50])
        (out / "train").mkdir()
        (out / "train" / "x.png").write_bytes(b"\x89PNG")

    hub = use_hub(monkeypatch, FakeHub(error=error, before_error=half_written))
    with pytest.raises((KaggleError, KeyboardInterrupt)):
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    assert len(hub.calls) == 1
    assert listing(dest) == []


@pytest.mark.parametrize("source", ["images", "csv"])
def test_disk_full_while_writing_leaves_nothing(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    def half_then_full(src: Any, dst: Any, length: int = 0) -> None:
        dst.write(src.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    use_hub(monkeypatch, FakeHub(files={"fer2013.tar.gz": FER2013_TAR}))
    monkeypatch.setattr(shutil, "copyfileobj", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    assert listing(dest) == []  # no partial fer2013.zip / fer2013.csv, no temporary


def test_failed_forced_download_keeps_existing_file(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    dest.mkdir()
    (dest / "fer2013.csv").write_text("mine")
    use_hub(monkeypatch, FakeHub(error=offline_error()))
    with pytest.raises(KaggleError):
        download_fer2013("csv", path=dest, force=True)
    assert (dest / "fer2013.csv").read_text() == "mine"
    assert listing(dest) == ["fer2013.csv"]


# ------------------------------------------------------------------------------ errors
def assert_says_how_to_get_credentials(message: str) -> None:
    assert "KAGGLE_API_TOKEN" in message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert "kaggle.json" in message
    assert "https://www.kaggle.com/settings/api" in message


def test_no_credentials(no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    use_hub(monkeypatch, FakeHub(error=UnauthenticatedError()))
    with pytest.raises(KaggleError, match="no Kaggle API credentials found") as info:
        download_fer2013("csv", path=dest)
    message = str(info.value)
    assert_says_how_to_get_credentials(message)
    assert str(no_credentials / ".kaggle" / "kaggle.json") in message
    assert f"fer2013.tar.gz by hand from {COMPETITION_DATA}" in message
    assert "\n" not in message
    assert listing(dest) == []


def test_malformed_kaggle_json(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    forbid_network(monkeypatch)
    (no_credentials / ".kaggle").mkdir()
    (no_credentials / ".kaggle" / "kaggle.json").write_text('{"username": "u"}')
    with pytest.raises(KaggleError, match=r"kaggle\.json is missing 'key'.*fix or delete it"):
        download_fer2013(path=dest)
    assert not dest.exists()


@pytest.mark.parametrize("source", ["images", "csv"])
def test_offline(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    error = offline_error()
    use_hub(monkeypatch, FakeHub(error=error))
    with pytest.raises(KaggleError) as info:
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("could not reach Kaggle (ConnectionError: ")
    assert "\n" not in message
    if source == "csv":
        assert f"fer2013.tar.gz by hand from {COMPETITION_DATA} and pass its path" in message
    else:
        assert f"fer2013.zip by hand from {DATASET_PAGE} and pass its path" in message
    assert info.value.__cause__ is error
    assert listing(dest) == []


def test_competition_rules_not_accepted(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_hub(monkeypatch, FakeHub(error=http_error(403)))
    with pytest.raises(KaggleError, match="rules must be accepted") as info:
        download_fer2013("csv", path=dest)
    assert f"https://www.kaggle.com/c/{FER2013_COMPETITION}/rules" in str(info.value)
    assert "\n" not in str(info.value)


def test_dataset_forbidden_with_credentials(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_hub(monkeypatch, FakeHub(error=http_error(403)))
    with pytest.raises(KaggleError, match="HTTP 403") as info:
        download_fer2013("images", path=dest)
    assert "/rules" not in str(info.value)
    assert "KAGGLE_KEY" not in str(info.value)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_without_credentials_says_how_to_sign_in(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path, status: int
) -> None:
    use_hub(monkeypatch, FakeHub(error=http_error(status)))
    with pytest.raises(KaggleError, match=f"without credentials \\(HTTP {status}\\)") as info:
        download_fer2013("images", path=dest)
    assert_says_how_to_get_credentials(str(info.value))


@pytest.mark.parametrize("source", ["images", "csv"])
def test_credentials_rejected(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    use_hub(monkeypatch, FakeHub(error=http_error(401)))
    with pytest.raises(KaggleError, match="rejected your API credentials") as info:
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    assert_says_how_to_get_credentials(str(info.value))
    assert listing(dest) == []


def test_other_http_error(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    use_hub(monkeypatch, FakeHub(error=http_error(500)))
    with pytest.raises(KaggleError, match="failed with HTTP 500.*retry later"):
        download_fer2013(path=dest)


def test_corrupted_download(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    from kagglehub.exceptions import DataCorruptionError

    use_hub(monkeypatch, FakeHub(error=DataCorruptionError("md5 mismatch")))
    with pytest.raises(KaggleError, match="corrupted in transit; retry"):
        download_fer2013(path=dest)


def test_other_errors_propagate(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    use_hub(monkeypatch, FakeHub(error=ZeroDivisionError("bug")))
    with pytest.raises(ZeroDivisionError):
        download_fer2013(path=dest)
    assert listing(dest) == []


def test_kagglehub_not_installed(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    monkeypatch.setitem(sys.modules, "kagglehub", None)
    with pytest.raises(KaggleNotInstalledError) as info:
        download_fer2013(path=dest)
    assert str(info.value) == (
        "downloading FER2013 from Kaggle needs kagglehub, which is not installed: "
        'pip install "emorec[kaggle]"'
    )
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, MissingDependencyError)
    assert isinstance(info.value, KaggleError)
    assert not dest.exists()


# -------------------------------------------------------------------------------- output
def test_kagglehub_output_goes_to_the_log_not_stdout(
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    dest: Path,
) -> None:
    hub_logger = logging.getLogger("kagglehub")
    handlers = [h for h in hub_logger.handlers if type(h) is logging.StreamHandler]
    assert handlers, "kagglehub logs to stdout through its own handler"
    for handler in handlers:  # to the stdout capsys reads
        monkeypatch.setattr(handler, "stream", sys.stdout)

    def chatty(out: Path) -> None:
        hub_logger.info("Downloading to %s...", out)
        sys.stdout.write("Warning: Looks like you're using an outdated `kagglehub` version")
        print("progress bar", file=sys.stderr)

    use_hub(monkeypatch, FakeHub(before_error=chatty))
    with caplog.at_level(logging.INFO, logger="emorec"):
        download_fer2013(path=dest, quiet=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "kagglehub: Downloading to" in caplog.text
    assert "outdated `kagglehub`" in caplog.text

    hub_logger.info("after")  # the handler writes to stdout again
    assert capsys.readouterr().out == "after\n"

    use_hub(monkeypatch, FakeHub(before_error=chatty))
    download_fer2013(path=dest, force=True)  # not quiet: the progress bar shows
    assert capsys.readouterr().err == "progress bar\n"


def test_cli_prints_only_the_path(
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dest: Path,
) -> None:
    from emorec.cli import main

    for handler in logging.getLogger("kagglehub").handlers:
        if type(handler) is logging.StreamHandler:
            monkeypatch.setattr(handler, "stream", sys.stdout)
    use_hub(
        monkeypatch,
        FakeHub(before_error=lambda out: logging.getLogger("kagglehub").info("Extracting...")),
    )
    assert main(["download", "fer2013", "--dir", str(dest)]) == 0
    assert capsys.readouterr().out == f"{dest / 'fer2013.zip'}\n"


def test_import_does_not_import_kagglehub() -> None:
    src = Path(kg.__file__).resolve().parents[2]
    code = "import sys, emorec.data.kaggle; assert 'kagglehub' not in sys.modules, 'imported'"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *sys.path])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ------------------------------------------------------------------------ real kagglehub
class FakeKaggle:
    """A fake Kaggle server behind ``requests.Session.send``: ``routes`` maps an API method's
    name (``GetDataset``, ``DownloadDataset``, ...) to ``(status, content type, body)``, or to an
    exception to raise (offline)."""

    def __init__(self, routes: dict[str, tuple[int, str, bytes] | BaseException]) -> None:
        self.routes = routes
        self.calls: list[str] = []

    def send(self, request: Any, **kwargs: Any) -> Any:  # bound: the session is not passed
        method = request.url.rsplit("/", 1)[-1]
        self.calls.append(method)
        route = self.routes[method]
        if isinstance(route, BaseException):
            raise route
        status, content_type, body = route
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Error"
        response.headers = requests.structures.CaseInsensitiveDict(
            {"Content-Type": content_type, "Content-Length": str(len(body))}
        )
        response.raw = io.BytesIO(body)
        response.url = f"https://storage.googleapis.com/bucket/{method}/archive"
        response.request = request
        return response


def serve(monkeypatch: pytest.MonkeyPatch, server: FakeKaggle) -> FakeKaggle:
    monkeypatch.setattr(requests.Session, "send", server.send)
    return server


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


JSON = "application/json"
OCTETS = "application/octet-stream"


def test_real_kagglehub_images(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dest: Path
) -> None:
    server = serve(
        monkeypatch,
        FakeKaggle(
            {
                "GetDataset": (200, JSON, b'{"currentVersionNumber": 7}'),
                "DownloadDataset": (200, OCTETS, zip_bytes(TREE)),
            }
        ),
    )
    result = download_fer2013(path=dest, quiet=True)
    with zipfile.ZipFile(result) as zf:
        assert sorted(zf.namelist()) == sorted(TREE)
    assert server.calls == ["GetDataset", "DownloadDataset"]
    assert listing(dest) == ["fer2013.zip"]
    assert not (tmp_path / "kagglehub-cache").exists()  # nothing in kagglehub's cache


def test_real_kagglehub_csv(credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    server = serve(monkeypatch, FakeKaggle({"DownloadDataFile": (200, OCTETS, FER2013_TAR)}))
    assert download_fer2013("csv", path=dest, quiet=True).read_text() == CSV_TEXT
    assert server.calls == ["DownloadDataFile"]
    assert listing(dest) == ["fer2013.csv"]


def test_real_kagglehub_csv_without_credentials(
    no_credentials: Path, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    server = serve(monkeypatch, FakeKaggle({}))
    with pytest.raises(KaggleError, match="no Kaggle API credentials found"):
        download_fer2013("csv", path=dest)
    assert server.calls == []  # refused before any request
    assert listing(dest) == []


def test_real_kagglehub_rules_not_accepted(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    body = b'{"code": 403, "message": "You must accept this competition\'s rules"}'
    serve(monkeypatch, FakeKaggle({"DownloadDataFile": (403, JSON, body)}))
    with pytest.raises(KaggleError, match="rules must be accepted") as info:
        download_fer2013("csv", path=dest)
    assert isinstance(info.value.__cause__, KaggleApiHTTPError)
    assert listing(dest) == []


@pytest.mark.parametrize("source", ["images", "csv"])
def test_real_kagglehub_offline(
    credentials: None, monkeypatch: pytest.MonkeyPatch, dest: Path, source: str
) -> None:
    offline = offline_error()
    serve(monkeypatch, FakeKaggle({"GetDataset": offline, "DownloadDataFile": offline}))
    with pytest.raises(KaggleError, match="^could not reach Kaggle") as info:
        download_fer2013(source, path=dest)  # type: ignore[arg-type]
    assert info.value.__cause__ is offline
    assert listing(dest) == []
