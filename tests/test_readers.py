"""Tests for emorec.data.readers: class folders, zips, fer2013.csv (through EmotionDataset too)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import make_tree, png_bytes, zip_tree
from emorec import EmotionDataset, ImageError
from emorec.data.fer_csv import read_fer2013_csv, write_fer2013_csv
from emorec.data.readers import SplitArrays, read_class_folders, split_sort_key
from emorec.labels import LABELS
from emorec.pixels import resize


# ----------------------------------------------------------------------------- from_directory
@pytest.mark.smoke
def test_split_folders(tiny_tree):
    ds = EmotionDataset.from_directory(tiny_tree)
    assert ds.split_names == ("train", "test")
    # 'anger' is an alias: FER names in code order
    assert ds.label_names == ("angry", "happy", "sad")
    assert ds.class_counts("train") == {"angry": 2, "happy": 3, "sad": 2}
    part = ds["train"]
    assert part.images.shape == (7, 48, 48, 1) and part.images.dtype == np.uint8
    # each marker value lands with its class: happy images were written with values 0,1,2
    happy = part.images[part.labels == ds.label_names.index("happy")]
    assert sorted(int(im[0, 0, 0]) for im in happy) == [0, 1, 2]
    assert len(ds) == 14


def test_class_folders_only_make_train(tmp_path):
    make_tree(tmp_path, {"cat": 2, "dog": 3})
    ds = EmotionDataset.from_directory(tmp_path)
    assert ds.split_names == ("train",)
    assert ds.label_names == ("cat", "dog")  # custom label set, sorted


@pytest.mark.smoke
def test_zip_equals_folder(tiny_tree, tmp_path):
    z = zip_tree(tiny_tree, tmp_path / "faces.zip")
    a, b = EmotionDataset.from_directory(tiny_tree), EmotionDataset.from_directory(z)
    assert a.label_names == b.label_names and a.split_names == b.split_names
    for s in a.split_names:
        order_a, order_b = np.argsort(a[s].sources), np.argsort(b[s].sources)
        np.testing.assert_array_equal(a[s].images[order_a], b[s].images[order_b])
        np.testing.assert_array_equal(a[s].labels[order_a], b[s].labels[order_b])
    assert b["train"].sources[0].startswith(str(z) + ":")


def test_wrapping_folder_is_looked_through(tmp_path):
    make_tree(tmp_path / "fer2013", {"happy": 1, "sad": 1}, ("train",))
    z = zip_tree(tmp_path, tmp_path.parent / "wrapped.zip")
    assert EmotionDataset.from_directory(z).split_names == ("train",)


def test_same_file_name_in_two_classes_is_kept(tmp_path):
    make_tree(tmp_path, {"happy": 1, "sad": 1}, ("train",))  # both hold 0.png
    ds = EmotionDataset.from_directory(tmp_path)
    assert len(ds["train"]) == 2


def test_rgb_and_resize(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.new("RGB", (64, 32), (255, 0, 0)).save(tmp_path / "a" / "x.png")
    Image.new("RGB", (48, 48), (0, 0, 255)).save(tmp_path / "b" / "y.jpg")
    with pytest.raises(ValueError, match=r"differ in size.*image_size="):
        EmotionDataset.from_directory(tmp_path)
    ds = EmotionDataset.from_directory(tmp_path, color_mode="rgb", image_size=(24, 24))
    assert ds["train"].images.shape == (2, 24, 24, 3)
    red = ds["train"].images[ds["train"].labels == 0][0]
    assert red[12, 12, 0] > 200 and red[12, 12, 2] < 30


def test_non_images_skipped_with_warning(tmp_path):
    make_tree(tmp_path, {"happy": 1, "sad": 1})
    (tmp_path / "happy" / "notes.txt").write_text("hi")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    with pytest.warns(UserWarning, match="skipped 1 file"):
        ds = EmotionDataset.from_directory(tmp_path)
    assert len(ds["train"]) == 2


@pytest.mark.parametrize(
    "content",
    [b"", b"this is text, not a jpeg", b"corrupt"],
    ids=["zero-bytes", "text-named-jpg", "corrupt"],
)
def test_unreadable_image_raises_naming_file(tmp_path, content):
    make_tree(tmp_path, {"happy": 1, "sad": 1})
    (tmp_path / "sad" / "bad.jpg").write_bytes(content)
    with pytest.raises(ImageError, match=r"bad\.jpg"):
        EmotionDataset.from_directory(tmp_path)


def test_truncated_jpeg_skip_lists_it(tmp_path):
    make_tree(tmp_path, {"happy": 1, "sad": 1})
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48), np.uint8)).save(buf, "JPEG")
    (tmp_path / "sad" / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.jpg"):
        EmotionDataset.from_directory(tmp_path)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        ds = EmotionDataset.from_directory(tmp_path, errors="skip")
    assert len(ds["train"]) == 2
    assert ds.skipped[0][0].endswith("cut.jpg")
    assert "skipped: 1" in ds.summary()


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError, match="no images found"):
        EmotionDataset.from_directory(tmp_path)


def test_images_without_class_folders(tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes(1))
    (tmp_path / "b.png").write_bytes(png_bytes(2))
    with pytest.raises(ValueError, match="outside any class folder"):
        EmotionDataset.from_directory(tmp_path)


def test_one_class_only(tmp_path):
    make_tree(tmp_path, {"happy": 2})
    with pytest.raises(ValueError, match="one class folder only"):
        EmotionDataset.from_directory(tmp_path)


needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")


@needs_symlinks
def test_a_class_folder_that_is_a_link_is_followed(tmp_path):
    make_tree(tmp_path / "elsewhere", {"sad": 2})
    root = make_tree(tmp_path / "faces", {"happy": 3})
    (root / "sad").symlink_to(tmp_path / "elsewhere" / "sad", target_is_directory=True)
    (root / "happy" / "loop").symlink_to(root, target_is_directory=True)  # must not recurse
    ds = EmotionDataset.from_directory(root)
    assert ds.label_names == ("happy", "sad")
    assert ds.class_counts("train") == {"happy": 3, "sad": 2}
    assert str(root / "sad" / "0.png") in ds["train"].sources


@pytest.mark.parametrize("zipped", [False, True])
def test_class_folders_spelled_in_two_unicode_normalisations_are_refused(tmp_path, zipped):
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    root = make_tree(tmp_path / "faces", {nfc: 2, nfd: 2, "tea": 2})
    if len(os.listdir(root)) < 3:  # a file system that normalises names (macOS)
        pytest.skip("this file system stores both spellings under one name")
    path = zip_tree(root, tmp_path / "faces.zip") if zipped else root
    with pytest.raises(ValueError, match="NFC vs NFD") as info:
        EmotionDataset.from_directory(path)
    message = str(info.value)
    assert ascii(nfc) in message and ascii(nfd) in message
    sep = ":" if zipped else os.sep
    assert f"{path}{sep}{nfc}" in message and f"{path}{sep}{nfd}" in message


@pytest.mark.parametrize("zipped", [False, True])
def test_a_class_folder_without_images_is_refused_naming_it(tmp_path, zipped):
    root = make_tree(tmp_path / "faces", {"happy": 2, "sad": 2})
    (root / "fear").mkdir()
    (root / "disgust").mkdir()
    (root / "disgust" / "notes.txt").write_text("to do")
    if zipped:
        path = zip_tree(root, tmp_path / "faces.zip")
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("fear/", b"")  # the folder, listed as a member
    else:
        path = root
    with pytest.raises(ValueError, match="class folder.* with no images") as info:
        EmotionDataset.from_directory(path)
    sep = ":" if zipped else os.sep
    assert f"{path}{sep}fear" in str(info.value)
    assert f"{path}{sep}disgust" in str(info.value)


def test_an_empty_class_folder_in_one_split_loses_no_label(tmp_path):
    root = make_tree(tmp_path / "faces", {"happy": 2, "sad": 2}, ("train",))
    make_tree(root, {"happy": 1}, ("test",))
    (root / "test" / "sad").mkdir()
    ds = EmotionDataset.from_directory(root)
    assert ds.label_names == ("happy", "sad") and len(ds["test"]) == 1


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        EmotionDataset.from_directory(tmp_path / "nope")


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_text("hello")
    with pytest.raises(ValueError, match="neither a folder nor a zip"):
        EmotionDataset.from_directory(tmp_path / "x.zip")


@pytest.mark.parametrize("member", ["../evil/happy/x.png", "/abs/happy/x.png", "a/../../x.png"])
def test_zip_slip_refused(tmp_path, member):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("happy/1.png", png_bytes(1))
        zf.writestr("sad/1.png", png_bytes(2))
        zf.writestr(member, png_bytes(3))
    with pytest.raises(ValueError, match="escapes the archive"):
        EmotionDataset.from_directory(z)


def test_bad_errors_argument(tiny_tree):
    with pytest.raises(ValueError, match="errors="):
        EmotionDataset.from_directory(tiny_tree, errors="ignore")


# ----------------------------------------------------------------------------- csv
def write_csv(path: Path, rows: list[str], header: str = "emotion,pixels,Usage") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def px(n: int = 4, v: int = 5) -> str:
    return " ".join([str(v)] * n)


def test_from_csv_usages(tmp_path):
    p = write_csv(
        tmp_path / "f.csv",
        [
            f"3,{px()},Training",
            f"6,{px(v=9)},PublicTest",
            f"0,{px()},PrivateTest",
            f"4,{px()},Training",
        ],
    )
    ds = EmotionDataset.from_csv(p)
    assert ds.split_names == ("train", "public_test", "private_test")
    assert ds.label_names == LABELS
    assert [LABELS[i] for i in ds["train"].labels] == ["happy", "sad"]
    assert ds["public_test"].images.shape == (1, 2, 2, 1)
    assert int(ds["public_test"].images.max()) == 9


def test_icml_style_header_with_spaces(tmp_path):
    p = write_csv(tmp_path / "icml.csv", [f"3, Training,{px()}"], header="emotion, Usage, pixels")
    assert len(EmotionDataset.from_csv(p)["train"]) == 1


@pytest.mark.parametrize(
    "row,message",
    [
        (f"3,{px(3)},Training", r":3: 3 pixel values; expected 4"),
        ("3,1 2 x 4,Training", r":3: pixel value 'x' is not an integer"),
        ("3,1 2 3 256,Training", r":3: pixel value 256 is outside 0..255"),
        ("3,1 2 3 -1,Training", r":3: pixel value -1 is outside 0..255"),
        (f"7,{px()},Training", r":3: emotion code 7 is out of range"),
        (f"x,{px()},Training", r":3: emotion 'x' is not an integer"),
        (f"3,{px()}", r":3: 2 fields; expected 3"),
    ],
)
def test_csv_bad_rows_name_line(tmp_path, row, message):
    p = write_csv(tmp_path / "f.csv", [f"3,{px()},Training", row])
    with pytest.raises(ValueError, match=message):
        EmotionDataset.from_csv(p)


def test_csv_missing_column(tmp_path):
    p = write_csv(tmp_path / "f.csv", ["3,Training"], header="emotion,Usage")
    with pytest.raises(ValueError, match="missing column.*pixels"):
        EmotionDataset.from_csv(p)


def test_csv_not_square(tmp_path):
    p = write_csv(tmp_path / "f.csv", [f"3,{px(5)},Training"])
    with pytest.raises(ValueError, match="not a square"):
        EmotionDataset.from_csv(p)
    assert EmotionDataset.from_csv(p, image_size=(1, 5))["train"].images.shape == (1, 1, 5, 1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    images=st.integers(1, 6).flatmap(
        lambda n: st.lists(st.binary(min_size=9, max_size=9), min_size=n, max_size=n)
    ),
    data=st.data(),
)
def test_csv_roundtrip_is_pixel_exact(tmp_path_factory, images, data):
    arr = np.frombuffer(b"".join(images), np.uint8).reshape(-1, 3, 3)
    labels = data.draw(st.lists(st.integers(0, 6), min_size=len(arr), max_size=len(arr)))
    ds = EmotionDataset.from_arrays(arr, labels, split="public_test")
    p = ds.to_csv(tmp_path_factory.mktemp("csv") / "out.csv")
    back = EmotionDataset.from_csv(p)
    assert back.split_names == ("public_test",)
    np.testing.assert_array_equal(back["public_test"].images[..., 0], arr)
    np.testing.assert_array_equal(back["public_test"].labels, labels)


def test_folder_to_csv_roundtrip_with_aliases(tiny_tree, tmp_path):
    ds = EmotionDataset.from_directory(tiny_tree)
    back = EmotionDataset.from_csv(ds.to_csv(tmp_path / "rt.csv"))
    assert back.split_names == ds.split_names  # test stays test
    for s in ds.split_names:
        np.testing.assert_array_equal(back[s].images, ds[s].images)
        assert [back.label_names[i] for i in back[s].labels] == [
            ds.label_names[i] for i in ds[s].labels
        ]


def test_to_csv_refuses_to_overwrite(tmp_path):
    ds = EmotionDataset.from_arrays(np.zeros((1, 2, 2), np.uint8), [0])
    target = tmp_path / "x.csv"
    target.write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ds.to_csv(target)
    assert target.read_text() == "precious"
    ds.to_csv(target, overwrite=True)
    assert target.read_text().startswith("emotion,pixels,Usage")


def test_custom_labels_csv_codes_are_indices(tmp_path):
    ds = EmotionDataset.from_arrays(np.zeros((2, 2, 2), np.uint8), [0, 1], ["cat", "dog"])
    back = EmotionDataset.from_csv(ds.to_csv(tmp_path / "c.csv"), label_names=["cat", "dog"])
    assert back["train"].labels.tolist() == [0, 1]


# ----------------------------------------------------------------------------- FER2013 itself
@pytest.mark.slow
@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "shared").exists(),
    reason="../shared/datasets/fer2013 is not beside the checkout",
)
def test_real_fer2013_zip(tmp_path):
    zpath = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fer2013" / "fer2013.zip"
    ds = EmotionDataset.from_directory(zpath)
    assert len(ds["train"]) == 28709 and len(ds["test"]) == 3589
    assert ds.label_names == LABELS
    assert ds.class_counts("train") == {
        "angry": 3995,
        "disgust": 436,
        "fear": 4097,
        "happy": 7215,
        "sad": 4830,
        "surprise": 3171,
        "neutral": 4965,
    }
    assert ds.class_counts("test") == {
        "angry": 467,
        "disgust": 56,
        "fear": 496,
        "happy": 895,
        "sad": 653,
        "surprise": 415,
        "neutral": 607,
    }
    back = EmotionDataset.from_csv(ds.to_csv(tmp_path / "fer2013.csv"))
    for s in ("train", "test"):
        np.testing.assert_array_equal(back[s].images, ds[s].images)
        np.testing.assert_array_equal(back[s].labels, ds[s].labels)


def test_resize_on_read_is_the_pixel_contract(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (100, 80, 3), np.uint8)
    for klass in ("happy", "sad"):
        (tmp_path / klass).mkdir()
        Image.fromarray(noise).save(tmp_path / klass / "1.png")
    ds = EmotionDataset.from_directory(tmp_path, color_mode="rgb", image_size=(48, 48))
    np.testing.assert_array_equal(ds["train"].images[0], resize(noise, (48, 48)))


def test_read_class_folders_reports_instead_of_warning(tmp_path, recwarn):
    make_tree(tmp_path, {"happy": 2, "sad": 1}, ("train", "val"))
    (tmp_path / "train" / "sad" / "notes.txt").write_text("hi")
    (tmp_path / "val" / "sad" / "bad.png").write_bytes(b"not a png")
    read = read_class_folders(tmp_path, errors="skip")
    assert not recwarn.list
    assert list(read.splits) == ["train", "val"] and read.label_names == ("happy", "sad")
    assert read.not_images == 1 and read.skipped[0][0].endswith("bad.png")
    train = read.splits["train"]
    assert train.images.shape == (3, 48, 48, 1) and train.labels.tolist() == [0, 0, 1]


@pytest.mark.parametrize("member", ["C:/happy/x.png", "happy/../../x.png"])
def test_read_class_folders_refuses_unsafe_members(tmp_path, member):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("happy/1.png", png_bytes(1))
        zf.writestr(zipfile.ZipInfo(member), png_bytes(3))
    with pytest.raises(ValueError, match="escapes the archive"):
        read_class_folders(z)


def test_split_sort_key():
    names = ["private_test", "zeta", "test", "val", "train", "public_test"]
    assert sorted(names, key=split_sort_key) == [
        "train",
        "val",
        "test",
        "public_test",
        "private_test",
        "zeta",
    ]


def test_write_and_read_fer2013_csv(tmp_path):
    images = np.arange(12, dtype=np.uint8).reshape(2, 2, 3, 1)
    parts = {"private_test": SplitArrays(images, np.array([1, 0]), ("a", "b"))}
    p = write_fer2013_csv(tmp_path / "f.csv", parts, ["sad", "happy"])
    assert p.read_text().splitlines()[1:] == [
        "3,0 1 2 3 4 5,PrivateTest",  # FER codes: happy is 3, sad is 4
        "4,6 7 8 9 10 11,PrivateTest",
    ]
    read = read_fer2013_csv(p, label_names=LABELS, image_size=(2, 3))
    np.testing.assert_array_equal(read.splits["private_test"].images, images)
    assert read.splits["private_test"].sources == ("f.csv:2", "f.csv:3")


def test_write_fer2013_csv_refuses_colour_and_leaves_nothing(tmp_path):
    parts = {"train": SplitArrays(np.zeros((1, 2, 2, 3), np.uint8), np.array([0]), ("a",))}
    with pytest.raises(ValueError, match="'train' is not grayscale"):
        write_fer2013_csv(tmp_path / "f.csv", parts, ["a", "b"])
    assert list(tmp_path.iterdir()) == []


def test_read_fer2013_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv: no such file"):
        read_fer2013_csv(tmp_path / "nope.csv")
