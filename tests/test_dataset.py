"""Tests for emorec.data.dataset: the container (arrays, splits, weights, labels, summary)."""

from __future__ import annotations

import numpy as np
import pytest

from emorec import EmotionDataset
from emorec.labels import LABELS


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


@pytest.mark.smoke
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
