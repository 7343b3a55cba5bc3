"""Tests for :mod:`emorec.images`."""

from __future__ import annotations

import io
import os
import struct
import sys
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageFile, features

from emorec import images
from emorec.images import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, ImageError, load_image

# A small RGB image with distinct pixels, shape (H=2, W=3, 3).
RGB = np.array(
    [
        [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        [[10, 200, 50], [255, 255, 255], [0, 0, 0]],
    ],
    dtype=np.uint8,
)
# Pillow's convert("L"): ITU-R 601-2 luma, L = R*299/1000 + G*587/1000 + B*114/1000, rounded.
RGB_AS_GREY = np.array([[76, 150, 29], [126, 255, 0]], dtype=np.uint8)


def encode(image: Image.Image, fmt: str = "PNG", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def png_path(tmp_path: Path) -> Path:
    return write(tmp_path / "face.png", encode(Image.fromarray(RGB)))


def noisy_jpeg(width: int = 64, height: int = 48) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), "JPEG", quality=95)


def patch_png_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the IHDR of a PNG to claim another size (with a valid CRC)."""
    assert data[12:16] == b"IHDR"
    body = struct.pack(">II", width, height) + data[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return data[:16] + body + crc + data[33:]


# --------------------------------------------------------------------------------------------
# Module surface
# --------------------------------------------------------------------------------------------


def test_public_names() -> None:
    assert sorted(images.__all__) == sorted(
        [
            "ChannelOrder",
            "DEFAULT_MAX_PIXELS",
            "ImageError",
            "load_batch",
            "load_image",
            "IMAGE_EXTENSIONS",
            "IMAGE_FORMATS",
            "MAX_STREAM_BYTES",
            "read_stream",
        ]
    )
    assert DEFAULT_MAX_PIXELS == 89_478_485
    assert issubclass(ImageError, ValueError)
    assert isinstance(IMAGE_EXTENSIONS, frozenset)
    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"} <= IMAGE_EXTENSIONS
    assert {".pgm", ".ppm", ".pbm"} <= IMAGE_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in IMAGE_EXTENSIONS)


# --------------------------------------------------------------------------------------------
# Input kinds
# --------------------------------------------------------------------------------------------


def check_rgb_result(result: np.ndarray, expected: np.ndarray = RGB) -> None:
    assert result.dtype == np.uint8
    assert result.flags.c_contiguous
    np.testing.assert_array_equal(result, expected)


def test_str_path(png_path: Path) -> None:
    check_rgb_result(load_image(str(png_path)))


def test_pathlib_path(png_path: Path) -> None:
    check_rgb_result(load_image(png_path))


def test_path_grayscale(png_path: Path) -> None:
    result = load_image(png_path, "grayscale")
    assert result.shape == (2, 3, 1)
    np.testing.assert_array_equal(result[..., 0], RGB_AS_GREY)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like(kind: type) -> None:
    check_rgb_result(load_image(kind(encode(Image.fromarray(RGB)))))


def test_binary_file_object_is_read_not_closed(png_path: Path) -> None:
    with open(png_path, "rb") as file:
        check_rgb_result(load_image(file))
        assert not file.closed


def test_file_object_read_from_current_position() -> None:
    stream = io.BytesIO(b"junk" + encode(Image.fromarray(RGB)))
    stream.seek(4)
    check_rgb_result(load_image(stream))


def test_non_seekable_file_object() -> None:
    class Stream:
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    check_rgb_result(load_image(Stream(encode(Image.fromarray(RGB)))))


def test_text_mode_file_object_is_rejected(png_path: Path) -> None:
    with open(png_path, encoding="latin-1") as file, pytest.raises(TypeError, match="binary"):
        load_image(file)  # type: ignore[arg-type]


def test_pil_image_is_not_modified() -> None:
    image = Image.fromarray(RGB).convert("RGBA")
    before = image.tobytes()
    check_rgb_result(load_image(image))
    assert image.mode == "RGBA"
    assert image.tobytes() == before


def test_lazily_opened_pil_image(png_path: Path) -> None:
    with Image.open(png_path) as image:
        check_rgb_result(load_image(image))


@pytest.mark.parametrize("source", [42, None, [[0, 1], [2, 3]], 1.5])
def test_unsupported_source_type(source: Any) -> None:
    with pytest.raises(TypeError, match="expected a path, bytes"):
        load_image(source)


@pytest.mark.parametrize("color_mode", ["rgb", "RGB", "Rgb"])
def test_rgb_aliases(color_mode: str) -> None:
    assert load_image(RGB, color_mode).shape == (2, 3, 3)


@pytest.mark.parametrize("color_mode", ["grayscale", "GRAYSCALE", "L", "l", "gray", "Grey"])
def test_grayscale_aliases(color_mode: str) -> None:
    np.testing.assert_array_equal(load_image(RGB, color_mode)[..., 0], RGB_AS_GREY)


@pytest.mark.parametrize("color_mode", ["cmyk", "", "RGBA", "LA", "colour"])
def test_bad_color_mode(color_mode: str) -> None:
    with pytest.raises(ValueError, match="color_mode"):
        load_image(RGB, color_mode)


@pytest.mark.parametrize("max_pixels", [0, -1, 1.5, True, "100"])
def test_bad_max_pixels(max_pixels: Any) -> None:
    with pytest.raises(ValueError, match="max_pixels"):
        load_image(RGB, max_pixels=max_pixels)


# --------------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------------


GREY = np.array([[0, 1, 127], [128, 254, 255]], dtype=np.uint8)


@pytest.mark.parametrize("array", [GREY, GREY[..., None]], ids=["HxW", "HxWx1"])
def test_grey_array(array: np.ndarray) -> None:
    grey = load_image(array, "grayscale")
    assert grey.shape == (2, 3, 1)
    np.testing.assert_array_equal(grey[..., 0], GREY)
    rgb = load_image(array, "rgb")
    assert rgb.shape == (2, 3, 3)
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], GREY)


def test_rgb_array_grey_matches_pillow() -> None:
    np.testing.assert_array_equal(load_image(RGB, "L")[..., 0], RGB_AS_GREY)
    expected = np.asarray(Image.fromarray(RGB).convert("L"))
    np.testing.assert_array_equal(load_image(RGB, "L")[..., 0], expected)


def test_rgba_array_drops_alpha_without_compositing() -> None:
    alpha = np.array([[0, 0, 0], [128, 255, 1]], dtype=np.uint8)
    rgba = np.dstack([RGB, alpha])
    check_rgb_result(load_image(rgba))
    np.testing.assert_array_equal(load_image(rgba, "L")[..., 0], RGB_AS_GREY)


def test_uint16_array_is_scaled() -> None:
    values = np.array([[0, 128, 129, 32896, 65535, 257 * 100 + 128]], dtype=np.uint16)
    expected = [0, 0, 1, 128, 255, 100]
    np.testing.assert_array_equal(load_image(values, "L")[0, :, 0], expected)
    big_endian = values.astype(">u2")
    np.testing.assert_array_equal(load_image(big_endian, "L")[0, :, 0], expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_array_is_scaled(dtype: type) -> None:
    values: np.ndarray = np.array([[0.0, 0.25, 0.5, 1.0]], dtype=dtype)
    np.testing.assert_array_equal(load_image(values, "L")[0, :, 0], [0, 64, 128, 255])


def test_bool_array() -> None:
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(load_image(mask, "L")[..., 0], [[255, 0], [0, 255]])


def test_non_contiguous_array_and_copy() -> None:
    wide = np.ascontiguousarray(np.repeat(RGB, 2, axis=1))  # (2, 6, 3)
    view = wide[:, ::2]
    assert not view.flags.c_contiguous
    result = load_image(view)
    check_rgb_result(result)
    same = load_image(RGB)
    same[...] = 7
    assert RGB[0, 0, 0] == 255  # the input is never aliased


@pytest.mark.parametrize(
    "values",
    [[[-0.1, 0.5]], [[0.5, 1.5]], [[np.nan, 0.5]], [[np.inf, 0.0]]],
    ids=["negative", "above-one", "nan", "inf"],
)
def test_float_array_out_of_range(values: list[list[float]]) -> None:
    with pytest.raises(ImageError, match=r"<array>: .*expected values in the range \[0, 1\]"):
        load_image(np.array(values, dtype=np.float32))


def test_float_array_error_reports_values() -> None:
    with pytest.raises(ImageError, match=r"min -0\.5, max 2"):
        load_image(np.array([[-0.5, 2.0]]))
    with pytest.raises(ImageError, match="NaN"):
        load_image(np.full((2, 2), np.nan))


@pytest.mark.parametrize("shape", [(4,), (2, 2, 2), (2, 2, 5), (1, 2, 2, 3), (0, 5), (3, 0, 3)])
def test_bad_array_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageError, match=r"<array>: .*\(H, W, 3\)") as error:
        load_image(np.zeros(shape, np.uint8))
    assert str(shape) in str(error.value)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint32, np.complex64])
def test_bad_array_dtype(dtype: type) -> None:
    with pytest.raises(ImageError, match="expected uint8, uint16, bool or float") as error:
        load_image(np.zeros((2, 2), dtype), name="frame")
    message = str(error.value)
    assert message.startswith("frame: ")
    assert np.dtype(dtype).name in message


# --------------------------------------------------------------------------------------------
# PIL modes
# --------------------------------------------------------------------------------------------


def test_mode_l() -> None:
    image = Image.fromarray(GREY)
    assert image.mode == "L"
    np.testing.assert_array_equal(load_image(image, "L")[..., 0], GREY)
    np.testing.assert_array_equal(load_image(image, "rgb"), np.repeat(GREY[..., None], 3, 2))


def test_mode_la_drops_alpha() -> None:
    alpha = Image.fromarray(np.zeros_like(GREY))
    image = Image.merge("LA", (Image.fromarray(GREY), alpha))
    np.testing.assert_array_equal(load_image(image, "L")[..., 0], GREY)
    np.testing.assert_array_equal(load_image(encode(image), "L")[..., 0], GREY)


def test_mode_rgba_drops_alpha() -> None:
    image = Image.fromarray(np.dstack([RGB, np.zeros((2, 3), np.uint8)]))
    assert image.mode == "RGBA"
    check_rgb_result(load_image(encode(image)))
    np.testing.assert_array_equal(load_image(image, "L")[..., 0], RGB_AS_GREY)


def palette_image() -> Image.Image:
    image = Image.new("P", (3, 1))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (3 * 253))
    image.putdata([0, 1, 2])
    return image


PALETTE_RGB = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)


def test_mode_p() -> None:
    check_rgb_result(load_image(encode(palette_image())), PALETTE_RGB)
    np.testing.assert_array_equal(load_image(palette_image(), "L")[0, :, 0], [76, 150, 29])


@pytest.mark.parametrize(
    ("transparency", "fmt"),
    [(1, "GIF"), (1, "PNG"), (b"\x00\x80\xff", "PNG")],
    ids=["gif-index", "png-index", "png-alpha-table"],
)
def test_mode_p_with_transparency(transparency: int | bytes, fmt: str) -> None:
    data = encode(palette_image(), fmt, transparency=transparency)
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode == "P"
        assert "transparency" in reopened.info
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_rgb_result(load_image(data), PALETTE_RGB)
        np.testing.assert_array_equal(load_image(data, "L")[0, :, 0], [76, 150, 29])


def test_mode_1() -> None:
    image = Image.new("1", (3, 1))
    image.putpixel((1, 0), 1)
    np.testing.assert_array_equal(load_image(image, "L")[0, :, 0], [0, 255, 0])
    np.testing.assert_array_equal(load_image(encode(image, "PPM"), "L")[0, :, 0], [0, 255, 0])


def test_mode_cmyk_jpeg() -> None:
    colour = (200, 40, 90)
    data = encode(Image.new("RGB", (16, 16), colour).convert("CMYK"), "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode == "CMYK"
    result = load_image(data)
    assert result.shape == (16, 16, 3)
    assert np.abs(result.astype(int) - colour).max() <= 6


SIXTEEN_BIT = np.array([[0, 128, 129, 2570, 32896, 65535]], dtype=np.uint16)
SIXTEEN_BIT_AS_8 = [0, 0, 1, 10, 128, 255]


def test_sixteen_bit_png() -> None:
    data = encode(Image.fromarray(SIXTEEN_BIT))
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode in {"I;16", "I"}
        np.testing.assert_array_equal(np.asarray(reopened)[0], SIXTEEN_BIT[0])
    np.testing.assert_array_equal(load_image(data, "L")[0, :, 0], SIXTEEN_BIT_AS_8)
    rgb = load_image(data, "rgb")
    assert rgb.shape == (1, 6, 3)
    np.testing.assert_array_equal(rgb[0, :, 2], SIXTEEN_BIT_AS_8)


@pytest.mark.parametrize("mode", ["I;16", "I;16L", "I;16B"])
def test_sixteen_bit_modes(mode: str) -> None:
    order = ">u2" if mode == "I;16B" else "<u2"
    image = Image.frombytes(mode, (6, 1), SIXTEEN_BIT.astype(order).tobytes())
    np.testing.assert_array_equal(load_image(image, "L")[0, :, 0], SIXTEEN_BIT_AS_8)


def test_mode_i_is_scaled_and_clipped() -> None:
    image = Image.fromarray(np.array([[0, 32896, 65535, 70000, -5]], dtype=np.int32))
    assert image.mode == "I"
    np.testing.assert_array_equal(load_image(image, "L")[0, :, 0], [0, 128, 255, 255, 0])


def test_mode_f() -> None:
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert unit.mode == "F"
    np.testing.assert_array_equal(load_image(unit, "L")[0, :, 0], [0, 128, 255])
    wide = Image.fromarray(np.array([[0.0, 100.4, 300.0, -3.0]], dtype=np.float32))
    np.testing.assert_array_equal(load_image(wide, "L")[0, :, 0], [0, 100, 255, 0])
    tiff = encode(wide, "TIFF")
    np.testing.assert_array_equal(load_image(tiff, "rgb")[0, :, 1], [0, 100, 255, 0])


def test_unsupported_mode() -> None:
    with pytest.raises(ImageError, match=r"^<PIL image>: unsupported image mode 'La'"):
        load_image(Image.new("La", (2, 2)))


def test_mode_lab() -> None:
    lab = Image.fromarray(RGB).convert("LAB")
    assert lab.mode == "LAB"
    expected = np.asarray(lab.convert("RGB"))
    np.testing.assert_array_equal(load_image(lab), expected)
    grey = np.asarray(Image.fromarray(expected).convert("L"))
    np.testing.assert_array_equal(load_image(lab, "L")[..., 0], grey)


@pytest.mark.parametrize(
    ("fmt", "suffix", "mode"),
    [
        ("PNG", ".png", "RGB"),
        ("BMP", ".bmp", "RGB"),
        ("TIFF", ".tif", "RGB"),
        ("PPM", ".ppm", "RGB"),
        ("PPM", ".pgm", "L"),
        ("WEBP", ".webp", "RGB"),
    ],
)
def test_lossless_formats(tmp_path: Path, fmt: str, suffix: str, mode: str) -> None:
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    assert suffix in IMAGE_EXTENSIONS
    params = {"lossless": True} if fmt == "WEBP" else {}
    image = Image.fromarray(RGB).convert(mode)
    path = write(tmp_path / f"image{suffix}", encode(image, fmt, **params))
    expected = np.asarray(image).reshape(2, 3, -1)
    np.testing.assert_array_equal(load_image(path, "rgb" if mode == "RGB" else "L"), expected)


# --------------------------------------------------------------------------------------------
# EXIF orientation
# --------------------------------------------------------------------------------------------


def with_orientation(image: Image.Image, orientation: int, fmt: str, **params: Any) -> bytes:
    exif = image.getexif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif.tobytes(), **params)


ORIENTED = np.arange(24, dtype=np.uint8).reshape(2, 4, 3) * 10
ORIENTATIONS = {
    1: ORIENTED,
    2: ORIENTED[:, ::-1],
    3: ORIENTED[::-1, ::-1],
    4: ORIENTED[::-1],
    5: ORIENTED.transpose(1, 0, 2),
    6: np.rot90(ORIENTED, -1),  # rotate 90 degrees clockwise to display
    7: ORIENTED[::-1, ::-1].transpose(1, 0, 2),
    8: np.rot90(ORIENTED, 1),  # rotate 90 degrees counter-clockwise to display
}


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_exif_orientation_png_exact(orientation: int) -> None:
    data = with_orientation(Image.fromarray(ORIENTED), orientation, "PNG")
    check_rgb_result(load_image(data), ORIENTATIONS[orientation])


@pytest.mark.parametrize(
    ("orientation", "corner"), [(6, (slice(0, 8), slice(8, 16))), (8, (slice(24, 32), slice(0, 8)))]
)
def test_exif_orientation_jpeg(
    tmp_path: Path, orientation: int, corner: tuple[slice, slice]
) -> None:
    # 32 wide, 16 high, white marker block in the top-left corner.
    pixels = np.zeros((16, 32, 3), np.uint8)
    pixels[:8, :8] = 255
    data = with_orientation(Image.fromarray(pixels), orientation, "JPEG", quality=95)
    path = write(tmp_path / "rotated.jpg", data)
    for source in (path, data):
        result = load_image(source)
        assert result.shape == (32, 16, 3)  # height and width swapped
        assert result[corner].mean() > 240  # the marker moved to the rotated corner
        assert result.mean() < 255 * 0.2
    with Image.open(path) as image:
        grey = load_image(image, "L")
        assert grey.shape == (32, 16, 1)
        assert grey[corner].mean() > 240
        assert image.size == (32, 16)  # the caller's image is left as it was


# --------------------------------------------------------------------------------------------
# Unreadable inputs
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.jpg"
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg"):
        load_image(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.png", b"")
    with pytest.raises(ImageError, match=r"empty\.png: empty file \(0 bytes\); expected a JPEG"):
        load_image(path)
    with pytest.raises(ImageError, match="<bytes>: empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="<file object>: empty"):
        load_image(io.BytesIO())


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.jpg", b"these are my notes, not a picture\n" * 20)
    with pytest.raises(ImageError) as error:
        load_image(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not a readable image (cannot identify image file)")
    assert "expected a JPEG, PNG, BMP, GIF, TIFF or WebP file" in message


def test_error_names_the_source(png_path: Path) -> None:
    junk = b"GIF89a but not really"
    with pytest.raises(ImageError, match=r"^<bytes>: not a readable image"):
        load_image(junk)
    with pytest.raises(ImageError, match=r"^faces\.zip:train/happy/1\.jpg: not a readable"):
        load_image(junk, "grayscale", name="faces.zip:train/happy/1.jpg")
    with pytest.raises(ImageError, match=r"^<file object>: not a readable"):
        load_image(io.BytesIO(junk))
    junk_path = write(png_path.parent / "junk.gif", junk)
    with open(junk_path, "rb") as file, pytest.raises(ImageError, match=r"junk\.gif: not a"):
        load_image(file)


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = noisy_jpeg()
    path = write(tmp_path / "cut.jpg", data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg: corrupt or truncated JPEG"):
        load_image(path)
    with pytest.raises(ImageError, match=r"^<bytes>: corrupt or truncated"):
        load_image(data[: len(data) // 2])
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    assert load_image(data).shape == (48, 64, 3)  # the whole file is fine


def test_truncated_png() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    data = encode(Image.fromarray(pixels))
    with pytest.raises(ImageError, match=r"^x\.png: "):
        load_image(data[: len(data) // 2], name="x.png")


def test_corrupt_png() -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    data = bytearray(encode(Image.fromarray(pixels)))
    start = data.index(b"IDAT") + 50
    data[start : start + 200] = bytes(200)
    with pytest.raises(ImageError, match=r"^bad\.png: "):
        load_image(bytes(data), name="bad.png")


def open_fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc/self/fd")
def test_no_file_handles_leak(tmp_path: Path, png_path: Path) -> None:
    data = noisy_jpeg()
    cut = write(tmp_path / "cut.jpg", data[: len(data) // 2])
    notes = write(tmp_path / "notes.jpg", b"text")
    big = write(tmp_path / "big.png", encode(Image.new("L", (50, 50))))
    before = open_fd_count()
    for _ in range(20):
        load_image(png_path)
        for bad in (cut, notes):
            with pytest.raises(ImageError):
                load_image(bad)
        with pytest.raises(ImageError):
            load_image(big, max_pixels=10)
    assert open_fd_count() == before


# --------------------------------------------------------------------------------------------
# Pixel limit
# --------------------------------------------------------------------------------------------


def test_pixel_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.png", encode(Image.new("RGB", (10, 8))))
    with pytest.raises(ImageError) as error:
        load_image(path, max_pixels=79)
    assert str(error.value) == (
        f"{path}: 10x8 pixels exceeds the limit of 79; raise max_pixels to read it "
        "(emorec predict: --max-pixels)"
    )
    assert load_image(path, max_pixels=80).shape == (8, 10, 3)
    assert load_image(path, max_pixels=None).shape == (8, 10, 3)
    with pytest.raises(ImageError, match=r"^<PIL image>: 10x8 pixels exceeds the limit of 79;"):
        load_image(Image.new("RGB", (10, 8)), max_pixels=79)
    with pytest.raises(ImageError, match=r"^zip:big\.png: 10x8 pixels"):
        load_image(path.read_bytes(), max_pixels=79, name="zip:big.png")


def test_pixel_limit_checked_from_header() -> None:
    """A 100000x100000 PNG header is refused without decoding (or allocating) any pixels."""
    data = patch_png_size(encode(Image.new("L", (1, 1))), 100_000, 100_000)
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError) as error:
        load_image(data, name="big.png")
    assert str(error.value) == (
        "big.png: 10000000000 pixels exceeds the limit of 89478485; raise max_pixels to read it "
        "(emorec predict: --max-pixels)"
    )
    assert limit == Image.MAX_IMAGE_PIXELS


def test_pillows_process_wide_limit_is_never_lifted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30)
    warn_size = encode(Image.new("L", (8, 5), 9))  # 40 pixels: Pillow warns
    error_size = encode(Image.new("L", (10, 10), 9))  # 100 > 2 * 30: Pillow refuses
    with pytest.warns(Image.DecompressionBombWarning):
        assert load_image(warn_size, "L", max_pixels=1000)[0, 0, 0] == 9
    for limit in (100, None):
        with pytest.raises(
            ImageError, match=r"100 pixels exceeds Pillow's .*MAX_IMAGE_PIXELS = 30"
        ):
            load_image(error_size, "L", max_pixels=limit)
    with pytest.raises(ImageError, match="10x10 pixels exceeds the limit of 99"):
        load_image(Image.new("L", (10, 10)), max_pixels=99)
    assert Image.MAX_IMAGE_PIXELS == 30


def test_limit_below_pillows_reports_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    data = encode(Image.new("L", (10, 10)))  # Pillow itself refuses this during open
    with pytest.raises(ImageError, match=r"^<bytes>: 100 pixels exceeds the limit of 5;"):
        load_image(data, max_pixels=5)
    assert Image.MAX_IMAGE_PIXELS == 10


def test_other_threads_keep_pillows_limit_while_emorec_decodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40)
    small = encode(Image.new("L", (5, 5), 1))  # within Pillow's limit
    large = encode(Image.new("L", (20, 20), 2))  # over twice Pillow's limit
    seen: set[int | None] = set()

    def work(index: int) -> int:
        seen.add(Image.MAX_IMAGE_PIXELS)
        if index % 2 == 0:
            return int(load_image(small, "L", max_pixels=None)[0, 0, 0])
        try:
            load_image(large, max_pixels=None)  # emorec would allow it; Pillow does not
        except ImageError:
            return -1
        return -2

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(60)))
    assert results == [[1, -1][index % 2] for index in range(60)]
    assert seen == {40} and Image.MAX_IMAGE_PIXELS == 40


def test_only_the_documented_formats_are_decoded(tmp_path: Path) -> None:
    """PostScript in a file named .jpg never reaches Pillow's EPS plugin (and Ghostscript)."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    path = tmp_path / "photo.jpg"
    path.write_bytes(eps)
    assert Image.open(io.BytesIO(eps)).format == "EPS"  # what Pillow alone would do
    with pytest.raises(ImageError, match=r"photo.jpg: not a readable image"):
        load_image(path)
    ico = io.BytesIO()
    Image.new("RGB", (16, 16)).save(ico, "ICO")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(ico.getvalue())
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM"):
        buffer = io.BytesIO()
        Image.new("L", (4, 4), 7).save(buffer, fmt)
        assert load_image(buffer.getvalue(), "L").shape == (4, 4, 1), fmt


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


sizes = st.integers(1, 20)


@st.composite
def uint8_images(draw: st.DrawFn) -> np.ndarray:
    height, width = draw(sizes), draw(sizes)
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    shape = (height, width) if channels is None else (height, width, channels)
    return draw(hnp.arrays(np.uint8, shape))


@settings(max_examples=60, deadline=None)
@given(uint8_images())
def test_uint8_round_trip(array: np.ndarray) -> None:
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    rgb = load_image(array, "rgb")
    grey = load_image(array, "grayscale")
    assert rgb.shape == (height, width, 3)
    assert grey.shape == (height, width, 1)
    assert rgb.dtype == grey.dtype == np.uint8
    assert rgb.flags.c_contiguous and grey.flags.c_contiguous
    if channels == 1:
        plane = array.reshape(height, width)
        np.testing.assert_array_equal(grey[..., 0], plane)
        np.testing.assert_array_equal(rgb, np.stack([plane] * 3, axis=-1))
    else:
        np.testing.assert_array_equal(rgb, array[..., :3])
        expected = np.asarray(Image.fromarray(np.ascontiguousarray(array[..., :3])).convert("L"))
        np.testing.assert_array_equal(grey[..., 0], expected)
    # Encoded and decoded again, and as a PIL image, the pixels are the same.
    image = Image.fromarray(rgb)
    np.testing.assert_array_equal(load_image(encode(image)), rgb)
    np.testing.assert_array_equal(load_image(image, "L"), grey)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(sizes, sizes),
        elements={"min_value": 0.0, "max_value": 1.0, "allow_nan": False},
    )
)
def test_float_arrays_map_to_rounded_255(array: np.ndarray) -> None:
    expected = np.rint(array.astype(np.float64) * 255).astype(np.uint8)
    np.testing.assert_array_equal(load_image(array, "L")[..., 0], expected)
    np.testing.assert_array_equal(load_image(array, "rgb")[..., 1], expected)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.uint16, st.tuples(sizes, sizes)))
def test_uint16_arrays_map_to_rounded_div_257(array: np.ndarray) -> None:
    expected = np.vectorize(lambda value: round(value / 257))(array.astype(np.int64))
    np.testing.assert_array_equal(load_image(array, "L")[..., 0], expected)
    as_png = encode(Image.fromarray(array))
    np.testing.assert_array_equal(load_image(as_png, "L")[..., 0], expected)


def test_channel_order_and_batches() -> None:
    from emorec.images import load_batch

    bgr = np.zeros((2, 3, 4), np.uint8)
    bgr[..., 0] = 200  # blue in OpenCV's order
    assert load_image(bgr, channel_order="bgr")[0, 0].tolist() == [0, 0, 200]
    assert load_image(bgr)[0, 0].tolist() == [200, 0, 0]
    with pytest.raises(ValueError, match="channel_order"):
        load_image(bgr, channel_order="rbg")  # type: ignore[arg-type]
    batch = np.stack([bgr, bgr])
    assert load_batch(batch, "grayscale", channel_order="bgr").shape == (2, 2, 3, 1)
    np.testing.assert_array_equal(
        load_batch(batch, "grayscale", channel_order="bgr")[0],
        load_image(bgr, "grayscale", channel_order="bgr"),
    )
    assert load_batch(np.ones((3, 4, 5)), "rgb").shape == (3, 4, 5, 3)
    with pytest.raises(ImageError, match="out of range"):
        load_batch(np.full((1, 2, 2), 2.0))
    with pytest.raises(ImageError, match="no pixels"):
        load_batch(np.zeros((0, 2, 2), np.uint8))
    with pytest.raises(ImageError, match="batch of shape"):
        load_batch(np.zeros((2, 2), np.uint8))
