"""Tests for emorec.data.shards (and shard_writer, shard_files, sharded_split): datasets written
as TFRecord shards with a manifest and streamed back, the same splits, labels and batches."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

from conftest import separable_dataset
from emorec import DatasetSplit, EmotionDataset
from emorec.data import sharded_split
from emorec.data.shard_writer import ShardWriter
from emorec.data.sharded_split import InMemoryWarning, ShardedImages, ShardedSplit
from emorec.data.shards import MANIFEST, read_manifest

NAMES = ("neg", "pos", "other")


def fer_like(n_train: int = 30, n_test: int = 12, size: int = 12) -> EmotionDataset:
    """Three classes; ``train`` with FER+-style vote distributions and two label sets."""
    rng = np.random.default_rng(0)
    y = np.arange(n_train) % 3
    votes = rng.integers(0, 3, (n_train, 3)).astype(np.float32)
    votes[np.arange(n_train), y] += 6
    images = rng.integers(0, 256, (n_train, size, size, 1), dtype=np.uint8)
    fer2013 = np.where(np.arange(n_train) % 5 == 0, -1, (y + 1) % 3)
    train = DatasetSplit(
        "train",
        images,
        y.astype(np.int64),
        NAMES,
        tuple(f"train/{i}.png" for i in range(n_train)),
        votes / votes.sum(axis=1, keepdims=True),
        {"fer2013": fer2013.astype(np.int64), "ferplus": y.astype(np.int64)},
    )
    test_images = rng.integers(0, 256, (n_test, size, size, 1), dtype=np.uint8)
    test = DatasetSplit(
        "test",
        test_images,
        np.arange(n_test, dtype=np.int64) % 3,
        NAMES,
        tuple(f"test/{i}.png" for i in range(n_test)),
    )
    return EmotionDataset({"train": train, "test": test}, NAMES, skipped=[("bad.png", "odd")])


def array(images) -> np.ndarray:
    """A split's images as one array, without the warning that reading shards gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InMemoryWarning)
        return np.asarray(images)


def content(data) -> list[tuple[bytes, tuple[float, ...]]]:
    """Every (image, label) of a tf.data feed, sorted: what it holds, whatever the order."""
    pairs = []
    for x, y in data:
        for image, label in zip(x.numpy(), y.numpy()):
            pairs.append((image.tobytes(), tuple(np.atleast_1d(label).round(5).tolist())))
    return sorted(pairs)


@pytest.fixture
def fer():
    return fer_like()


@pytest.fixture
def sharded(fer, tmp_path):
    return EmotionDataset.from_shards(fer.to_shards(tmp_path / "shards", shards=4))


# ----------------------------------------------------------------------------- round trip
def test_round_trip_keeps_everything(fer, sharded, tmp_path):
    assert sharded.split_names == fer.split_names and sharded.label_names == NAMES
    assert sharded.skipped == (("bad.png", "odd"),)
    for name in fer.split_names:
        a, b = fer[name], sharded[name]
        assert isinstance(b, ShardedSplit) and isinstance(b.images, ShardedImages)
        assert len(b) == len(a) and b.images.shape == a.images.shape
        np.testing.assert_array_equal(array(b.images), a.images)
        np.testing.assert_array_equal(b.labels, a.labels)
        assert b.sources == a.sources
        assert set(b.label_sets) == set(a.label_sets)
        for key in a.label_sets:
            np.testing.assert_array_equal(b.label_sets[key], a.label_sets[key])
        if a.targets is None:
            assert b.targets is None
        else:
            np.testing.assert_allclose(b.targets, a.targets)
    assert sharded.class_counts() == fer.class_counts()
    assert sharded.class_weights() == fer.class_weights()
    assert sharded.summary() == fer.summary()
    files = sorted(os.listdir(tmp_path / "shards"))
    assert files[0] == MANIFEST and "train-00003.tfrecord" in files and "test-index.npz" in files


def test_counts_come_from_the_manifest_without_reading_images(sharded, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("read the records")

    monkeypatch.setattr(sharded_split, "_stream", no_reading)
    assert len(sharded) == 42 and sharded.class_counts("train")["neg"] == 10
    assert sharded.class_weights("train") == {0: 1.0, 1: 1.0, 2: 1.0}
    carved = sharded.split("val", fraction=0.2, seed=0)
    assert len(carved["val"]) == 6 and isinstance(carved["val"], ShardedSplit)
    assert sharded["train"].images.shape == (30, 12, 12, 1)


def test_rgb_round_trip_and_resharding_a_sharded_dataset(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    ds = EmotionDataset.from_arrays(images, [0, 1, 2, 0, 1, 2, 0], NAMES)
    once = EmotionDataset.from_shards(ds.to_shards(tmp_path / "a", shards=3))
    twice = EmotionDataset.from_shards(once.to_shards(tmp_path / "b", shards=2))
    np.testing.assert_array_equal(array(twice["train"].images), images)
    assert twice["train"].sources == ds["train"].sources
    assert [s["records"] for s in read_manifest(tmp_path / "b")["splits"]["train"]["shards"]] == [
        4,
        3,
    ]


def test_only_the_splits_asked_for(fer, tmp_path):
    back = EmotionDataset.from_shards(fer.to_shards(tmp_path / "s", splits=["test"]))
    assert back.split_names == ("test",)
    with pytest.raises(KeyError, match="valid"):
        fer.to_shards(tmp_path / "t", splits=["valid"])
    with pytest.raises(ValueError, match="shards=0"):
        fer.to_shards(tmp_path / "u", shards=0)


# ----------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("label_mode", ["int", "categorical", "probability"])
def test_to_tf_streams_the_same_batches_as_memory(fer, sharded, label_mode):
    kw = dict(batch_size=8, shuffle=True, seed=3, label_mode=label_mode)
    assert content(sharded.to_tf("train", **kw)) == content(fer.to_tf("train", **kw))


def test_to_tf_converts_size_and_colour_as_memory_does(fer, sharded):
    kw = dict(batch_size=5, image_size=(20, 16), color_mode="rgb")
    mem, shard = fer.to_tf("test", **kw), sharded.to_tf("test", **kw)
    assert content(shard) == content(mem)
    x, _ = next(iter(shard))
    assert tuple(x.shape) == (5, 20, 16, 3) and x.dtype.name == "float32"


def test_unshuffled_stream_keeps_the_split_order(fer, sharded):
    mem = [y.numpy().tolist() for _, y in fer.to_tf("train", batch_size=7, shuffle=False)]
    shard = [y.numpy().tolist() for _, y in sharded.to_tf("train", batch_size=7, shuffle=False)]
    assert shard == mem
    x_mem = np.concatenate([x.numpy() for x, _ in fer.to_tf("test", batch_size=5)])
    x_shard = np.concatenate([x.numpy() for x, _ in sharded.to_tf("test", batch_size=5)])
    np.testing.assert_array_equal(x_shard, x_mem)


def test_shuffled_epochs_differ_and_a_seed_repeats_them(sharded):
    def order(data):
        return [y.numpy().tolist() for _, y in data]

    feed = sharded.to_tf("train", batch_size=30, shuffle=True, seed=0)
    first, second = order(feed), order(feed)
    assert first != second  # reshuffled each epoch
    assert order(sharded.to_tf("train", batch_size=30, shuffle=True, seed=0)) == first


def test_augmentation_runs_in_the_stream(sharded):
    kw = dict(batch_size=30, shuffle=False, seed=0, augment=True)
    (a, ya), (b, _) = (
        next(iter(sharded.to_tf("train", **kw))),
        next(iter(sharded.to_tf("train", **kw))),
    )
    plain, _ = next(iter(sharded.to_tf("train", batch_size=30, shuffle=False)))
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # seeded: the same augmentation
    assert not np.array_equal(a.numpy(), plain.numpy())
    assert a.numpy().min() >= 0 and a.numpy().max() <= 255 and a.shape == plain.shape
    np.testing.assert_array_equal(ya.numpy(), sharded["train"].labels)


def test_carved_split_streams_only_its_records(fer, sharded):
    mem = fer.split("val", fraction=0.3, seed=4)
    shard = sharded.split("val", fraction=0.3, seed=4)
    for name in ("train", "val"):
        np.testing.assert_array_equal(shard[name].labels, mem[name].labels)
        assert shard[name].sources == mem[name].sources
        kw = dict(batch_size=4, label_mode="probability")
        assert content(shard.to_tf(name, **kw)) == content(mem.to_tf(name, **kw))


def test_map_labels_and_drop_duplicates_keep_the_images_in_the_files(fer, sharded):
    mapping = {"a": ["neg", "other"], "b": "pos"}
    mem, shard = fer.map_labels(mapping), sharded.map_labels(mapping)
    assert isinstance(shard["train"], ShardedSplit) and shard.label_names == ("a", "b")
    np.testing.assert_allclose(shard["train"].targets, mem["train"].targets)
    assert content(shard.to_tf("train", batch_size=8)) == content(mem.to_tf("train", batch_size=8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InMemoryWarning)  # comparing pixels reads them
        dropped = sharded.drop_duplicates("test")
    assert isinstance(dropped["test"], ShardedSplit) and len(dropped["test"]) == 12


def test_to_keras_reads_the_split_with_a_warning(fer, sharded):
    with pytest.warns(InMemoryWarning, match=r"'test': its 12 images .* MiB"):
        batches = sharded.to_keras("test", batch_size=5)
    x, y = batches[0]
    np.testing.assert_array_equal(x, fer.to_keras("test", batch_size=5)[0][0])
    assert y.tolist() == [0, 1, 2, 0, 1]


# ----------------------------------------------------------------------------- .images
def test_images_as_an_array_warn_with_the_size_and_index_reads_only_those(fer, sharded):
    images = sharded["train"].images
    with pytest.warns(InMemoryWarning, match=r"split 'train': its 30 images are read .*MiB"):
        whole = np.asarray(images)
    np.testing.assert_array_equal(whole, fer["train"].images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # indexing reads only what it asks for, silently
        np.testing.assert_array_equal(images[[29, 3, 3]], fer["train"].images[[29, 3, 3]])
        np.testing.assert_array_equal(images[4], fer["train"].images[4])
        np.testing.assert_array_equal(images[-3:], fer["train"].images[-3:])
    assert "30 images of 12x12x1 in 4 shard files" in repr(images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # iterating streams
        streamed = [image for image in sharded["train"].take([1, 5, 29]).images]
    np.testing.assert_array_equal(np.stack(streamed), fer["train"].images[[1, 5, 29]])
    with pytest.warns(InMemoryWarning):  # out of the files' order: read first
        backwards = list(sharded["train"].take([29, 5]).images)
    np.testing.assert_array_equal(np.stack(backwards), fer["train"].images[[29, 5]])


def test_images_larger_than_memory_are_refused(sharded, monkeypatch):
    monkeypatch.setattr(sharded_split, "_available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"more than the 0.0 MiB .* EmotionDataset.to_tf"):
        np.asarray(sharded["train"].images)


def test_a_sharded_split_cannot_repeat_records(sharded):
    with pytest.raises(ValueError, match="streams each record once"):
        sharded["train"].take([0, 0])


# ----------------------------------------------------------------------------- the manifest
def test_missing_shard_is_named(fer, tmp_path):
    folder = fer.to_shards(tmp_path / "s", shards=2)
    os.remove(os.path.join(folder, "train-00001.tfrecord"))
    with pytest.raises(FileNotFoundError, match=r"train-00001\.tfrecord: missing"):
        EmotionDataset.from_shards(folder)


def test_truncated_shard_is_named(fer, tmp_path):
    folder = fer.to_shards(tmp_path / "s", shards=2)
    path = os.path.join(folder, "test-00000.tfrecord")
    with open(path, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(data[:-10])
    with pytest.raises(ValueError, match=r"test-00000\.tfrecord: .* bytes; manifest.json says"):
        EmotionDataset.from_shards(folder)


@pytest.mark.parametrize("name", ["train-00000.tfrecord", "train-index.npz"])
def test_changed_file_is_caught_by_its_sha256(fer, tmp_path, name):
    folder = fer.to_shards(tmp_path / "s", shards=2)
    path = os.path.join(folder, name)
    with open(path, "r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ValueError, match=rf"{name}: its SHA-256 differs"):
        EmotionDataset.from_shards(folder)
    if name.endswith(".tfrecord"):  # without the hashes, TFRecord's own checksums still catch it
        loose = EmotionDataset.from_shards(folder, verify=False)
        with pytest.raises(Exception, match="corrupted record|checksum|DataLoss"):
            content(loose.to_tf("train", batch_size=8))


def test_newer_or_foreign_or_broken_manifest_is_refused(fer, tmp_path):
    folder = fer.to_shards(tmp_path / "s")
    path = os.path.join(folder, MANIFEST)
    with open(path) as fh:
        manifest = json.load(fh)
    for change, message in [
        ({"format_version": 2}, r"format version 2, written by a newer emorec .* upgrade emorec"),
        ({"format": "other"}, r"format 'other'; expected 'emorec-shards'"),
    ]:
        with open(path, "w") as fh:
            json.dump({**manifest, **change}, fh)
        with pytest.raises(ValueError, match=message) as caught:
            EmotionDataset.from_shards(folder)
        assert MANIFEST in str(caught.value)
    with open(path, "w") as fh:
        fh.write("{not json")
    with pytest.raises(ValueError, match=r"manifest.json: not valid JSON"):
        EmotionDataset.from_shards(folder)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        EmotionDataset.from_shards(tmp_path / "nowhere")


# ----------------------------------------------------------------------------- atomic writes
def test_interrupted_write_leaves_no_manifest_and_no_files(fer, tmp_path, monkeypatch):
    from emorec.data import shard_writer

    real, calls = shard_writer._example, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(shard_writer, "_example", failing)
    with pytest.raises(KeyboardInterrupt):
        fer.to_shards(tmp_path / "s", shards=3)
    assert os.listdir(tmp_path / "s") == []
    with pytest.raises(FileNotFoundError, match="no manifest.json; .* did not finish"):
        EmotionDataset.from_shards(tmp_path / "s")


def test_killed_write_leaves_temporaries_that_overwrite_clears(fer, tmp_path):
    writer = ShardWriter(tmp_path / "s", NAMES, records_per_shard=2)
    for i in range(3):
        writer.add("train", np.zeros((4, 4), np.uint8), i % 3)
    # the process dies here: no close, no abort
    left = os.listdir(tmp_path / "s")
    assert left and MANIFEST not in left and all(".emorec-tmp-" in n for n in left)
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        EmotionDataset.from_shards(tmp_path / "s")
    with pytest.raises(FileExistsError, match=r"not empty \(2 entries.* overwrite=True"):
        fer.to_shards(tmp_path / "s")
    fer.to_shards(tmp_path / "s", overwrite=True)
    assert not [n for n in os.listdir(tmp_path / "s") if ".emorec-tmp-" in n]
    assert len(EmotionDataset.from_shards(tmp_path / "s")) == 42


def test_overwrite_replaces_old_shards_and_keeps_other_files(fer, tmp_path):
    folder = fer.to_shards(tmp_path / "s", shards=4)
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        fer.to_shards(folder)
    fer.to_shards(folder, shards=1, splits=["test"], overwrite=True)
    assert sorted(os.listdir(folder)) == [
        MANIFEST,
        "notes.txt",
        "test-00000.tfrecord",
        "test-index.npz",
    ]
    assert EmotionDataset.from_shards(folder).split_names == ("test",)


def test_writer_refuses_mixed_shapes_and_partial_targets(tmp_path):
    with ShardWriter(tmp_path / "a", NAMES) as writer:
        writer.add("train", np.zeros((4, 4), np.uint8), 0)
        with pytest.raises(ValueError, match=r"shape \(5, 4, 1\), the split's first \(4, 4, 1\)"):
            writer.add("train", np.zeros((5, 4), np.uint8), 0, source="x.png")
        with pytest.raises(ValueError, match="give them for all or none"):
            writer.add("train", np.zeros((4, 4), np.uint8), 0, targets=[1, 0, 0])
        with pytest.raises(ValueError, match="label 3 is out of range"):
            writer.add("train", np.zeros((4, 4), np.uint8), 3)
        with pytest.raises(ValueError, match="names the shard files"):
            writer.add("../up", np.zeros((4, 4), np.uint8), 0)
    assert len(EmotionDataset.from_shards(tmp_path / "a")) == 1


# ----------------------------------------------------------------------------- training
def small_net(input_shape, num_classes):
    import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)  # the classes differ in brightness
    x = keras.layers.Dense(8, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


def test_trainer_on_shards_reaches_the_in_memory_accuracy(tmp_path):
    import keras

    from emorec import Trainer

    ds = separable_dataset(n=90, size=16)
    sharded = EmotionDataset.from_shards(ds.to_shards(tmp_path / "shards", shards=3))
    results = {}
    for name, data in [("memory", ds), ("shards", sharded)]:
        keras.utils.set_random_seed(0)
        trainer = Trainer(
            small_net((16, 16, 1), 3),
            data,
            epochs=8,
            batch_size=16,
            seed=0,
            val_split=0.2,
            optimizer="adam",
            learning_rate=0.1,
            weight_decay=0,
            augment=False,
            output_dir=tmp_path / name,
            verbose=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InMemoryWarning)  # calibration reads val
            history = trainer.fit()
        results[name] = history.history["val_accuracy"][-1]
        assert (tmp_path / name / "final.keras").exists()
    assert results["memory"] >= 0.9, results  # it learns
    assert abs(results["shards"] - results["memory"]) <= 0.12, results


def test_the_command_line_reads_a_shard_folder(fer, sharded, tmp_path, capsys):
    import json

    from emorec.cli import main

    folder = tmp_path / "shards"  # the fixture's
    assert main(["dataset", "summary", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"] == {s: fer.class_counts(s) for s in fer.split_names}
    assert main(["dataset", "summary", str(folder), "--ferplus"]) == 2
    assert "shards carry the FER+ votes" in capsys.readouterr().err
