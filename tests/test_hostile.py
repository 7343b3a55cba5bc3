"""Hostile inputs, generated here (no binary fixtures): each gets a documented error that
names it, or is skipped and reported, in bounded time and memory, and changes nothing else.

The documented exception types: emorec's :class:`~emorec.ImageError` and the built-in
``ValueError``, ``TypeError`` and ``OSError`` subclasses.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import stat
import struct
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import rss_mb
from emorec import EmotionDataset, ImageError, load_image, read_card
from emorec.data.readers import MAX_IMAGE_BYTES

DOCUMENTED = (ImageError, ValueError, TypeError, OSError)


@contextlib.contextmanager
def bounded(megabytes: float = 64, seconds: float = 5) -> Iterator[None]:
    """Fail if the block takes longer than ``seconds`` or its Python and numpy allocations
    (tracemalloc) peak above ``megabytes``: the bounded cost of one hostile case."""
    # The rest of the suite's objects (TensorFlow's, models') are frozen out of the garbage
    # collector for the block: a full collection of them under tracemalloc took 28 s on CI,
    # a cost of the test process, not of the hostile case.
    gc.freeze()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] - base
        if not was_tracing:
            tracemalloc.stop()
        gc.unfreeze()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < megabytes * 2**20, f"{peak / 2**20:.0f} MB allocated"


@pytest.fixture(scope="module", autouse=True)
def _decoders_loaded() -> None:
    """Load Pillow's format plugins once, before any bound is timed.

    Bytes that no preloaded decoder knows make Pillow import all of its plugins on the
    first call; under tracemalloc on a busy 2-core CI machine that one-time import took
    2.3 s and failed a per-case bound that is about decoding, not importing.
    """
    load_image(png(), "L", name="warm.png")
    with pytest.raises(ImageError):
        load_image(b"\xb5U;\x8b\x1c\x9b", "L", name="warm.bin")


def png(value: int = 128, size: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (size, size), value).save(buffer, "PNG")
    return buffer.getvalue()


def class_zip(path: Path, extra: dict[str, bytes] | None = None, **kwargs) -> Path:
    """A two-class zip of valid faces, plus ``extra`` members."""
    with zipfile.ZipFile(path, "w", **kwargs) as zf:
        for label in ("happy", "sad"):
            for i in range(3):
                zf.writestr(f"{label}/{i}.png", png(40 * i + 10))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def patch_member(path: Path, name: str, edit) -> None:
    """Rewrite the bytes of zip member ``name``'s local header and data with ``edit``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    edit(data, info)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------- archives
def test_a_zip_bomb_member_is_refused_unread_in_bounded_memory(tmp_path):
    bomb = b"\0" * (MAX_IMAGE_BYTES + 1024)  # deflates to about 65 KB
    path = class_zip(tmp_path / "bomb.zip", {"happy/big.png": bomb}, compression=8)
    assert path.stat().st_size < 200_000
    del bomb
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match=r"bomb.zip:happy/big.png: inflates to 67109888"):
            EmotionDataset.from_directory(path, progress_bar=False)
        ds = EmotionDataset.from_directory(path, errors="skip", progress_bar=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000 and len(ds) == 6
    assert [s for s, _ in ds.skipped] == [f"{path}:happy/big.png"]


def test_a_high_ratio_member_is_refused(tmp_path):
    flat = b"\0" * (4 * 1024 * 1024)  # 4 MiB that deflate 1000 times
    path = class_zip(tmp_path / "ratio.zip", {"sad/flat.bmp": flat}, compression=8)
    with pytest.raises(ImageError, match=r"sad/flat.bmp: inflates to 4194304 .*200x expected"):
        EmotionDataset.from_directory(path, progress_bar=False)


def _bad_crc(data: bytearray, info: zipfile.ZipInfo) -> None:
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20] ^= 0xFF  # a stored member: flip a byte of its data


def _encrypted(data: bytearray, info: zipfile.ZipInfo) -> None:
    data[info.header_offset + 6] |= 0x1  # the local header's "encrypted" flag
    central = data.rfind(b"PK\x01\x02" + b"", 0)
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == info.filename.encode():
            data[central + 8] |= 0x1
            return
        central = data.rfind(b"PK\x01\x02", 0, central)


def _unknown_compression(data: bytearray, info: zipfile.ZipInfo) -> None:
    for offset in (info.header_offset + 8,):
        struct.pack_into("<H", data, offset, 99)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == info.filename.encode():
            struct.pack_into("<H", data, central + 10, 99)
        central = data.find(b"PK\x01\x02", central + 4)


def _corrupt_deflate(data: bytearray, info: zipfile.ZipInfo) -> None:
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 2, start + 40):
        data[i] = 0xFF


@pytest.mark.parametrize(
    "edit,compression,reason",
    [
        (_bad_crc, zipfile.ZIP_STORED, "Bad CRC-32"),
        (_encrypted, zipfile.ZIP_STORED, "encrypted"),
        (_unknown_compression, zipfile.ZIP_STORED, "compression method"),
        (_corrupt_deflate, zipfile.ZIP_DEFLATED, "damaged zip member"),
    ],
)
def test_a_damaged_member_is_an_error_naming_it_and_skippable(tmp_path, edit, compression, reason):
    path = class_zip(tmp_path / "faces.zip", compression=compression)
    patch_member(path, "sad/1.png", edit)
    with pytest.raises(ImageError, match=rf"faces.zip:sad/1.png: .*{reason}"):
        EmotionDataset.from_directory(path, progress_bar=False)
    ds = EmotionDataset.from_directory(path, errors="skip", progress_bar=False)
    assert len(ds) == 5 and [s for s, _ in ds.skipped] == [f"{path}:sad/1.png"]


def test_a_damaged_archive_names_the_file(tmp_path):
    path = class_zip(tmp_path / "cut.zip")
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # the end of the central directory cut off
    with pytest.raises(ValueError, match=r"cut.zip: "):
        EmotionDataset.from_directory(path, progress_bar=False)


def test_a_model_card_that_inflates_is_refused_unread(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("emorec/card.json", b" " * (50 * 1024 * 1024))
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"m.keras: its model card inflates to 52428800"):
            read_card(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


@pytest.mark.parametrize("member", ["emorec/card.json", "config.json"])
def test_json_nested_200000_deep_in_a_model_file_is_refused_naming_it(tmp_path, member):
    from emorec.models import load_model

    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, '{"a": ' * 200_000 + "1" + "}" * 200_000)
        if member == "config.json":
            zf.writestr("metadata.json", '{"keras_version": "3.5.0"}')
    with bounded(seconds=20), pytest.raises(ValueError, match=r"deep.keras: .*nested too deeply"):
        read_card(path) if member == "emorec/card.json" else load_model(path)


def test_a_tflite_card_nested_too_deeply_is_refused_naming_it(tmp_path):
    from emorec.models import pretrained_path
    from emorec.tflite_card import with_tflite_card

    deep = b"[" * 200_000 + b"]" * 200_000
    flat = pretrained_path("fer2013_mini_xception").read_bytes()
    inside = tmp_path / "inside.tflite"
    inside.write_bytes(with_tflite_card(flat, deep))
    with pytest.raises(ValueError, match=r"inside.tflite: the model card is nested too deeply"):
        read_card(inside)


def test_a_damaged_tflite_file_is_refused_naming_it(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"")
    with pytest.raises(ValueError, match=r"m.tflite: not a TensorFlow Lite model"):
        read_card(model)


# ---------------------------------------------------------------------- folders and paths
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


@needs_fifo
def test_fifos_and_devices_in_class_folders_are_skipped_never_read(tmp_path):
    root = tmp_path / "faces"
    for label in ("happy", "sad"):
        (root / label).mkdir(parents=True)
        for i in range(2):
            (root / label / f"{i}.png").write_bytes(png(60 * i + 20))
    os.mkfifo(root / "happy" / "fifo.png")
    (root / "sad" / "zero.png").symlink_to("/dev/zero")
    done: list[EmotionDataset] = []
    worker = threading.Thread(
        target=lambda: done.append(EmotionDataset.from_directory(root, progress_bar=False)),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=60)
    assert done, "reading a folder with a FIFO and a /dev/zero link did not finish"
    ds = done[0]
    assert len(ds) == 4
    reasons = dict(ds.skipped)
    assert "a FIFO, not a regular file" in reasons[str(root / "happy" / "fifo.png")]
    assert "a device or socket" in reasons[str(root / "sad" / "zero.png")]


@needs_fifo
def test_load_image_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "stream.jpg"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(ImageError, match=r"stream.jpg: a FIFO, not a regular file; to read a"):
        load_image(fifo)
    with pytest.raises(ImageError, match=r"zero.jpg: a device or socket, not a regular file"):
        (tmp_path / "zero.jpg").symlink_to("/dev/zero")
        load_image(tmp_path / "zero.jpg")
    assert time.monotonic() - start < 5


class _Trickle(io.RawIOBase):
    """An endless raw stream that returns at most 4 KiB a read, as a socket or pipe may."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), 4096)
        buffer[:n] = b"\0" * n
        return n


def test_a_file_object_that_does_not_end_is_refused_at_the_stream_cap(monkeypatch):
    monkeypatch.setattr("emorec.images.MAX_STREAM_BYTES", 1 << 20)
    streams = [io.BytesIO(b"\0" * (2 << 20)), _Trickle()]
    if os.path.exists("/dev/zero"):
        streams += [open("/dev/zero", "rb"), open("/dev/zero", "rb", buffering=0)]  # noqa: SIM115
    for stream in streams:
        with bounded(megabytes=8), pytest.raises(ImageError, match=r"more than 1048576 bytes"):
            load_image(stream, "L", name="endless")
        stream.close()
    assert load_image(io.BytesIO(png()), "L").shape == (48, 48, 1)


# ---------------------------------------------------------------------- properties
@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_decode_or_fail_with_a_documented_error(data):
    with bounded(seconds=2):
        try:
            out = load_image(data, "L", name="random.bin")
        except DOCUMENTED as exc:
            assert "random.bin" in str(exc)
        else:
            assert out.dtype == np.uint8 and out.ndim == 3


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(min_size=0, max_size=2048), flips=st.lists(st.integers(0, 10_000), max_size=8)
)
def test_corrupted_pngs_fail_with_a_documented_error(data, flips):
    raw = bytearray(png(77) + data)
    for i in flips:
        raw[i % len(raw)] ^= 0x5A
    with bounded(seconds=3):
        try:
            load_image(bytes(raw), "L", name="flipped.png")
        except DOCUMENTED as exc:
            assert "flipped.png" in str(exc)


member_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(member_names, min_size=1, max_size=6), sizes=st.lists(st.integers(0, 3000)))
def test_random_member_names_and_sizes(tmp_path, names, sizes):
    path = tmp_path / "random.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i, name in enumerate(names):
            size = sizes[i % len(sizes)] if sizes else 10
            payload = png(i * 30 % 256) if size % 2 else os.urandom(size)
            zf.writestr(name, payload)
    before = sorted(p.name for p in tmp_path.iterdir())
    for errors in ("raise", "skip"):
        with bounded():
            try:
                EmotionDataset.from_directory(path, errors=errors, progress_bar=False)
            except DOCUMENTED as exc:
                assert str(path) in str(exc) or "random.zip" in str(exc)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted or written


# ---------------------------------------------------------------------- fer2013.csv
def write_csv(path: Path, rows: list[str], *, bom: bool = False) -> Path:
    text = "emotion,pixels,Usage\r\n" + "".join(r + "\r\n" for r in rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_excels_byte_order_mark_is_read(tmp_path):
    path = write_csv(tmp_path / "excel.csv", ["3,1 2 3 4,Training"], bom=True)
    ds = EmotionDataset.from_csv(path, progress_bar=False)
    assert len(ds) == 1 and ds["train"].images[0, :, :, 0].tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n", "mixed"])
def test_lines_ending_in_cr_lf_or_crlf_are_read(tmp_path, end):
    rows = [
        "emotion,pixels,Usage",
        "3,1 2 3 4,Training",
        "5,4 3 2 1,PublicTest",
        "0,1 x 3 4,Training",
    ]
    ends = ["\r", "\r\n", "\n", "\r"] if end == "mixed" else [end] * 4
    path = tmp_path / "old_mac.csv"
    path.write_bytes("".join(r + e for r, e in zip(rows[:3], ends)).encode())
    ds = EmotionDataset.from_csv(path, progress_bar=False)
    assert len(ds["train"]) == 1 and len(ds["public_test"]) == 1
    assert ds["train"].images[0, :, :, 0].tolist() == [[1, 2], [3, 4]]
    assert ds["train"].sources == ("old_mac.csv:2",)
    path.write_bytes("".join(r + e for r, e in zip(rows, ends)).encode())  # a bad fourth line
    with pytest.raises(ValueError, match=r"old_mac.csv:4: "):
        EmotionDataset.from_csv(path, progress_bar=False)


def test_rows_larger_than_the_csv_modules_field_limit(tmp_path):
    import csv

    limit = csv.field_size_limit()
    pixels = " ".join(["255"] * (200 * 200))  # 160 KB in one field
    path = write_csv(tmp_path / "big.csv", [f"0,{pixels},Training", f'1,"{pixels}",PublicTest'])
    ds = EmotionDataset.from_csv(path, progress_bar=False)
    assert ds["train"].images.shape == (1, 200, 200, 1) and len(ds["public_test"]) == 1
    assert csv.field_size_limit() == limit  # the process-wide setting is left alone


@pytest.mark.parametrize(
    "token", ["99999999999999999999999", "1e5", "0x10", "nan", "½", "--1", "1,2"]
)
def test_odd_pixel_tokens_name_the_line(tmp_path, token):
    path = write_csv(tmp_path / "odd.csv", ["0,1 2 3 4,Training", f'0,"1 2 3 {token}",Training'])
    with pytest.raises(ValueError, match=r"odd.csv:3: (pixel value|[0-9]+ pixel values)"):
        EmotionDataset.from_csv(path, progress_bar=False)


@pytest.mark.parametrize(
    "text", ["", "emotion,pixels,Usage\n", "\ufeff", "emotion,pixels,Usage\n3,,Training\n"]
)
def test_empty_and_header_only_csv_files_name_the_file(tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="empty.csv"):
        EmotionDataset.from_csv(path, progress_bar=False)


def test_non_utf8_bytes_name_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"emotion,pixels,Usage\n0,1 2 3 4,Training\n0,1 2 3 4,Pr\xe9vu\n")
    with pytest.raises(ValueError, match=r"latin1.csv:3: not UTF-8 text .*save the file as UTF-8"):
        EmotionDataset.from_csv(path, progress_bar=False)


csv_fields = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(
    max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(csv_fields, min_size=0, max_size=4), max_size=5))
def test_random_csv_rows(tmp_path, rows):
    path = tmp_path / "random.csv"
    path.write_text(
        "emotion,pixels,Usage\n" + "".join(",".join(r) + "\n" for r in rows),
        encoding="utf-8",
        errors="surrogatepass",
    )
    with bounded():
        try:
            EmotionDataset.from_csv(path, progress_bar=False)
        except DOCUMENTED as exc:
            assert "random.csv" in str(exc)


# ---------------------------------------------------------------------- arrays and arguments
@pytest.fixture(scope="module")
def clf():
    from emorec import EmotionClassifier

    return EmotionClassifier.load()


def test_paths_with_a_nul_byte_name_the_argument(clf, tmp_path):
    from emorec.models import load_model

    bad = str(tmp_path / "a\x00b.png")
    shown = repr(bad)
    nul = r": a path cannot contain a NUL byte \('\\x00'\)"
    cases = [
        (lambda: load_image(bad), ImageError, "source"),
        (lambda: clf.predict(bad), ImageError, "images"),
        (lambda: clf.predict([png(), bad]), ImageError, "images[1]"),
        (lambda: list(clf.predict_iter([bad])), ImageError, "images[0]"),
        (lambda: EmotionDataset.from_directory(bad), ValueError, "path"),
        (lambda: EmotionDataset.from_csv(Path(bad)), ValueError, "path"),
        (lambda: EmotionDataset.from_csv(tmp_path, ferplus=bad), ValueError, "ferplus"),
        (lambda: read_card(bad), ValueError, "model"),
        (lambda: load_model(bad), ValueError, "model"),
    ]
    for call, error, argument in cases:
        with pytest.raises(error) as info:
            call()
        assert str(info.value).startswith(f"{argument}={shown}")
        assert re.search(nul, str(info.value)), str(info.value)
    skipped = clf.predict([bad], errors="skip")[0]
    assert skipped.source == bad and "cannot contain a NUL byte" in skipped.error


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused_not_clipped(clf, value):
    crops = np.full((2, 48, 48), 0.5, np.float32)
    crops[1, 3, 4] = value
    with pytest.raises(ImageError, match="out of range"):
        clf.predict_proba(crops)


def test_a_model_whose_outputs_are_nan_makes_predict_raise():
    import keras

    from emorec import EmotionClassifier

    inputs = keras.Input((48, 48, 1))
    nan = keras.layers.Lambda(lambda x: keras.ops.log(keras.ops.zeros_like(x[:, 0, 0, :])) * 0)
    outputs = keras.layers.Dense(7)(nan(inputs))  # log(0) * 0 = NaN
    model = keras.Model(inputs, outputs)
    clf = EmotionClassifier(model)
    face = np.full((48, 48), 100, np.uint8)
    with pytest.raises(ValueError, match="NaN or infinite"):
        clf.predict(face)
    with pytest.raises(ValueError, match="NaN or infinite"):
        clf.predict_proba(face[None])


def test_empty_batches_unknown_errors_values_and_none_items(clf):
    assert clf.predict_proba(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    assert clf.predict(np.zeros((0, 48, 48, 1), np.uint8)) == [] and clf.predict([]) == []
    with pytest.raises(ValueError, match="errors='ignore'; expected 'raise' or 'skip'"):
        clf.predict(np.zeros((48, 48), np.uint8), errors="ignore")
    face = np.zeros((48, 48), np.uint8)
    results = clf.predict([face, None, face], errors="skip")
    assert len(results[0]) == 1 and len(results[2]) == 1
    assert "None is not an image" in results[1].error
    with pytest.raises(ValueError, match=r"boxes\[0\] = \(0, 0, 100000, 100000\)"):
        clf.predict(np.zeros((100, 100), np.uint8), boxes=[(0, 0, 100000, 100000)])


@settings(max_examples=60, deadline=None)
@given(
    box=st.tuples(
        st.integers(-300, 300), st.integers(-300, 300), st.integers(-50, 500), st.integers(-50, 500)
    )
)
def test_random_boxes_give_a_face_or_an_error_naming_the_box(clf, box):
    image = np.full((120, 160), 90, np.uint8)
    try:
        [faces] = clf.predict([image], boxes=[[box]])
    except ValueError as exc:
        assert "boxes[0]" in str(exc)
    else:
        assert len(faces) == 1 and faces[0].label in clf.labels


# ---------------------------------------------------------------------- command line
ASTRONAUT = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"


def test_cli_reads_a_photo_from_standard_input(monkeypatch, capsys):
    from emorec.cli import main

    class Stdin:
        buffer = io.BytesIO(ASTRONAUT.read_bytes())

    monkeypatch.setattr("sys.stdin", Stdin())
    assert main(["predict", "-"]) == 0
    assert capsys.readouterr().out.startswith("<stdin>: face 1 at (")


def test_cli_reads_a_pipe_given_as_dev_stdin():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "predict", "/dev/stdin"],
        input=ASTRONAUT.read_bytes(),  # a pipe, as from `cat photo.jpg |`
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().startswith("<stdin>: face 1 at (")


def _serve(fifo: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


@needs_fifo
def test_cli_reads_a_named_pipe_up_to_a_limit(tmp_path, monkeypatch, capsys):
    from emorec.cli import main

    fifo = tmp_path / "camera.jpg"
    os.mkfifo(fifo)
    _serve(fifo, ASTRONAUT.read_bytes())
    assert main(["predict", str(fifo)]) == 0
    assert capsys.readouterr().out.startswith(f"{fifo}: face 1 at (")
    monkeypatch.setattr("emorec.cli.inputs.MAX_STREAM_BYTES", 1000)
    _serve(fifo, b"x" * 5000)
    assert main(["predict", str(fifo)]) == 2
    assert capsys.readouterr().err.startswith(
        f"emorec: error: {fifo}: more than 1000 bytes; expected one image"
    )
    assert main(["predict", "-", "/dev/stdin"]) == 2
    assert "can be read once only" in capsys.readouterr().err


def test_cli_annotations_of_photos_with_the_same_name_do_not_collide(tmp_path, capsys):
    from emorec.cli import main

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.jpg").write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "out"
    assert (
        main(
            [
                "predict",
                str(tmp_path / "a/x.jpg"),
                str(tmp_path / "b/x.jpg"),
                "--annotate",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")) == [
        "a/x_emotions.jpg",
        "b/x_emotions.jpg",
    ]


def test_cli_checks_output_before_any_work_and_errors_are_one_line(tmp_path, capsys):
    from emorec.cli import main

    existing = tmp_path / "results.json"
    existing.write_text("keep me")
    out = tmp_path / "ann"
    code = main(["predict", str(ASTRONAUT), "--output", str(existing), "--annotate", str(out)])
    assert code == 2 and existing.read_text() == "keep me" and not out.exists()
    err = capsys.readouterr().err.strip()
    assert err == f"emorec: error: {existing} exists; pass --overwrite to replace it"
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"%!PS-Adobe-3.0\n")
    assert main(["predict", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"emorec: error: {bad}: not a readable image") and "\n" not in err


# ---------------------------------------------------------------------- memory under load
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_memory_stays_flat_over_thousands_of_calls(clf):
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (16, 48, 48), np.uint8)
    photo = np.asarray(Image.open(ASTRONAUT).resize((256, 256)))

    def calls(n: int) -> None:
        for i in range(n):
            clf.predict_proba(crops[: 1 + i % 16])
            if i % 5 == 0:
                clf.predict(list(crops[: 1 + i % 3]))
            if i % 50 == 0:
                clf.predict(photo)

    calls(150)  # warm-up: traces, allocator pools, the detector
    before = rss_mb()
    calls(1500)
    assert rss_mb() - before < 20


def test_a_keras_file_with_a_bad_crc_is_an_error_naming_it(tmp_path):
    from emorec import EmotionClassifier
    from emorec.models import pretrained_path

    path = tmp_path / "broken.keras"
    data = bytearray(pretrained_path(keras=True).read_bytes())
    with zipfile.ZipFile(pretrained_path(keras=True)) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)  # the weights
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"broken.keras: a damaged model file \(BadZipFile"):
        EmotionClassifier.load(path)


# ---------------------------------------------------------------------- nothing else changes
def tree_state(root: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under ``root`` but ``skip``: its kind, size, mtime and bytes."""
    state = {}
    for path in sorted(root.rglob("*")):
        if path == skip or skip in path.parents:
            continue
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        state[path.relative_to(root).as_posix()] = (
            stat.S_IFMT(info.st_mode),
            info.st_size,
            info.st_mtime_ns,
            content,
        )
    return state


@contextlib.contextmanager
def sandbox() -> Iterator[tuple[Path, Path]]:
    """A folder that is the working directory and holds emorec's cache (with a file of the
    user's in it); yields it and the output folder inside it."""
    with tempfile.TemporaryDirectory() as name:
        root = Path(name).resolve()
        (root / "cache").mkdir()
        (root / "cache" / "kept.txt").write_text("the user's")
        out = root / "out"
        previous = os.getcwd()
        with mock.patch.dict(os.environ, {"EMOREC_CACHE_DIR": str(root / "cache")}):
            os.chdir(root)
            try:
                yield root, out
            finally:
                os.chdir(previous)


def inputs_for(root: Path, kinds: list[int], seed: int) -> list[Path]:
    """Photo files of random kinds in ``root/in``: valid, truncated, random bytes, empty, text."""
    rng = np.random.default_rng(seed)
    folder = root / "in"
    folder.mkdir(exist_ok=True)
    files = []
    for i, kind in enumerate(kinds):
        good = ASTRONAUT.read_bytes() if kind == 0 else png(int(rng.integers(0, 256)), 64)
        data = [
            good,
            good[: max(1, len(good) // (2 + kind))],
            rng.bytes(int(rng.integers(1, 3000))),
            b"",
            b"%!PS-Adobe-3.0 EPSF-3.0\n",
            png(int(rng.integers(0, 256)), 64),
        ][kind]
        path = folder / f"{i}.{('jpg', 'png', 'gif', 'webp')[i % 4]}"
        path.write_bytes(data)
        files.append(path)
    return files


@settings(max_examples=12, deadline=None)
@given(kinds=st.lists(st.integers(0, 5), min_size=1, max_size=5), seed=st.integers(0, 2**16))
def test_predict_changes_nothing_outside_its_output_folder(kinds, seed):
    from emorec.cli import main

    with sandbox() as (root, out):
        files = inputs_for(root, kinds, seed)
        before = tree_state(root, out)
        code = main(
            [
                "predict",
                *map(str, files),
                "--annotate",
                str(out / "ann"),
                "--output",
                str(out / "results.json"),
                "--errors",
                "skip",
            ]
        )
        assert code in (0, 2)
        assert tree_state(root, out) == before
        assert (out / "results.json").exists()


def test_reading_and_training_change_nothing_outside_the_output_folder(capsys):
    from emorec.cli import main

    with sandbox() as (root, out):
        data = root / "faces"
        rng = np.random.default_rng(0)
        for c, label in enumerate(("happy", "sad", "surprised")):
            (data / label).mkdir(parents=True)
            for i in range(10):
                img = np.clip(c * 100 + rng.integers(0, 40, (48, 48)), 0, 255).astype("uint8")
                Image.fromarray(img).save(data / label / f"{i}.png")
        (data / "happy" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 20)
        os.symlink("/dev/zero", data / "sad" / "zero.png")
        zipped = class_zip(root / "faces.zip", {"happy/bad.png": b"not a png"})
        before = tree_state(root, out)
        for source in (data, zipped):
            with pytest.warns(UserWarning, match="skipped . unreadable image"):
                EmotionDataset.from_directory(source, errors="skip", progress_bar=False)
            assert main(["dataset", "summary", str(source), "--errors", "skip"]) == 0
        args = ["train", str(data), "--model", "mini_xception", "--epochs", "1"]
        args += ["--batch-size", "8", "--seed", "0", "--output", str(out / "run")]
        assert main([*args, "--errors", "skip"]) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        assert "emorec: warning: " in err and "skipped 2 unreadable image(s)" in err
        assert tree_state(root, out) == before
        assert (out / "run" / "best.keras").exists()


def test_cli_annotations_mirror_the_input_folders_whatever_the_names(tmp_path, capsys):
    """The layout of --annotate DIR does not depend on whether a name repeats: adding a photo
    never moves the annotations of the others."""
    from emorec.cli import main

    photos = tmp_path / "photos"
    for rel in ("top.jpg", "a/x.jpg", "b/y.jpg"):
        (photos / rel).parent.mkdir(parents=True, exist_ok=True)
        (photos / rel).write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "out"
    assert main(["predict", str(photos), "--recursive", "--annotate", str(out)]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")) == [
        "a/x_emotions.jpg",
        "b/y_emotions.jpg",
        "top_emotions.jpg",
    ]
    # the photos of one folder go straight into DIR
    flat = tmp_path / "flat"
    assert main(["predict", str(photos / "a"), "--annotate", str(flat)]) == 0
    assert [p.relative_to(flat).as_posix() for p in flat.rglob("*.jpg")] == ["x_emotions.jpg"]
