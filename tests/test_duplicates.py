"""Tests for emorec.data.duplicates and EmotionDataset.drop_duplicates."""

from __future__ import annotations

import numpy as np
import pytest

from emorec import DatasetSplit, EmotionDataset
from emorec.data.duplicates import duplicate_groups, image_digests, seen_in


def two_splits():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (6, 48, 48, 1), np.uint8)
    test = rng.integers(0, 256, (4, 48, 48, 1), np.uint8)
    train[5] = train[1]  # a copy within train
    test[0] = train[1]  # and across
    test[2] = train[3]
    test[3, 0, 0, 0] ^= 1  # one pixel off: not a copy
    names = ("a", "b")
    return EmotionDataset(
        {
            "train": DatasetSplit("train", train, np.arange(6) % 2, names),
            # copies may carry other labels (FER2013's do): pixels decide
            "test": DatasetSplit("test", test, np.array([0, 1, 0, 1]), names),
        },
        names,
    )


def test_groups_within_and_across_splits():
    groups = duplicate_groups(two_splits())
    assert sorted(map(sorted, groups)) == [
        [("test", 0), ("train", 1), ("train", 5)],
        [("test", 2), ("train", 3)],
    ]
    assert duplicate_groups(two_splits(), ["test"]) == []


def test_seen_in_and_drop_duplicates():
    ds = two_splits()
    assert seen_in(ds, "test", "train").tolist() == [True, False, True, False]
    unseen = ds.drop_duplicates("test", of="train")
    assert len(unseen["test"]) == 2 and len(unseen["train"]) == 6
    np.testing.assert_array_equal(unseen["test"].images, ds["test"].images[[1, 3]])
    with pytest.raises(ValueError, match="two different splits"):
        ds.drop_duplicates("train", of="train")
    with pytest.raises(KeyError, match="no split 'val'"):
        ds.drop_duplicates("val")


def test_digests_see_the_shape():
    flat = np.zeros((1, 2, 8, 1), np.uint8)
    tall = np.zeros((1, 8, 2, 1), np.uint8)
    assert image_digests(flat) != image_digests(tall)
