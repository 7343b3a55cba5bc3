from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emorec.labels import (
    ALIASES,
    LABELS,
    canonical_label,
    code_to_label,
    is_fer_label_set,
    label_to_code,
    map_label_names,
)


def test_labels_are_fer2013_code_order():
    assert LABELS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.mark.parametrize(
    "alias,label",
    [
        ("anger", "angry"),
        ("Sadness", "sad"),
        ("HAPPINESS", "happy"),
        ("surprised", "surprise"),
        (" Fearful ", "fear"),
        ("disgusted", "disgust"),
        ("neutral", "neutral"),
    ],
)
def test_aliases(alias, label):
    assert canonical_label(alias) == label


def test_contempt_is_not_ours():
    assert canonical_label("contempt") is None
    with pytest.raises(ValueError, match="contempt.*not a FER2013 emotion"):
        label_to_code("contempt")


@given(st.integers(0, 6))
def test_code_roundtrip(code):
    assert label_to_code(code_to_label(code)) == code


@pytest.mark.parametrize("bad", [-1, 7, 1.0, True, "3"])
def test_bad_codes(bad):
    with pytest.raises(ValueError, match="out of range"):
        code_to_label(bad)


def test_every_alias_maps_to_a_label():
    assert set(ALIASES.values()) == set(LABELS)


def test_map_fer_names_keeps_code_order():
    names, index = map_label_names(["surprise", "angry", "Happy"])
    assert names == ("angry", "happy", "surprise")
    assert index == {"surprise": 2, "angry": 0, "Happy": 1}


def test_map_custom_names_sorted():
    names, index = map_label_names(["pain", "happy", "contempt"])
    assert names == ("contempt", "happy", "pain")
    assert index["pain"] == 2


def test_map_two_names_for_one_class():
    with pytest.raises(ValueError, match="both mean the FER2013 class 'happy'"):
        map_label_names(["happy", "happiness"])
    assert not is_fer_label_set(["happy", "happiness"])
