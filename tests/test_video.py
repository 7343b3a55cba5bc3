"""Videos: frames read and sampled, faces tracked and smoothed, annotated videos, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import rss_mb
from emorec import EmotionClassifier, FacePrediction, FramePrediction
from emorec.results import RowWriter, result_rows
from emorec.tracking import IoUTracker, iou
from emorec.video import VideoError, VideoWriter, read_frames, video_info

ASTRONAUT = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"


@pytest.fixture(scope="module")
def clf():
    return EmotionClassifier.load()


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The astronaut's head and shoulders, 120 px wide."""
    photo = Image.open(ASTRONAUT).convert("RGB")
    return np.asarray(photo.crop((120, 20, 330, 230)).resize((120, 120)))


def moving_face_video(
    path: Path, face: np.ndarray, frames: int = 40, step: int = 6, fps: float = 25, faces: int = 1
) -> Path:
    """A grey 480x240 video with ``faces`` copies of ``face`` sliding right ``step`` px a frame."""
    with VideoWriter(path, fps=fps) as out:
        for i in range(frames):
            canvas = np.full((240, 480, 3), 90, np.uint8)
            for k in range(faces):
                x = 10 + i * step + 240 * k
                if x + 120 <= 480:
                    canvas[60:180, x : x + 120] = face
            out.write(canvas)
    return path


# ------------------------------------------------------------------ reading and writing
@pytest.mark.smoke
def test_frames_are_sampled_by_index_or_rate_with_their_times(tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=50, fps=25)
    info = video_info(path)
    assert (info.frames, info.fps, info.width, info.height) == (50, 25.0, 480, 240)
    every = read_frames(path, every=7)
    got = [(f.index, f.time) for f in every]
    assert got == [(i, i / 25) for i in range(0, 50, 7)] and every.expected == len(got)
    rate = read_frames(path, fps=5)
    got = [f.index for f in rate]
    assert got == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45] and rate.expected == 10
    assert rate.rate == 5
    # a start keeps the sampling of a run from frame 0 (what a resume needs)
    assert [f.index for f in read_frames(path, fps=5, start=12)] == [15, 20, 25, 30, 35, 40, 45]
    assert [f.index for f in read_frames(path, every=7, start=8)] == [14, 21, 28, 35, 42, 49]
    frame = next(iter(read_frames(path)))
    assert frame.image.shape == (240, 480, 3) and frame.image.dtype == np.uint8


def test_bad_videos_and_arguments_fail_at_the_call_naming_what(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        read_frames(tmp_path / "nope.mp4")
    with pytest.raises(IsADirectoryError, match="folder"):
        read_frames(tmp_path)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoError, match="notes.mp4.*cannot read it as a video"):
        read_frames(text)
    with pytest.raises(ValueError, match="not both"):
        read_frames(text, every=2, fps=3)
    for bad in ({"every": 0}, {"every": 1.5}, {"fps": 0}, {"fps": float("nan")}, {"start": -1}):
        with pytest.raises(ValueError):
            read_frames(text, **bad)
    with pytest.raises(TypeError, match="camera index"):
        read_frames(3.5)  # type: ignore[arg-type]


def test_frames_larger_than_max_pixels_are_refused(tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=2)
    with pytest.raises(VideoError, match="480x240.*max_pixels=1000"):
        read_frames(path, max_pixels=1000)


def test_the_video_writer_is_atomic_and_never_overwrites_silently(tmp_path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"the user's file")
    with pytest.raises(FileExistsError, match="out.mp4 exists"):
        VideoWriter(target, fps=10)
    with pytest.raises(ValueError, match="'.flv'"):
        VideoWriter(tmp_path / "out.flv", fps=10)
    with pytest.raises(RuntimeError), VideoWriter(target, fps=10, overwrite=True) as out:
        out.write(np.zeros((32, 32, 3), np.uint8))
        raise RuntimeError("a failure half-way")
    assert target.read_bytes() == b"the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no temporary left
    with VideoWriter(target, fps=10, overwrite=True) as out:
        for v in range(5):
            out.write(np.full((32, 48, 3), v * 40, np.uint8))
        out.write(np.zeros((10, 10), np.uint8))  # another size, grey: fitted to the first
    assert video_info(target).frames == 6 and (target.stat().st_mode & 0o777) != 0o600


# ------------------------------------------------------------------ the tracker
def test_tracker_keeps_ids_as_boxes_move_and_reorder():
    tracker = IoUTracker()
    assert tracker.update([(0, 0, 50, 50), (300, 0, 50, 50)]) == [1, 2]
    assert tracker.update([(305, 2, 50, 50), (4, 1, 50, 50)]) == [2, 1]
    # a move of most of a box's width (a second between samples) still continues
    assert tracker.update([(40, 0, 50, 50)]) == [1]
    # a box of another size far away starts a new track
    assert tracker.update([(150, 150, 120, 120)]) == [3]


def test_tracker_ends_tracks_unseen_for_max_age_frames():
    tracker = IoUTracker(max_age=2)
    assert tracker.update([(0, 0, 50, 50)]) == [1]
    tracker.update([])
    tracker.update([])
    assert tracker.update([(0, 0, 50, 50)]) == [1]  # missed 2 frames: still open
    for _ in range(3):
        tracker.update([])
    assert tracker.update([(0, 0, 50, 50)]) == [2]
    assert IoUTracker(first_id=7).update([(0, 0, 5, 5)]) == [7]


def test_smoothing_averages_the_last_frames_of_each_track():
    tracker = IoUTracker(smooth=2)
    ids, p = tracker.update_smoothed([(0, 0, 50, 50)], [[1.0, 0.0]])
    assert ids == [1] and np.allclose(p, [[1.0, 0.0]])
    _, p = tracker.update_smoothed([(1, 0, 50, 50)], [[0.0, 1.0]])
    assert np.allclose(p, [[0.5, 0.5]])
    _, p = tracker.update_smoothed([(2, 0, 50, 50)], [[0.0, 1.0]])
    assert np.allclose(p, [[0.0, 1.0]])  # the window is two frames


def test_iou_and_tracker_arguments():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    for bad in ({"iou_threshold": 0}, {"max_age": -1}, {"smooth": 0}, {"max_distance": -1}):
        with pytest.raises(ValueError):
            IoUTracker(**bad)


# ------------------------------------------------------------------ predict_video
def test_a_face_moving_across_frames_keeps_one_track(clf, tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=30)
    frames = list(clf.predict_video(path))
    assert [f.frame for f in frames] == list(range(30))
    assert all(isinstance(f, FramePrediction) and len(f.faces) == 1 for f in frames)
    assert {f.faces[0].track for f in frames} == {1}
    xs = [f.faces[0].box[0] for f in frames]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 100  # the box follows the face
    # the same face as a photo gives the same emotion
    photo = clf.predict(next(iter(read_frames(path))).image)
    assert frames[0].faces[0].label == photo[0].label
    assert frames[0].faces[0].probabilities == pytest.approx(photo[0].probabilities, abs=1e-5)


def test_two_faces_get_two_tracks_and_smoothing_is_a_mean(clf, tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=12, step=2, faces=2)
    raw = list(clf.predict_video(path))
    smooth = list(clf.predict_video(path, smooth=4))
    assert [sorted(f.track for f in fr.faces) for fr in raw] == [[1, 2]] * 12
    for n in range(12):
        for track in (1, 2):
            window = [
                next(f for f in raw[m].faces if f.track == track).probabilities
                for m in range(max(0, n - 3), n + 1)
            ]
            mean = {k: np.mean([w[k] for w in window]) for k in window[0]}
            got = next(f for f in smooth[n].faces if f.track == track)
            assert got.probabilities == pytest.approx(mean, abs=1e-5)
            assert got.label == max(mean, key=mean.get)


def test_annotated_video_has_every_frame_read_and_survives_an_early_stop(clf, tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=20)
    out = tmp_path / "annotated.mp4"
    frames = list(clf.predict_video(path, every=2, annotate=out))
    info = video_info(out)
    assert (info.frames, info.fps, info.width, info.height) == (len(frames), 12.5, 480, 240)
    with pytest.raises(FileExistsError, match="annotated.mp4 exists"):
        clf.predict_video(path, annotate=out)
    stream = clf.predict_video(path, annotate=tmp_path / "early.mp4")
    for _, _ in zip(range(5), stream):
        pass
    stream.close()  # the caller stopped: what was read is kept
    assert video_info(tmp_path / "early.mp4").frames == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failing_video_stream_leaves_no_annotated_file(clf, tmp_path, face, monkeypatch):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=10)
    calls = {"n": 0}
    real = EmotionClassifier.classify

    def failing(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the model failed")
        return real(self, *a, **kw)

    monkeypatch.setattr(EmotionClassifier, "classify", failing)
    out = tmp_path / "annotated.mp4"
    with pytest.raises(RuntimeError, match="model failed"):
        list(clf.predict_video(path, chunk_size=2, annotate=out))
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_video_rows_have_frame_time_and_track(clf, tmp_path, face):
    path = moving_face_video(tmp_path / "v.mp4", face, frames=6)
    frames = list(clf.predict_video(path, every=3))
    rows = [r for f in frames for r in result_rows(str(path), f, clf.labels)]
    assert [(r["frame"], r["time"], r["track"], r["face"]) for r in rows] == [
        (0, 0.0, 1, 1),
        (3, 0.12, 1, 1),
    ]
    empty = result_rows("v.mp4", FramePrediction(7, 0.28, []), clf.labels)
    assert len(empty) == 1 and empty[0]["frame"] == 7 and empty[0]["face"] is None
    face_row = result_rows(
        "a.jpg", [FacePrediction((0, 0, 1, 1), "sad", 1.0, {"sad": 1.0})], ["sad"]
    )
    assert face_row[0]["frame"] is None and face_row[0]["track"] is None


def test_a_resumed_file_says_which_frame_each_video_reached(tmp_path):
    out = tmp_path / "rows.csv"
    labels = ["happy", "sad"]
    face = FacePrediction((0, 0, 9, 9), "sad", 0.8, {"happy": 0.2, "sad": 0.8}, track=4)
    with RowWriter(out, labels) as writer:
        writer.write(result_rows("a.jpg", [], labels))
        for n in range(5):
            writer.write(result_rows("v.mp4", FramePrediction(n * 2, n * 0.1, [face]), labels))
    whole = out.read_bytes()
    resumed = RowWriter(out, labels, resume=True)
    resumed.close()
    # the last frame (8) may have been cut: it is done again
    assert resumed.done == {"a.jpg", "v.mp4"} and resumed.frames == {"v.mp4": 6}
    assert resumed.tracks == {"v.mp4": 4}
    assert out.read_bytes() == whole  # cut only when a row is written: none was
    with RowWriter(out, labels, resume=True) as resumed:
        resumed.write(result_rows("v.mp4", FramePrediction(8, 0.4, [face]), labels))
    assert out.read_bytes() == whole


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_predict_video_memory_stays_flat_over_a_long_video(clf, tmp_path, face):
    """1,200 frames of 640x360: resident memory after the first 300 moves by under 30 MB."""
    path = tmp_path / "long.mp4"
    with VideoWriter(path, fps=30) as out:
        for i in range(1200):
            canvas = np.full((360, 640, 3), 90, np.uint8)
            x = 10 + (i * 3) % 500
            canvas[100:220, x : x + 120] = face
            out.write(canvas)
    memory = {}
    for frame in clf.predict_video(path, annotate=tmp_path / "a.mp4"):
        if frame.frame in (300, 1199):
            memory[frame.frame] = rss_mb()
    assert memory[1199] - memory[300] < 30, memory


# ------------------------------------------------------------------ the command line
def test_cli_predicts_a_video_into_rows_and_an_annotated_copy(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.mp4", face, frames=20)
    rows = tmp_path / "rows.csv"
    code = main(
        [
            "predict",
            str(path),
            "--every",
            "4",
            "--output",
            str(rows),
            "--annotate",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    with open(rows, newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [(r["frame"], r["track"]) for r in got] == [(str(n), "1") for n in range(0, 20, 4)]
    assert video_info(tmp_path / "out" / "clip_emotions.mp4").frames == 5
    code = main(["predict", str(path), "--fps", "5", "--smooth", "3", "--json"])
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["source"] == str(path) and "video" not in entry  # as the rows' column
    frames = entry["frames"]
    assert [f["frame"] for f in frames] == [0, 5, 10, 15] and frames[0]["faces"][0]["track"] == 1


def test_cli_folders_and_globs_give_their_videos_as_well_as_their_photos(tmp_path, face, capsys):
    from emorec.cli import main

    folder = tmp_path / "job"
    (folder / "clips").mkdir(parents=True)
    moving_face_video(folder / "clips" / "clip.mp4", face, frames=8)
    Image.fromarray(face).save(folder / "face.jpg")
    (folder / "notes.txt").write_text("not an input")
    rows = tmp_path / "rows.csv"
    code = main(["predict", str(folder), "--recursive", "--every", "4", "--output", str(rows)])
    assert code == 0, capsys.readouterr().err
    with open(rows, newline="") as fh:
        got = [(Path(r["source"]).name, r["frame"]) for r in csv.DictReader(fh)]
    assert got == [("clip.mp4", "0"), ("clip.mp4", "4"), ("face.jpg", "")]
    code = main(["predict", str(folder / "clips" / "*.mp4"), "--every", "4", "--json"])
    assert code == 0 and len(json.loads(capsys.readouterr().out)[0]["frames"]) == 2
    assert main(["predict", str(folder / "*.mov")]) != 0
    assert "no image or video file matches" in capsys.readouterr().err


def test_cli_text_output_names_frame_time_and_track(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.mp4", face, frames=4)
    assert main(["predict", str(path), "--every", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith(f"{path} frame 2 (0.08 s): track 1 at (x=")


def test_cli_resumes_a_video_from_its_last_frame_without_repeating_one(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.mp4", face, frames=24, faces=2)
    options = ["--every", "2", "--smooth", "3"]
    full = tmp_path / "full.jsonl"
    assert main(["predict", str(path), *options, "--output", str(full)]) == 0
    lines = full.read_text().splitlines()
    want = [json.loads(line) for line in lines]
    assert {r["track"] for r in want} == {1, 2}
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:9]) + "\n" + lines[9][:30])  # killed while writing frame 8
    assert main(["predict", str(path), *options, "--output", str(cut), "--resume"]) == 0
    assert "resuming" in capsys.readouterr().err
    got = [json.loads(line) for line in cut.read_text().splitlines()]
    assert [(r["frame"], r["face"]) for r in got] == [(r["frame"], r["face"]) for r in want]
    # the faces keep their tracks across the resume, and their smoothing goes on: the rows
    # are those of the run that was never stopped
    assert [r["track"] for r in got] == [r["track"] for r in want]
    assert [r["label"] for r in got] == [r["label"] for r in want]
    for g, w in zip(got, want):
        assert g["p_happy"] == pytest.approx(w["p_happy"], abs=1e-4)
    # a face that starts after the resume gets the next id, as it would have
    later = moving_face_video(tmp_path / "later.mp4", face, frames=12, faces=1)
    rows = tmp_path / "later.jsonl"
    assert main(["predict", str(later), "--output", str(rows)]) == 0
    kept = rows.read_text().splitlines()[:4]
    rows.write_text("\n".join(kept) + "\n")
    assert main(["predict", str(later), "--output", str(rows), "--resume"]) == 0
    assert {json.loads(line)["track"] for line in rows.read_text().splitlines()} == {1}


def test_cli_resume_refuses_another_sampling_and_leaves_the_file(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.avi", face, frames=24, fps=30)
    out = tmp_path / "rows.csv"
    assert main(["predict", str(path), "--every", "4", "--output", str(out)]) == 0
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:4]))  # frames 0, 4, 8
    kept = out.read_bytes()
    for other, says in [
        (["--every", "8"], "has frame 4 of"),
        (["--every", "3"], "skips frame 3 of"),
        (["--fps", "10"], "skips frame 3 of"),
        ([], "skips frame 1 of"),  # every frame
        (["--every", "2"], "skips frame 2 of"),
    ]:
        assert main(["predict", str(path), *other, "--output", str(out), "--resume"]) == 2
        err = capsys.readouterr().err
        assert says in err and "began with another --every or --fps" in err, err
        assert out.read_bytes() == kept
    # the frames of --every 4 at 30 frames a second are those of --fps 7.5, so that resumes
    assert main(["predict", str(path), "--fps", "7.5", "--output", str(out), "--resume"]) == 0
    assert [r["frame"] for r in csv.DictReader(out.open())] == ["0", "4", "8", "12", "16", "20"]


def test_cli_video_options_need_a_video(tmp_path, capsys):
    from emorec.cli import main

    photo = tmp_path / "a.png"
    Image.new("RGB", (64, 64)).save(photo)
    assert main(["predict", str(photo), "--every", "2"]) == 2
    assert "apply to videos" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not both
        main(["predict", str(photo), "--every", "2", "--fps", "3"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_video_cut_short_warns_with_where_it_ended(tmp_path, face):
    path = moving_face_video(tmp_path / "v.avi", face, frames=60)  # Motion JPEG: cuttable
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match=r"cut.avi: no frame could be read after frame \d+"):
        frames = list(read_frames(cut))
    assert 0 < len(frames) < 60


_CUT_VIDEO_SCRIPT = """
import warnings, numpy as np
from emorec.video import VideoWriter, read_frames
rng = np.random.default_rng(0)
with VideoWriter("v.avi", fps=10) as out:
    for _ in range(40):
        out.write(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
data = open("v.avi", "rb").read()
open("cut.avi", "wb").write(data[: len(data) // 2])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    print(len(list(read_frames("cut.avi"))), "frames")
"""


@pytest.mark.parametrize("user_level", [None, "24"])
def test_ffmpegs_own_lines_stay_off_stderr_unless_the_user_asks(tmp_path, user_level):
    """A cut video makes FFmpeg print "[mjpeg @ 0x...] overread"; emorec's warning says it
    instead. A level the user set (24: FFmpeg's warnings) is kept, and the lines show."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    if user_level is not None:
        env["OPENCV_FFMPEG_LOGLEVEL"] = user_level
    done = subprocess.run(
        [sys.executable, "-c", _CUT_VIDEO_SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert " frames" in done.stdout
    # FFmpeg writes to stderr; OpenCV, under the user's level, through its own logger
    assert ("overread" in done.stdout + done.stderr) == (user_level is not None), done


def test_a_start_keeps_the_rate_grid_at_any_ratio_and_expected_counts_it(tmp_path):
    path = tmp_path / "v.avi"
    with VideoWriter(path, fps=30) as out:
        for v in range(40):
            out.write(np.full((16, 16, 3), v * 5, np.uint8))
    for fps in (25, 24, 4, 7.5):
        full = [f.index for f in read_frames(path, fps=fps)]
        assert read_frames(path, fps=fps).expected == len(full)
        for start in range(1, 40):
            resumed = [f.index for f in read_frames(path, fps=fps, start=start)]
            assert resumed == [i for i in full if i >= start], (fps, start)
            assert read_frames(path, fps=fps, start=start).expected == len(resumed)
    assert read_frames(path, every=3, start=7).expected == len(
        list(read_frames(path, every=3, start=7))
    )


def test_a_writer_that_gets_no_frame_leaves_nothing(tmp_path):
    VideoWriter(tmp_path / "never.mp4", fps=5)  # not even a temporary file
    with VideoWriter(tmp_path / "empty.mp4", fps=5) as out:
        assert out.frames == 0
    assert list(tmp_path.iterdir()) == []


def test_cli_checks_video_options_before_any_work(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.mp4", face, frames=4)
    for bad, says in (
        (["--every", "0"], "--every 0"),
        (["--smooth", "0"], "--smooth 0"),
        (["--annotate", str(tmp_path / "x.flv")], "cannot write .flv"),
    ):
        assert main(["predict", str(path), *bad]) == 2
        assert says in capsys.readouterr().err
    assert main(["predict", str(path), str(tmp_path / "gone.mp4")]) == 2
    assert "gone.mp4: no such video file" in capsys.readouterr().err


def test_cli_resume_keeps_a_finished_videos_annotated_copy(tmp_path, face, capsys):
    from emorec.cli import main

    path = moving_face_video(tmp_path / "clip.mp4", face, frames=10)
    args = [
        "predict",
        str(path),
        "--output",
        str(tmp_path / "r.csv"),
        "--annotate",
        str(tmp_path / "a"),
    ]
    assert main(args) == 0
    copy = tmp_path / "a" / "clip_emotions.mp4"
    before = copy.read_bytes()
    assert main([*args, "--resume"]) == 0
    assert "kept as it is" in capsys.readouterr().err
    assert copy.read_bytes() == before and video_info(copy).frames == 10


def test_a_webm_plays_in_browsers_and_an_mp4_says_when_it_would_not(tmp_path):
    """Annotated videos were MPEG-4 Part 2, which browsers and notebooks do not play; .webm is
    now VP9 (or VP8), and an .mp4 is H.264 where OpenCV can encode it, else a warning says
    which codec it got and what to write instead (issue 24)."""
    import warnings

    from emorec.video import BROWSER_CODECS, VideoWriter

    frames = [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(4)]
    with VideoWriter(tmp_path / "a.webm", fps=10) as out:
        for frame in frames:
            out.write(frame)
    assert out.codec in BROWSER_CODECS and out.codec.startswith("VP")
    assert (tmp_path / "a.webm").stat().st_size > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with VideoWriter(tmp_path / "b.mp4", fps=10) as out:
            for frame in frames:
                out.write(frame)
    if out.codec in BROWSER_CODECS:
        assert not caught
    else:
        assert out.codec == "mp4v"
        assert any("do not play" in str(w.message) and ".webm" in str(w.message) for w in caught)
