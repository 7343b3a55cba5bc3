"""Kill a training run at chosen and at random moments; the same command must finish it.
Kill ``emorec predict`` mid-folder and mid-video; ``--resume`` must finish it, each photo and
frame once.

Slow (each case trains a tiny model in subprocesses): ``nox -s faults`` runs this file, and
``.ci/run`` runs that session. Each case starts ``FAULT_SCRIPT`` with a fault that SIGKILLs
the process at one moment (in the middle of a backup write, of a ``best.keras`` write, of a
model card write, between the history row and the backup, right after the backup) or after a
random delay, then reruns the same command without the fault until the run is finished, and
checks what a user gets: the right epoch count, every epoch in ``history.csv`` exactly once,
a ``best.keras`` and a ``final.keras`` that load, and no leftovers.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 4

FAULT_SCRIPT = textwrap.dedent(
    """
    import logging, os, signal, sys, threading, time
    import keras
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # "resuming ... (N epochs done)"
    sys.path.insert(0, {tests!r})
    from conftest import separable_dataset
    from emorec import Trainer

    fault, at = os.environ.get("FAULT", ""), int(os.environ.get("FAULT_AT", "1"))
    target = os.environ.get("FAULT_FILE", "")

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def torn(path):  # what a kill in the middle of writing leaves: half a file
        path = str(path)
        if os.path.exists(path):
            with open(path, "r+b") as fh:
                fh.truncate(max(1, os.path.getsize(path) // 2))

    def patch(owner, name, after):
        real, calls = getattr(owner, name), [0]
        def wrapper(self, path, *args, **kwargs):
            calls[0] += 1
            result = real(self, path, *args, **kwargs)
            if calls[0] == at:
                after(path)
            return result
        setattr(owner, name, wrapper)

    if fault == "backup":  # the training state, half written
        patch(keras.Model, "save_weights", lambda p: (torn(p), die()))
    elif fault == "model":  # best.keras candidates, final.keras, the float32 best.keras
        patch(keras.Model, "save", lambda p: (torn(p), die()))
    elif fault == "atomic":  # any file emorec writes atomically, killed before the rename
        real_replace, seen = os.replace, [0]
        def replace(src, dst, *args, **kwargs):
            if ".partial" in os.path.basename(str(src)) and target in os.path.basename(str(dst)):
                seen[0] += 1
                if seen[0] == at:
                    torn(src)
                    die()
            return real_replace(src, dst, *args, **kwargs)
        os.replace = replace

    class KillAt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == at:
                die()

    trainer = Trainer("mini_xception", separable_dataset(), epochs={epochs}, batch_size=16,
                      seed=0, output_dir=sys.argv[1], verbose=0, schedule="cosine")
    if fault == "before_backup":  # history row written, backup not
        trainer.callbacks.insert(len(trainer.callbacks) - 1, KillAt())
    elif fault == "after_backup":
        trainer.callbacks.append(KillAt())
    elif fault == "random":  # counted from here, so that the import's time does not matter
        timer = threading.Timer(float(os.environ["FAULT_DELAY"]), die)
        timer.daemon = True  # a run that ends first exits as it would
        timer.start()
    start = time.perf_counter()
    trainer.fit()
    print(f"fit took {{time.perf_counter() - start:.3f}} s")
    """
)


def run_training(
    tmp_path: Path, out: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    if not script.exists():
        script.write_text(FAULT_SCRIPT.format(tests=str(ROOT / "tests"), epochs=EPOCHS))
    full = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    return subprocess.run(
        [sys.executable, str(script), str(out)],
        env=full,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def check_finished(out: Path) -> None:
    import keras

    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["epochs_done"] == EPOCHS
    lines = (out / "history.csv").read_text().strip().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(e) for e in range(EPOCHS)]
    assert (out / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("best.keras", "final.keras"):
        model = keras.saving.load_model(out / name, compile=False)
        assert model.output_shape == (None, 3)
    assert not (out / "backup").exists()
    assert not [p.name for p in out.iterdir() if ".partial" in p.name]


def check_after_kill(out: Path) -> None:
    """What a kill leaves, before any rerun: every file emorec committed is whole (the models
    and training states load, ``config.json`` parses), and ``history.csv`` has a complete row for
    every epoch the newest training state holds (a row may run ahead of it: it is rolled back
    on resume), so history, backup and run state agree."""
    import h5py
    import keras

    if (out / "config.json").exists():
        assert isinstance(json.loads((out / "config.json").read_text()), dict)
    # (backup/best-NNNN.keras is a candidate, written in place by Keras and committed as
    # best.keras with its epoch's state; a torn one is discarded on resume)
    for model in out.glob("*.keras"):
        if ".partial" not in model.name:
            keras.saving.load_model(model, compile=False)
    states = sorted(p for p in out.glob("backup/epoch-*.weights.h5") if ".partial" not in p.name)
    for state in states:
        with h5py.File(state, "r"):
            pass
    if states:
        newest = int(states[-1].name.split("-")[1].split(".")[0])
        header, *rows = (out / "history.csv").read_text().splitlines()
        complete = [r for r in rows if r.count(",") == header.count(",")]
        assert [r.split(",")[0] for r in complete[:newest]] == [str(e) for e in range(newest)]


def is_finished(out: Path) -> bool:
    config = out / "config.json"
    return config.exists() and json.loads(config.read_text()).get("status") == "finished"


def finish(tmp_path: Path, out: Path, attempts: int = 3) -> None:
    """Rerun the same command until the run is finished; a kill after its end (finished
    already) gets the refusal a user would see, which also removes a backup left over."""
    if is_finished(out):
        result = run_training(tmp_path, out, {})
        assert result.returncode != 0 and "holds a finished run" in result.stderr
        check_finished(out)
        return
    for _ in range(attempts):
        result = run_training(tmp_path, out, {})
        if result.returncode == 0:
            check_finished(out)
            return
    raise AssertionError(f"the rerun failed: {result.stderr[-3000:]}")


@pytest.mark.parametrize(
    "fault,file,at",
    [
        ("backup", "", 2),  # the second epoch's training state, half written
        ("model", "", 1),  # the first best model (Keras writes it in place), half written
        ("model", "", 2),  # a later one: the best model before it must survive the kill
        ("model", "", 99),  # never: a control run with the patch in place
        ("atomic", "weights.h5", 3),  # the third state, before its rename
        ("atomic", "final.keras", 1),  # final.keras's card, inside the final model's write
        ("atomic", "final.keras", 2),  # final.keras itself
        ("atomic", "best.keras", 1),  # best.keras with its card, at the end of the run
        ("atomic", "config.json", 2),  # the run marked finished
        ("atomic", ".emorec-run.json", 1),  # the run folder's marker, the first file written
        ("atomic", "training_curves.png", 1),  # the curves, the last file of the run
        ("before_backup", "", 1),  # the epoch's history row written, its backup not
        ("after_backup", "", 2),
        ("after_backup", "", EPOCHS - 1),  # every epoch trained, nothing of the end saved
    ],
)
def test_a_kill_at_a_chosen_moment_then_the_same_command_finishes(tmp_path, fault, file, at):
    out = tmp_path / "run"
    first = run_training(tmp_path, out, {"FAULT": fault, "FAULT_FILE": file, "FAULT_AT": str(at)})
    if at == 99:
        assert first.returncode == 0, first.stderr[-3000:]
        check_finished(out)
        return
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    check_after_kill(out)
    finish(tmp_path, out)


def test_kills_at_random_moments_several_times_in_a_row(tmp_path):
    # How long an uninterrupted run trains on this machine, so that the random moments fall
    # inside training on a fast machine and on a slow one alike.
    control = run_training(tmp_path, tmp_path / "control", {})
    assert control.returncode == 0, control.stderr[-3000:]
    check_finished(tmp_path / "control")
    fit_seconds = float(control.stdout.split("fit took ")[-1].split()[0])

    out = tmp_path / "run"
    rng = random.Random(int(os.environ.get("EMOREC_FAULT_SEED", "0")))
    killed = 0
    for _ in range(4):
        # each under half a run: the first two kills land before the run can end
        delay = rng.uniform(0.05, 0.45) * fit_seconds
        result = run_training(tmp_path, out, {"FAULT": "random", "FAULT_DELAY": f"{delay:.3f}"})
        if result.returncode == 0 or is_finished(out):
            break
        assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
        check_after_kill(out)
        killed += 1
    finish(tmp_path, out)
    assert killed >= 2


@pytest.mark.parametrize("damaged", ["newest", "both"])
def test_a_backup_damaged_on_disk_is_skipped_with_a_warning(tmp_path, damaged):
    out = tmp_path / "run"
    first = run_training(tmp_path, out, {"FAULT": "after_backup", "FAULT_AT": "2"})
    assert first.returncode == -signal.SIGKILL
    states = sorted((out / "backup").glob("epoch-*.weights.h5"))
    assert [p.name for p in states] == ["epoch-0002.weights.h5", "epoch-0003.weights.h5"]
    for state in states[-1:] if damaged == "newest" else states:  # damaged after it was written
        state.write_bytes(b"\x89HDF\r\n" + b"\0" * 100)
    result = run_training(tmp_path, out, {})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch-0003.weights.h5: a damaged training backup" in result.stderr
    if damaged == "newest":  # resumed from the state before it
        assert "(2 epochs done)" in result.stderr
    else:  # none loads: the run starts again from its first epoch, never a dead end
        assert "epoch-0002.weights.h5: a damaged training backup" in result.stderr
        assert "no training backup could be loaded" in result.stderr
        assert "(0 epochs done)" in result.stderr
    check_finished(out)


# ------------------------------------------------------------------ emorec predict, killed
def _predict(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "emorec.cli", "predict", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_once_rows_appear(proc: subprocess.Popen, rows: Path, at_least: int) -> None:
    """SIGKILL ``proc`` as soon as ``rows`` holds ``at_least`` lines; fail if it ends first."""
    import time

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if rows.exists() and rows.read_bytes().count(b"\n") >= at_least:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            pytest.fail(f"the job ended before its kill: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail("no rows appeared")


def _rows(path: Path) -> list[dict]:
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_predict_killed_mid_folder_resumes_with_every_photo_once(tmp_path):
    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    astronaut = (ROOT / "examples" / "photos" / "astronaut.jpg").read_bytes()
    rng = np.random.default_rng(0)
    for i in range(150):
        if i % 6 == 0:  # a photo to detect in, among crops
            (photos / f"p{i:03d}.jpg").write_bytes(astronaut)
        else:
            crop = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            Image.fromarray(crop).save(photos / f"p{i:03d}.png")
    control, rows = tmp_path / "control.csv", tmp_path / "rows.csv"
    done = _predict([str(photos), "--output", str(control)], tmp_path)
    assert done.wait() == 0, done.stderr.read().decode()
    _kill_once_rows_appear(_predict([str(photos), "--output", str(rows)], tmp_path), rows, 10)
    cut = len(_rows(rows))
    assert 0 < cut < 150
    again = _predict([str(photos), "--output", str(rows), "--resume"], tmp_path)
    assert again.wait() == 0, again.stderr.read().decode()
    got, want = _rows(rows), _rows(control)
    assert [r["source"] for r in got] == [r["source"] for r in want]  # each once, in order
    assert [r["label"] for r in got] == [r["label"] for r in want]
    # the same numbers, up to float noise of other batch compositions
    assert all(abs(float(a["score"]) - float(b["score"])) < 1e-4 for a, b in zip(got, want))


def test_predict_killed_mid_video_resumes_with_every_frame_once(tmp_path):
    import numpy as np
    from PIL import Image

    from emorec.video import VideoWriter

    face = np.asarray(
        Image.open(ROOT / "examples" / "photos" / "astronaut.jpg")
        .convert("RGB")
        .crop((120, 20, 330, 230))
        .resize((120, 120))
    )
    video = tmp_path / "clip.mp4"
    with VideoWriter(video, fps=25) as out:
        for i in range(120):
            canvas = np.full((240, 480, 3), 90, np.uint8)
            x = 10 + i * 2
            canvas[60:180, x : x + 120] = face
            out.write(canvas)
    control, rows = tmp_path / "control.csv", tmp_path / "rows.csv"
    done = _predict([str(video), "--every", "2", "--output", str(control)], tmp_path)
    assert done.wait() == 0, done.stderr.read().decode()
    ann = tmp_path / "ann"
    args = [str(video), "--every", "2", "--output", str(rows), "--annotate", str(ann)]
    _kill_once_rows_appear(_predict(args, tmp_path), rows, 8)
    assert 0 < len(_rows(rows)) < 60
    (left,) = (p.name for p in ann.iterdir())  # the killed job's temporary
    assert left.startswith(".clip_emotions.mp4.") and left.endswith(".partial.mp4")
    again = _predict([*args, "--resume"], tmp_path)
    assert again.wait() == 0, again.stderr.read().decode()
    assert [p.name for p in ann.iterdir()] == ["clip_emotions.mp4"]  # its temporary removed
    got, want = _rows(rows), _rows(control)
    assert (
        [r["frame"] for r in got]
        == [r["frame"] for r in want]
        == [str(n) for n in range(0, 120, 2)]
    )
    assert [r["x"] for r in got] == [r["x"] for r in want]
    assert [r["track"] for r in got] == [r["track"] for r in want] == ["1"] * 60  # one face
