from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import make_tree, png_bytes, zip_tree
from emorec import EmotionDataset, ImageError
from emorec.labels import LABELS


# ----------------------------------------------------------------------------- from_directory
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


# ----------------------------------------------------------------------------- arrays, splits
@pytest.mark.parametrize(
    "images,labels,message",
    [
        (np.zeros((2, 4, 4, 2)), [0, 1], r"expected \(N, H, W\)"),
        (np.zeros((2, 4, 4)), [0], "labels of shape"),
        (np.zeros((2, 4, 4)), [0, 9], "label 9 is out of range"),
        (np.full((2, 4, 4), 300.0), [0, 1], "0..255"),
    ],
)
def test_from_arrays_errors(images, labels, message):
    with pytest.raises(ValueError, match=message):
        EmotionDataset.from_arrays(images, labels)


def test_split_is_stratified_and_reproducible():
    labels = [0] * 50 + [3] * 30 + [6] * 20
    ds = EmotionDataset.from_arrays(np.arange(100, dtype=np.uint8)[:, None, None], labels)
    a = ds.split("val", fraction=0.1, seed=1)
    b = ds.split("val", fraction=0.1, seed=1)
    c = ds.split("val", fraction=0.1, seed=2)
    assert a["val"].class_counts() == {
        **dict.fromkeys(LABELS, 0),
        "angry": 5,
        "happy": 3,
        "neutral": 2,
    }
    np.testing.assert_array_equal(a["val"].images, b["val"].images)
    assert not np.array_equal(a["val"].images, c["val"].images)
    # disjoint and complete
    seen = np.concatenate([a["train"].images.ravel(), a["val"].images.ravel()])
    assert sorted(seen.tolist()) == list(range(100))
    assert ds.split_names == ("train",)  # the original is unchanged
    with pytest.raises(ValueError, match="exists already"):
        a.split("val")


def test_class_weights_balanced():
    ds = EmotionDataset.from_arrays(np.zeros((6, 2, 2), np.uint8), [0, 0, 0, 0, 1, 1], ["a", "b"])
    w = ds.class_weights()
    assert w[0] == pytest.approx(6 / (2 * 4)) and w[1] == pytest.approx(6 / (2 * 2))


def test_summary_and_repr(tiny_tree):
    ds = EmotionDataset.from_directory(tiny_tree)
    text = ds.summary()
    assert "happy" in text and text.splitlines()[0].split() == ["class", "train", "test", "total"]
    assert "total" in text.splitlines()[-2]
    assert repr(ds) == "EmotionDataset(train=7, test=7; labels=['angry', 'happy', 'sad'])"
    with pytest.raises(KeyError, match="no split 'val'.*train, test"):
        ds["val"]


# ----------------------------------------------------------------------------- to_tf
def test_to_tf_shapes_and_labels():
    images = np.stack([np.full((48, 48), i, np.uint8) for i in range(10)])
    ds = EmotionDataset.from_arrays(images, [i % 7 for i in range(10)])
    batches = list(ds.to_tf("train", batch_size=4, shuffle=False))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 48, 48, 1)] * 2 + [(2, 48, 48, 1)]
    x, y = batches[0]
    assert x.dtype.name == "float32" and y.numpy().tolist() == [0, 1, 2, 3]
    assert x.numpy()[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_to_tf_rgb_resize_categorical_shuffle():
    ds = EmotionDataset.from_arrays(np.zeros((8, 48, 48), np.uint8), list(range(7)) + [0])
    x, y = next(
        iter(
            ds.to_tf(
                "train", 8, image_size=(40, 40), color_mode="rgb", label_mode="categorical", seed=1
            )
        )
    )
    assert tuple(x.shape) == (8, 40, 40, 3)
    assert tuple(y.shape) == (8, 7) and float(y.numpy().sum()) == 8.0


def test_to_tf_augment_changes_images_within_range():
    rng = np.random.default_rng(0)
    ds = EmotionDataset.from_arrays(rng.integers(0, 256, (8, 48, 48), np.uint8), [0] * 8)
    plain = next(iter(ds.to_tf("train", 8, shuffle=False)))[0].numpy()
    aug = next(iter(ds.to_tf("train", 8, shuffle=False, augment=True, seed=3)))[0].numpy()
    assert aug.shape == plain.shape
    assert not np.allclose(aug, plain)
    assert aug.min() >= 0 and aug.max() <= 255


def test_augment_options_and_random_erasing():
    from emorec.data.augment import make_augmenter

    ds = EmotionDataset.from_arrays(np.full((16, 48, 48), 128, np.uint8), [0] * 16)
    only_erasing = {"shift": 0, "flip": False, "rotation": 0, "brightness": 0, "contrast": 0}
    x = next(iter(ds.to_tf("train", 16, shuffle=False, augment={**only_erasing, "erasing": 1.0})))
    changed = (x[0].numpy() != 128).reshape(16, -1)
    # every image has one erased rectangle, 2-33 % of the image, the rest untouched
    assert changed.any(axis=1).all()
    assert 0.0 < changed.mean() < 0.34
    with pytest.raises(ValueError, match="unknown augmentation option.*blur"):
        make_augmenter({"blur": 1})
    with pytest.raises(ValueError, match="erasing=1.5"):
        make_augmenter({"erasing": 1.5})
    with pytest.raises(TypeError, match="augment=3"):
        make_augmenter(3)
    assert make_augmenter(None) is None


def test_to_tf_errors():
    ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1])
    with pytest.raises(KeyError, match="no split 'val'"):
        ds.to_tf("val")
    with pytest.raises(ValueError, match="batch_size"):
        ds.to_tf("train", batch_size=0)
    with pytest.raises(ValueError, match="color_mode"):
        ds.to_tf("train", color_mode="hsv")


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


def test_map_labels_merges_and_drops():
    ds = EmotionDataset.from_arrays(np.arange(7, dtype=np.uint8)[:, None, None], list(range(7)))
    three = ds.map_labels(
        {
            "negative": ["angry", "disgust", "fear", "sad"],
            "positive": "happy",
            "other": ["surprise", "neutral"],
        }
    )
    assert three.label_names == ("negative", "positive", "other")
    assert three["train"].labels.tolist() == [0, 0, 0, 1, 0, 2, 2]
    with pytest.raises(ValueError, match="no new label takes in disgust"):
        ds.map_labels({"a": ["angry"], "b": ["fear", "happy", "sad", "surprise", "neutral"]})
    two = ds.map_labels({"a": "angry", "h": "happy"}, drop_unmapped=True)
    assert two["train"].images[:, 0, 0, 0].tolist() == [0, 3]
    with pytest.raises(ValueError, match="'pain' is not a label"):
        ds.map_labels({"x": "pain"})
    with pytest.raises(ValueError, match="mapped twice"):
        ds.map_labels({"x": "sad", "y": "sad"}, drop_unmapped=True)
