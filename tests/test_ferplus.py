"""Tests for emorec.data.ferplus and for reading FER+'s votes beside fer2013.csv (from_csv),
on tiny files the tests write: rules, modes, alignment, the tarball, soft-target feeds."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from emorec import EmotionDataset
from emorec.data.ferplus import FERPLUS_COLUMNS, ferplus_targets, read_ferplus_votes
from emorec.labels import FERPLUS_LABELS, LABELS

HEADER = "Usage,Image name," + ",".join(FERPLUS_COLUMNS)

# votes in FER+'s column order: neutral happiness surprise sadness anger disgust fear contempt
# unknown NF
ROWS = [
    ("Training", [0, 8, 2, 0, 0, 0, 0, 0, 0, 0]),  # happy, clear
    ("Training", [4, 0, 0, 1, 3, 2, 0, 0, 0, 0]),  # neutral 4, angry 3, disgust 2, one sad
    ("Training", [0, 0, 0, 0, 0, 0, 0, 0, 2, 8]),  # not a face
    ("Training", [0, 5, 5, 0, 0, 0, 0, 0, 0, 0]),  # tie happy / surprise
    ("Training", [2, 0, 0, 0, 0, 0, 0, 7, 1, 0]),  # contempt
    ("Training", [1, 0, 0, 0, 0, 0, 0, 0, 9, 0]),  # unknown
    ("PublicTest", [0, 0, 0, 9, 1, 0, 0, 0, 0, 0]),  # sad
    ("PublicTest", [3, 0, 0, 0, 0, 0, 6, 0, 1, 0]),  # fear
]
ORIGINAL = [3, 6, 0, 5, 0, 2, 4, 2]  # FER2013's own labels of the same rows


def write_pair(folder, rows=ROWS, original=ORIGINAL, *, dropped=()):
    """fer2013.csv (2x2 faces, pixel value = row number) and fer2013new.csv for ``rows``."""
    csv = ["emotion,pixels,Usage"]
    new = [HEADER]
    for i, ((usage, votes), code) in enumerate(zip(rows, original)):
        csv.append(f"{code},{' '.join([str(i)] * 4)},{usage}")
        name = "" if i in dropped else f"fer{i:07d}.png"
        new.append(f"{usage},{name},{','.join(map(str, votes))}")
    (folder / "fer2013.csv").write_text("\n".join(csv) + "\n")
    (folder / "fer2013new.csv").write_text("\n".join(new) + "\n")
    return folder / "fer2013.csv", folder / "fer2013new.csv"


def rows_of(part):
    return part.images[:, 0, 0, 0].tolist()


# ----------------------------------------------------------------------------- the rules
def test_majority_drops_not_a_face_unknown_ties_and_contempt():
    t = ferplus_targets([v for _, v in ROWS], "majority")
    assert t.label_names == LABELS
    assert t.keep.tolist() == [True, True, False, False, False, False, True, True]
    assert [LABELS[i] for i in t.labels[t.keep]] == ["happy", "neutral", "sad", "fear"]
    np.testing.assert_array_equal(t.targets[t.keep].sum(axis=1), 1)
    assert set(t.targets[t.keep].ravel().tolist()) == {0.0, 1.0}  # one-hot


def test_probability_keeps_ties_and_normalises_without_single_votes():
    t = ferplus_targets([v for _, v in ROWS], "probability")
    assert t.keep.tolist() == [True, True, False, True, False, False, True, True]
    np.testing.assert_allclose(t.targets[t.keep].sum(axis=1), 1, rtol=1e-6)
    # row 1: the single sad vote is an outlier (FER+'s code), the rest 4:3:2
    expected = np.zeros(7)
    expected[[LABELS.index("neutral"), LABELS.index("angry"), LABELS.index("disgust")]] = [4, 3, 2]
    np.testing.assert_allclose(t.targets[1], expected / 9, rtol=1e-6)
    # the tie is kept as a distribution but has no majority
    assert t.majority[3] == -1 and t.targets[3, LABELS.index("happy")] == pytest.approx(0.5)
    assert t.majority.tolist()[:2] == [LABELS.index("happy"), LABELS.index("neutral")]


def test_contempt_as_an_eighth_class():
    t = ferplus_targets([v for _, v in ROWS], "majority", contempt=True)
    assert t.label_names == FERPLUS_LABELS and t.targets.shape[1] == 8
    assert t.keep[4] and FERPLUS_LABELS[t.labels[4]] == "contempt"


def test_min_votes_one_keeps_single_votes():
    t = ferplus_targets([[4, 0, 0, 1, 3, 2, 0, 0, 0, 0]], "probability", min_votes=1)
    assert t.targets[0, LABELS.index("sad")] == pytest.approx(0.1)


def test_bad_mode_and_shape():
    with pytest.raises(ValueError, match="'majority' or 'probability'"):
        ferplus_targets([[0] * 10], "soft")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected \(n, 10\)"):
        ferplus_targets([[0] * 8], "majority")


# ----------------------------------------------------------------------------- the file
def test_read_votes_and_errors_name_the_line(tmp_path):
    _, new = write_pair(tmp_path)
    votes = read_ferplus_votes(new)
    assert votes.votes.shape == (8, 10) and votes.usage[-1] == "PublicTest"
    new.write_text(HEADER + "\nTraining,a.png,1,2,x,0,0,0,0,0,0,0\n")
    with pytest.raises(ValueError, match=r"fer2013new.csv:2: surprise votes 'x'"):
        read_ferplus_votes(new)
    new.write_text("Usage,Image name,neutral\nTraining,a.png,1\n")
    with pytest.raises(ValueError, match="missing column"):
        read_ferplus_votes(new)
    with pytest.raises(FileNotFoundError, match="emorec download ferplus"):
        read_ferplus_votes(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- from_csv
def test_from_csv_majority_keeps_both_label_sets(tmp_path):
    csv, _ = write_pair(tmp_path)
    ds = EmotionDataset.from_csv(csv, ferplus=True)
    assert ds.label_names == LABELS and ds.split_names == ("train", "public_test")
    train = ds["train"]
    assert rows_of(train) == [0, 1] and train.targets is None
    assert train.labels.tolist() == [LABELS.index("happy"), LABELS.index("neutral")]
    # FER2013's own labels of the same faces travel with them, for evaluation
    assert train.label_sets["fer2013"].tolist() == [ORIGINAL[0], ORIGINAL[1]]
    assert train.label_sets["ferplus"].tolist() == train.labels.tolist()


def test_from_csv_probability_gives_soft_targets(tmp_path):
    csv, new = write_pair(tmp_path)
    ds = EmotionDataset.from_csv(csv, ferplus=new, ferplus_mode="probability")
    train = ds["train"]
    assert rows_of(train) == [0, 1, 3] and train.targets.shape == (3, 7)
    assert train.label_sets["ferplus"].tolist()[2] == -1  # the tie: no majority
    _, y = next(iter(ds.to_tf("train", batch_size=8, label_mode="probability", shuffle=False)))
    np.testing.assert_allclose(y.numpy(), train.targets, rtol=1e-6)
    feed = ds.to_keras("train", batch_size=8, label_mode="probability", shuffle=False)
    np.testing.assert_allclose(feed[0][1], train.targets, rtol=1e-6)


def test_from_csv_fer2013_mode_keeps_every_row(tmp_path):
    csv, _ = write_pair(tmp_path)
    ds = EmotionDataset.from_csv(csv, ferplus=True, ferplus_mode="fer2013")
    assert len(ds) == 8 and ds["train"].labels.tolist() == ORIGINAL[:6]
    assert ds["train"].label_sets["ferplus"].tolist()[2:4] == [-1, -1]


def test_rows_ferplus_dropped_are_dropped(tmp_path):
    csv, _ = write_pair(tmp_path, dropped=(0,))
    assert rows_of(EmotionDataset.from_csv(csv, ferplus=True)["train"]) == [1]


def test_votes_that_do_not_align_are_refused(tmp_path):
    csv, new = write_pair(tmp_path)
    lines = new.read_text().splitlines()
    new.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match="7 rows but .* has 8"):
        EmotionDataset.from_csv(csv, ferplus=new)
    swapped = [lines[0], *lines[1:6], lines[7], lines[6], lines[8]]
    new.write_text("\n".join(swapped) + "\n")
    with pytest.raises(ValueError, match="row 6 is 'PublicTest' but row 6 of"):
        EmotionDataset.from_csv(csv, ferplus=new)


def test_ferplus_beside_missing_says_how_to_get_it(tmp_path):
    csv, new = write_pair(tmp_path)
    new.unlink()
    with pytest.raises(FileNotFoundError, match="emorec download ferplus"):
        EmotionDataset.from_csv(csv, ferplus=True)


def test_ferplus_with_custom_label_names_is_refused(tmp_path):
    csv, _ = write_pair(tmp_path)
    with pytest.raises(ValueError, match="leave label_names out"):
        EmotionDataset.from_csv(csv, ferplus=True, label_names=list("abcdefg"))


def test_soft_targets_survive_split_take_and_map_labels(tmp_path):
    csv, _ = write_pair(tmp_path)
    ds = EmotionDataset.from_csv(csv, ferplus=True, ferplus_mode="probability")
    part = ds["train"].take([2, 0])
    assert rows_of(part) == [3, 0] and part.targets.shape == (2, 7)
    assert part.label_sets["fer2013"].tolist() == [ORIGINAL[3], ORIGINAL[0]]
    two = ds.map_labels(
        {"happy": "happy", "other": ["neutral", "angry", "disgust"]}, drop_unmapped=True
    )
    t = two["train"]
    # the tie (happy 0.5, surprise 0.5) keeps its happy half, renormalised to 1
    assert rows_of(t) == [0, 1, 3]
    np.testing.assert_allclose(t.targets, [[1, 0], [0, 1], [1, 0]], atol=1e-6)
    assert t.label_sets["fer2013"].tolist()[0] == 0  # happy is new label 0


def test_probability_feed_needs_targets():
    ds = EmotionDataset.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="needs soft targets"):
        ds.to_tf("train", label_mode="probability")


def test_tarball_is_read_without_unpacking(tmp_path):
    csv, _ = write_pair(tmp_path)
    tar = tmp_path / "fer2013.tar.gz"
    with tarfile.open(tar, "w:gz") as archive:
        archive.add(csv, arcname="fer2013/fer2013.csv")
        info = tarfile.TarInfo("fer2013/README")
        archive.addfile(info, io.BytesIO(b""))
    a = EmotionDataset.from_csv(csv, ferplus=True, ferplus_mode="probability")
    b = EmotionDataset.from_csv(tar, ferplus=True, ferplus_mode="probability")
    np.testing.assert_array_equal(a["train"].images, b["train"].images)
    np.testing.assert_array_equal(a["train"].targets, b["train"].targets)
    assert b["train"].sources[0].endswith("fer2013.tar.gz:fer2013/fer2013.csv:2")


def test_tarball_without_one_csv_is_refused(tmp_path):
    tar = tmp_path / "other.tar"
    with tarfile.open(tar, "w") as archive:
        for name in ("a.csv", "b.csv"):
            info = tarfile.TarInfo(name)
            archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(ValueError, match="expected one fer2013.csv inside"):
        EmotionDataset.from_csv(tar)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        EmotionDataset.from_csv(bad)
