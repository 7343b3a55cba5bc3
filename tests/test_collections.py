"""Whole collections: folders and globs, streaming prediction, rows and their files, resume."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import rss_mb
from emorec.results import RowWriter, columns, result_rows, to_dataframe
from emorec.sources import expand_sources

ASTRONAUT = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.fixture(scope="module")
def clf():
    from emorec import EmotionClassifier

    return EmotionClassifier.load()


def crops_folder(root: Path, n: int = 7, sub: str = "") -> list[Path]:
    folder = root / sub if sub else root
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"face_{i:02d}.png"
        Image.new("L", (48, 48), 30 * i % 256).save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------- sources
def test_folders_and_globs_expand_sorted_with_only_image_files(tmp_path):
    crops_folder(tmp_path, 3)
    crops_folder(tmp_path, 2, "deeper")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"")
    names = [Path(p).name for p in expand_sources(tmp_path)]
    assert names == ["face_00.png", "face_01.png", "face_02.png"]
    deep = [
        Path(p).relative_to(tmp_path).as_posix() for p in expand_sources(tmp_path, recursive=True)
    ]
    assert deep == ["deeper/face_00.png", "deeper/face_01.png", *names]
    assert len(list(expand_sources(str(tmp_path / "**" / "*.png"), recursive=True))) == 5
    assert list(expand_sources(tmp_path, pattern="*_01.png")) == [str(tmp_path / "face_01.png")]
    with pytest.raises(FileNotFoundError, match=r"\*.jpg: no image file matches"):
        list(expand_sources(str(tmp_path / "*.jpg")))
    array = np.zeros((4, 4), np.uint8)
    assert next(iter(expand_sources([array, b"x"]))) is array  # other items pass through
    assert [x is array for x in expand_sources(array)] == [True]  # one image is one item
    assert len(list(expand_sources(np.zeros((3, 4, 4, 1), np.uint8)))) == 3  # a batch


# ---------------------------------------------------------------------- predict_iter
def test_predict_iter_keeps_order_and_matches_predict(clf, tmp_path):
    paths = crops_folder(tmp_path, 9)
    streamed = list(clf.predict_iter(tmp_path, chunk_size=4, workers=2))
    assert [source for source, _ in streamed] == [str(p) for p in paths]
    batched = clf.predict([str(p) for p in paths])
    for (_, faces), expected in zip(streamed, batched):
        assert [f.label for f in faces] == [f.label for f in expected]
        np.testing.assert_allclose(faces[0].score, expected[0].score, rtol=1e-5)


def test_predict_iter_errors_skip_or_raise_in_turn(clf, tmp_path):
    paths = crops_folder(tmp_path, 5)
    paths[2].write_bytes(b"not an image")
    skipped = list(clf.predict_iter(tmp_path, errors="skip", chunk_size=2))
    assert [type(r).__name__ for _, r in skipped] == [
        "list",
        "list",
        "SkippedImage",
        "list",
        "list",
    ]
    assert "face_02.png" in skipped[2][1].error and skipped[2][1].index == 2
    seen = []
    with pytest.raises(ValueError, match="face_02.png"):
        for source, _ in clf.predict_iter(tmp_path, chunk_size=4):
            seen.append(Path(source).name)
    assert seen == ["face_00.png", "face_01.png"]  # the ones before it, then the error


def test_predict_iter_reads_a_generator_lazily_with_bounded_work(clf):
    made = []

    def frames():
        for i in range(200):
            made.append(i)
            yield np.full((48, 48), i % 256, np.uint8)

    stream = clf.predict_iter(frames(), chunk_size=8)
    first = next(stream)
    assert first[0] == "<ndarray #0>" and len(made) <= 3 * 8  # not the whole generator
    stream.close()  # stops the workers
    assert len(made) <= 3 * 8
    assert not [t for t in threading.enumerate() if t.name.startswith("emorec-predict")]


def test_predict_iter_yields_what_it_has_before_a_bad_input_and_checks_at_once(clf, tmp_path):
    paths = crops_folder(tmp_path, 2)
    seen = []
    with pytest.raises(FileNotFoundError, match="no image file matches"):
        for source, _ in clf.predict_iter(
            [*map(str, paths), str(tmp_path / "none*.jpg")], chunk_size=1
        ):
            seen.append(source)
    assert seen == [str(p) for p in paths]
    with pytest.raises(ValueError, match="chunk_size=0"):
        clf.predict_iter(paths, chunk_size=0)  # at the call, not at the first next()


def test_predict_folder_refuses_a_file(clf):
    with pytest.raises(NotADirectoryError, match="astronaut.jpg: not a folder"):
        clf.predict_folder(ASTRONAUT)


# ---------------------------------------------------------------------- rows and files
def test_rows_one_a_face_and_one_for_an_empty_or_failed_image(clf):
    [faces] = [clf.predict(str(ASTRONAUT))]
    rows = result_rows("a.jpg", faces, clf.labels)
    assert [r["face"] for r in rows] == list(range(1, len(faces) + 1))
    assert rows[0]["x"] == faces[0].box[0] and rows[0]["label"] == faces[0].label
    assert sum(rows[0][f"p_{n}"] for n in clf.labels) == pytest.approx(1, abs=1e-4)
    assert len(json.loads(rows[0]["keypoints"])) == 6  # BlazeFace's six points
    assert result_rows("b.jpg", [], clf.labels) == [
        dict.fromkeys(columns(clf.labels)) | {"source": "b.jpg"}
    ]

    class Skipped:
        error = "b.jpg: not a readable image"

    assert result_rows("b.jpg", Skipped(), clf.labels)[0]["error"] == Skipped.error


def _rows(source: str, n: int) -> list[dict]:
    rows = []
    for k in range(n):
        row = dict.fromkeys(columns(LABELS)) | {"source": source, "face": k + 1, "label": "happy"}
        row |= {"x": 1, "y": 2, "w": 3, "h": 4, "score": 0.5, "p_happy": 0.5}
        rows.append(row)
    return rows or [dict.fromkeys(columns(LABELS)) | {"source": source}]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_torn_file_resumes_without_redoing_or_repeating_a_source(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with RowWriter(path, LABELS) as out:
        for i in range(4):
            out.write(_rows(f"p{i}.jpg", i % 3))
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[-1][:9])  # a kill mid-line
    with RowWriter(path, LABELS, resume=True) as out:
        assert out.done == {"p0.jpg", "p1.jpg", "p2.jpg"}  # the last source is done again
        out.write(_rows("p3.jpg", 0))
        out.write(_rows("p4.jpg", 1))
    text = path.read_text()
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    sources = [r["source"] for r in rows]
    assert sources == ["p0.jpg", "p1.jpg", "p2.jpg", "p2.jpg", "p3.jpg", "p4.jpg"]
    assert list(rows[0]) == columns(LABELS)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_resumed_file_gives_the_tracked_faces_of_its_last_frames(tmp_path, suffix, monkeypatch):
    from emorec import FacePrediction, FramePrediction, results

    monkeypatch.setattr(results, "KNOWN_FRAMES", 3)
    probs = dict.fromkeys(LABELS, 1 / 7)

    def frame(index: int, *tracks: int) -> FramePrediction:
        faces = [
            FacePrediction((10 * t, index, 40, 40), "happy", 0.5, probs, track=t) for t in tracks
        ]
        return FramePrediction(index, index / 10, faces)

    path = tmp_path / f"out{suffix}"
    with RowWriter(path, LABELS) as out:
        out.write(result_rows("a.jpg", [], LABELS))
        for f in (frame(0, 1), frame(2, 1, 2), frame(4), frame(6, 2), frame(8, 2, 3)):
            out.write(result_rows("v.mp4", f, LABELS))
    resumed = RowWriter(path, LABELS, resume=True)
    resumed.close()
    # frame 8, the last, is done again; the last 3 frames kept, a frame without faces included
    assert resumed.frames == {"v.mp4": 6} and resumed.tracks == {"v.mp4": 2}
    assert resumed.known_tracks == {
        "v.mp4": {
            2: [((10.0, 2.0, 40.0, 40.0), 1), ((20.0, 2.0, 40.0, 40.0), 2)],
            4: [],
            6: [((20.0, 6.0, 40.0, 40.0), 2)],
        }
    }


def test_a_source_cut_between_its_rows_is_done_again(tmp_path):
    path = tmp_path / "out.jsonl"
    with RowWriter(path, LABELS) as out:
        out.write(_rows("a.jpg", 1))
        out.write(_rows("group.jpg", 5))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]))  # a copy cut short after two of group.jpg's rows
    with RowWriter(path, LABELS, resume=True) as out:
        assert out.done == {"a.jpg"}
        out.write(_rows("group.jpg", 5))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["source"] for r in rows] == ["a.jpg"] + ["group.jpg"] * 5


def test_resume_reads_quoted_newlines_and_names_that_are_not_utf8(tmp_path):
    path = tmp_path / "out.csv"
    odd = "caf\udce9.jpg"  # b"caf\xe9.jpg" on Linux: not UTF-8
    with RowWriter(path, LABELS) as out:
        out.write([dict.fromkeys(columns(LABELS)) | {"source": "a.jpg", "error": "line 1\nline 2"}])
        out.write(_rows(odd, 2))
        out.write(_rows("last.jpg", 1))
    assert b"caf\xe9.jpg" in path.read_bytes()
    with RowWriter(path, LABELS, resume=True) as out:
        assert out.done == {"a.jpg", odd}
        out.write(_rows("last.jpg", 1))
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8", "surrogateescape"))))
    assert [r[0] for r in rows[1:]] == ["a.jpg", odd, odd, "last.jpg"]
    assert rows[1][-1] == "line 1\nline 2"
    (tmp_path / "cut.csv").write_text(",".join(columns(LABELS))[:9])  # a header cut short
    with RowWriter(tmp_path / "cut.csv", LABELS, resume=True) as out:
        assert out.done == set()
    assert (tmp_path / "cut.csv").read_text() == ",".join(columns(LABELS)) + "\n"


def test_writer_refusals(tmp_path):
    with pytest.raises(ValueError, match=r"out.txt: unknown output format '.txt'"):
        RowWriter(tmp_path / "out.txt", LABELS)
    (tmp_path / "old.csv").write_text("keep")
    with pytest.raises(FileExistsError, match="old.csv exists"):
        RowWriter(tmp_path / "old.csv", LABELS)
    with pytest.raises(ValueError, match="not a file of rows emorec wrote"):
        RowWriter(tmp_path / "old.csv", ["a", "b"], resume=True)
    assert (tmp_path / "old.csv").read_text() == "keep"
    (tmp_path / "other.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ValueError, match="its columns are not this classifier's"):
        RowWriter(tmp_path / "other.csv", LABELS, resume=True)
    assert (tmp_path / "other.csv").read_text() == "name,score\nx,1\n"
    with pytest.raises(ValueError, match="cannot be resumed"):
        RowWriter(tmp_path / "x.parquet", LABELS, resume=True)
    # a JSON Lines file emorec did not write, or with other labels: refused, untouched
    (tmp_path / "notes.jsonl").write_text('{"name": "precious"}\n')
    with pytest.raises(ValueError, match="not a file of rows emorec wrote"):
        RowWriter(tmp_path / "notes.jsonl", LABELS, resume=True)
    assert (tmp_path / "notes.jsonl").read_text() == '{"name": "precious"}\n'
    with RowWriter(tmp_path / "two.jsonl", ["happy", "sad"]) as out:
        out.write([{"source": "a.jpg"}])
    with pytest.raises(ValueError, match="its columns are not this classifier's"):
        RowWriter(tmp_path / "two.jsonl", LABELS, resume=True)
    out = RowWriter(tmp_path / "closed.csv", LABELS)
    out.close()
    with pytest.raises(ValueError, match="closed.csv: the writer is closed"):
        out.write(_rows("a.jpg", 1))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_refuses_an_edited_or_sorted_file_and_leaves_it(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with RowWriter(path, LABELS) as out:
        for name, faces in (("a.jpg", 1), ("couple.jpg", 2), ("b.jpg", 1)):
            out.write(_rows(name, faces))
    first, *rows = path.read_text().splitlines(keepends=True)
    header, rows = ([first], rows) if suffix == ".csv" else ([], [first, *rows])
    # sorted so that the couple's second face comes last: cutting the last source would
    # leave the couple with one face
    moved = "".join(header + [rows[0], rows[1], rows[3], rows[2]])
    edited = "".join(header + [rows[0], "a note\n", *rows[1:]])
    for text, message in ((moved, "rows of 'couple.jpg' are not together"), (edited, "not a row")):
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            RowWriter(path, LABELS, resume=True)
        assert path.read_text() == text


def test_parquet_and_dataframe(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "out.parquet"
    with RowWriter(path, LABELS, flush_every=2) as out:
        for i in range(5):
            out.write(_rows(f"p{i}.jpg", 1))
        out.close()  # closed twice (again by the with block): the file stays whole
    table = pq.read_table(path)
    assert table.num_rows == 5 and table.column_names == columns(LABELS)
    frame = to_dataframe(_rows("a.jpg", 2))
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2


# ---------------------------------------------------------------------- the command line
def test_cli_predicts_a_folder_into_csv_and_resumes(tmp_path, capsys):
    from emorec.cli import main

    photos = tmp_path / "photos"
    crops_folder(photos, 6)
    (photos / "group").mkdir()
    (photos / "group" / "astronaut.jpg").write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "results.csv"
    args = ["predict", str(photos), "--recursive", "--output", str(out)]
    args += ["--annotate", str(tmp_path / "ann")]
    assert main(args) == 0
    assert len(list((tmp_path / "ann").rglob("*_emotions.*"))) == 7
    rows = list(csv.DictReader(out.open()))
    assert Path(rows[-1]["source"]).name == "astronaut.jpg"  # group/ sorts after face_*
    assert len({r["source"] for r in rows}) == 7 and capsys.readouterr().out == ""
    # a job killed after three photos: the file holds them, and a torn line
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:4]) + lines[4][:12])
    assert main([*args, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "resuming: 2 of 7 inputs are done in" in err  # the third, the file's last, again
    again = list(csv.DictReader(out.open()))
    assert [r["source"] for r in again] == [r["source"] for r in rows]  # each once, in order
    assert main(args) == 2 and "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["predict", str(photos), "--output", str(tmp_path / "r.txt")]) == 2
    assert "unknown output format '.txt'; expected one of .csv" in capsys.readouterr().err


def test_cli_resume_knows_a_path_spelt_another_way(tmp_path, capsys, monkeypatch):
    """A job started on ``photos/`` and resumed on its absolute path (or ``./photos``)
    skips what is done, does the file's last photo again under the file's spelling, and the
    photos new to the file under the spelling given now."""
    from emorec.cli import main

    monkeypatch.chdir(tmp_path)
    crops_folder(tmp_path / "photos", 4)
    out = tmp_path / "r.csv"
    assert main(["predict", "photos", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    # three photos kept: the last is done again (its rows may have been cut)
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:4]))
    for spelling in (str(tmp_path / "photos"), "./photos/"):
        assert main(["predict", spelling, "--output", str(out), "--resume"]) == 0
        assert "resuming: 2 of 4 inputs are done" in capsys.readouterr().err
        again = [r["source"] for r in csv.DictReader(out.open())]
        assert again[:3] == [r["source"] for r in rows[:3]] and len(again) == 4
        assert Path(again[3]).resolve() == Path(rows[3]["source"]).resolve()
        out.write_text("".join(out.read_text().splitlines(keepends=True)[:4]))


def test_cli_resume_from_another_working_folder(tmp_path, capsys, monkeypatch):
    """The file's relative names were relative to the first job's working folder: resumed
    from another folder, with the photos spelt from there, the job still knows them (it
    printed "0 of 4 done", cut the last photo's rows and wrote all four again)."""
    from emorec.cli import main

    monkeypatch.chdir(tmp_path)
    crops_folder(tmp_path / "photos", 4)
    out = tmp_path / "r.csv"
    assert main(["predict", "photos", "--output", str(out)]) == 0
    rows = [r["source"] for r in csv.DictReader(out.open())]
    kept = "".join(out.read_text().splitlines(keepends=True)[:4])
    out.write_text(kept)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    for spelling in ("../photos", str(tmp_path / "photos")):
        assert main(["predict", spelling, "--output", str(out), "--resume"]) == 0
        assert "resuming: 2 of 4 inputs are done" in capsys.readouterr().err
        again = [r["source"] for r in csv.DictReader(out.open())]
        assert again[:3] == rows[:3] and len(again) == 4  # each photo once
        assert (tmp_path / "elsewhere" / again[3]).resolve() == (tmp_path / rows[3]).resolve()
        out.write_text(kept)


def test_cli_resume_never_confuses_two_files_of_one_name(tmp_path, capsys, monkeypatch):
    from emorec.cli.inputs import as_recorded

    monkeypatch.chdir(tmp_path)
    # recorded from another folder: "a/x.jpg" and "x.jpg"; given now: two x.jpg
    given = [str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg")]
    assert as_recorded(given, {"a/x.jpg", "<stdin>"}) == ["a/x.jpg", given[1]]
    assert as_recorded(given, {"x.jpg"}) == given  # which x.jpg? neither
    assert as_recorded([str(tmp_path / "q" / "x.jpg")], {"p/x.jpg"}) == [
        str(tmp_path / "q" / "x.jpg")
    ]


def test_cli_never_reads_its_own_annotations_back(tmp_path, capsys):
    from emorec.cli import main

    crops_folder(tmp_path, 2)
    args = ["predict", str(tmp_path), "--recursive", "--annotate", str(tmp_path / "ann")]
    assert main(args) == 0 and main([*args, "--overwrite"]) == 0
    out = capsys.readouterr().out
    assert out.count("face 1 at") == 4 and "_emotions" not in out


def test_cli_jsonl_and_errors_skip_in_a_folder(tmp_path, capsys):
    from emorec.cli import main

    crops_folder(tmp_path / "in", 3)
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    out = tmp_path / "r.jsonl"
    code = main(["predict", str(tmp_path / "in"), "--output", str(out), "--errors", "skip"])
    assert code == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["source"]).name for r in rows] == [
        "broken.jpg",
        "face_00.png",
        "face_01.png",
        "face_02.png",
    ]
    assert "not a readable image" in rows[0]["error"] and rows[1]["label"] in LABELS
    assert "1 unreadable" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_cli_an_unreadable_video_with_errors_skip_is_a_row_and_the_job_goes_on(tmp_path, capsys):
    from emorec.cli import main

    crops_folder(tmp_path / "mix", 2)
    (tmp_path / "mix" / "clip.mp4").write_text("not a video")  # sorts between the photos
    (tmp_path / "mix" / "face_00.png").rename(tmp_path / "mix" / "a.png")
    out = tmp_path / "r.csv"
    args = ["predict", str(tmp_path / "mix"), "--output", str(out)]
    assert main([*args, "--errors", "skip"]) == 2
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["source"]).name for r in rows] == ["a.png", "clip.mp4", "face_01.png"]
    assert "cannot read it as a video" in rows[1]["error"] and rows[2]["label"] in LABELS
    assert "1 unreadable" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 2  # errors raise by default: the job stops there
    assert "clip.mp4" in capsys.readouterr().err
    assert [Path(r["source"]).name for r in csv.DictReader(out.open())] == ["a.png"]


def test_cli_refuses_outputs_it_could_not_write_before_any_work(tmp_path, capsys):
    from emorec.cli import main

    photo = tmp_path / "in" / "astronaut.jpg"
    photo.parent.mkdir()
    (tmp_path / "in.json").mkdir()
    photo.write_bytes(ASTRONAUT.read_bytes())
    original = photo.read_bytes()
    assert main(["predict", str(photo), "--output", str(tmp_path / "in.json")]) == 2
    assert "in.json: a folder; name a file" in capsys.readouterr().err
    # a missing folder is made before the work (it failed at the end, the results lost)
    assert main(["predict", str(photo), "--output", str(tmp_path / "new" / "r.json")]) == 0
    assert json.loads((tmp_path / "new" / "r.json").read_text())[0]["faces"]
    rows = tmp_path / "rows.csv"  # given as an input too: never overwritten
    rows.write_text("keep")
    assert main(["predict", str(photo), str(rows), "--output", str(rows), "--overwrite"]) == 2
    assert "an input; write the rows to another file" in capsys.readouterr().err
    assert rows.read_text() == "keep"
    # an annotated copy never replaces its photo, --overwrite or not
    assert main(["predict", str(photo), "--annotate", str(photo), "--overwrite"]) == 2
    assert "would replace an input" in capsys.readouterr().err
    assert photo.read_bytes() == original
    # a photo named inside the --annotate folder is done (what folders find there is not)
    assert main(["predict", str(photo), "--annotate", str(photo.parent)]) == 0
    assert (photo.parent / "astronaut_emotions.jpg").is_file()
    capsys.readouterr()
    assert main(["predict", str(photo.parent), "--annotate", str(photo.parent)]) == 2
    assert "but the --annotate folder" in capsys.readouterr().err


def test_annotate_names_the_inputs_whose_copies_would_clash(tmp_path):
    from emorec.cli.outputs import annotation_targets

    gif, tif = tmp_path / "x.gif", tmp_path / "x.tif"
    with pytest.raises(ValueError, match=r"x.gif and .*x.tif would both be annotated as"):
        annotation_targets([gif, tif], str(tmp_path / "ann"))
    with pytest.raises(ValueError, match=r"x.gif is given twice"):
        annotation_targets([gif, tmp_path / "." / "x.gif"], str(tmp_path / "ann"))


def test_timeline_paths_are_checked_up_front(tmp_path):
    from emorec.cli.outputs import check_figure_format, check_output_path

    check_figure_format("t.png")
    with pytest.raises(ValueError, match=r"--timeline t.txt: cannot draw a .txt file; name a"):
        check_figure_format("t.txt")
    check_output_path(tmp_path / "new" / "t.png", "--timeline")
    assert (tmp_path / "new").is_dir()
    with pytest.raises(IsADirectoryError, match="--timeline .*new: a folder; name a file"):
        check_output_path(tmp_path / "new", "--timeline")


def test_a_recursive_glob_gives_each_file_once_through_a_link_loop(tmp_path):
    crops_folder(tmp_path / "loop", 1, sub="sub")
    (tmp_path / "loop" / "sub" / "up").symlink_to("..", target_is_directory=True)
    found = list(expand_sources(str(tmp_path / "loop" / "**" / "*.png"), recursive=True))
    assert [Path(p).relative_to(tmp_path).as_posix() for p in found] == ["loop/sub/face_00.png"]


def test_predict_iter_memory_stays_flat_over_a_long_stream(clf):
    rng = np.random.default_rng(0)
    photo = np.asarray(Image.open(ASTRONAUT).convert("RGB").resize((320, 240)))

    def stream(n):
        for i in range(n):
            yield photo if i % 4 == 0 else rng.integers(0, 256, (48, 48), dtype=np.uint8)

    memory = {}
    for n, (_, faces) in enumerate(clf.predict_iter(stream(1200), chunk_size=16), 1):
        assert len(faces) >= (1 if n % 4 != 1 else 0)
        if n in (300, 1200):
            memory[n] = rss_mb()
    assert memory[1200] - memory[300] < 30, memory


def test_max_pixels_is_the_classifiers_and_the_clis(tmp_path, capsys):
    """A photo over the limit names itself and the way to raise the limit, in Python and in
    the CLI; the limit is raised or lifted there too."""
    from emorec import EmotionClassifier, ImageError, SkippedImage
    from emorec.cli import main
    from emorec.images import DEFAULT_MAX_PIXELS

    big = tmp_path / "big.png"
    Image.new("L", (60, 50), 90).save(big)
    strict = EmotionClassifier.load(max_pixels=2999)
    with pytest.raises(ImageError, match=r"big\.png: 60x50 pixels exceeds the limit of 2999"):
        strict.predict(big)
    assert isinstance(strict.predict([big], errors="skip")[0], SkippedImage)
    assert len(EmotionClassifier.load(max_pixels=3000).predict(big)) == 1
    with pytest.raises(ValueError, match="max_pixels"):
        EmotionClassifier.load(max_pixels=0)

    assert main(["predict", str(big), "--max-pixels", "2999"]) == 2
    assert "--max-pixels" in capsys.readouterr().err
    assert main(["predict", str(big), "--max-pixels", "0"]) == 0
    assert main(["predict", str(big), "--max-pixels", "3_000"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["predict", str(big), "--max-pixels", "-5"])
    assert "expected a number of pixels" in capsys.readouterr().err
    # the help quotes the library's default
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert f"default {DEFAULT_MAX_PIXELS}" in " ".join(capsys.readouterr().out.split())
