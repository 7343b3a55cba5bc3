"""The run folder: its state machine, atomic writes and history files (no training here)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import pytest

from emorec._files import partial_affixes
from emorec.training.run_folder import (
    MARKER,
    RUN_FILES,
    RunFolder,
    atomic_file,
    join_history,
    read_history,
)


def test_new_then_resume_then_finished(tmp_path):
    run = RunFolder(tmp_path / "run")
    assert run.open({"epochs": 2}) == "new" and run.path.is_dir()
    run.write_config(status="running", config={"epochs": 2})
    (run.backup_dir).mkdir()
    run.history_file.write_text("epoch,loss\n0,1.0\n")
    again = RunFolder(run.path)
    assert again.open({"epochs": 2}) == "resume"
    assert again.record["status"] == "running" and again.history_file.exists()
    again.write_config(status="finished", epochs_done=2, finished="today")
    with pytest.raises(FileExistsError, match=r"finished run.*2 epochs.*overwrite=True"):
        RunFolder(run.path).open({"epochs": 2})
    # a kill between the finish mark and the backup's removal: the refusal removes it
    assert not run.backup_dir.exists() and run.history_file.exists()


def test_different_settings_are_named_and_kept(tmp_path):
    run = RunFolder(tmp_path)
    run.open({"epochs": 2, "batch_size": 16})
    run.write_config(status="running", config={"epochs": 2, "batch_size": 16})
    with pytest.raises(FileExistsError, match=r"batch_size: 16 there, 32 now; epochs: 2 there"):
        RunFolder(tmp_path).open({"epochs": 3, "batch_size": 32})
    assert json.loads(run.config_file.read_text())["config"]["epochs"] == 2


def test_overwrite_clears_only_the_run_files_of_an_emorec_run(tmp_path):
    run = RunFolder(tmp_path)
    run.open({})
    for name in RUN_FILES:
        (tmp_path / name).write_text("old")
    (tmp_path / "backup").mkdir()
    (tmp_path / "mine.txt").write_text("not a run file")
    (tmp_path / "config.json").write_text(
        json.dumps({"emorec_version": "0", "status": "finished", "config": {}})
    )
    assert RunFolder(tmp_path).open({}, overwrite=True) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "mine.txt"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_run_files_emorec_did_not_write_are_refused_and_kept(tmp_path, overwrite):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "thesis.tex").write_text("a user's backup folder")
    (tmp_path / "best.keras").write_text("someone's model")
    (tmp_path / "config.json").write_text('{"lr": 0.1}')  # a config, but not a run record
    with pytest.raises(FileExistsError, match=r"holds config.json, best.keras, backup/, which no"):
        RunFolder(tmp_path).open({}, overwrite=overwrite)
    assert (tmp_path / "best.keras").read_text() == "someone's model"
    assert (tmp_path / "backup" / "thesis.tex").exists() and not (tmp_path / MARKER).exists()
    with pytest.raises(FileExistsError, match="not an emorec run folder"):
        RunFolder(tmp_path).clear()


def test_a_folder_with_other_files_only_starts_a_run_and_keeps_them(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert RunFolder(tmp_path).open({}) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "notes.txt"]


def test_a_users_hidden_partial_files_survive_a_new_run(tmp_path):
    """A new run in a folder deleted the user's own ``.draft.partial.md``: every hidden
    ``.*.partial*`` name was taken for emorec's temporaries (issue 24). Only the run's own
    temporaries (``.<name>.<8 random>.emorec.partial<suffix>``) are removed now."""
    run = RunFolder(tmp_path)
    run.open({})
    mine = [".draft.partial.md", ".notes.20261205.partial.txt", ".x.partial"]
    for name in mine:
        (tmp_path / name).write_text("the user's")
    # what a write killed half-way leaves: the temporary atomic_file names
    prefix, suffix = partial_affixes(tmp_path / "history.csv")
    fd, name = tempfile.mkstemp(dir=tmp_path, prefix=prefix, suffix=suffix)
    os.close(fd)
    leftover = Path(name).name
    assert RunFolder(tmp_path).open({}, overwrite=True) == "new"
    assert not (tmp_path / leftover).exists()
    for name in mine:
        assert (tmp_path / name).read_text() == "the user's"


def test_unreadable_config_names_the_file(tmp_path):
    RunFolder(tmp_path).open({})
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config.json: not a readable run record.*overwrite=True"):
        RunFolder(tmp_path).open({})


def test_a_failed_run_resumes_with_its_settings_and_restarts_with_others(tmp_path):
    run = RunFolder(tmp_path)
    run.open({"lr": 1e6})
    run.write_config(status="running", config={"lr": 1e6})
    run.fail("the loss became NaN")
    (tmp_path / "history.csv").write_text("epoch,loss\n0,nan\n")
    assert RunFolder(tmp_path).open({"lr": 1e6}) == "resume"
    assert RunFolder(tmp_path).open({"lr": 0.01}) == "new"
    assert not (tmp_path / "history.csv").exists()


def test_rewind_rolls_the_history_back_to_the_backup(tmp_path):
    run = RunFolder(tmp_path)
    run.open({})
    # epoch 1 logged twice (run again after a resume), epoch 2 past the backup, a torn row
    run.history_file.write_text("epoch,loss\r\n0,1.0\r\n1,0.9\r\n1,0.8\r\n2,0.7\r\n3,0.")
    assert run.rewind(2) == {"epoch": [0.0, 1.0], "loss": [1.0, 0.8]}
    assert run.history_file.read_bytes() == b"epoch,loss\r\n0,1.0\r\n1,0.9\r\n1,0.8\r\n"
    assert run.rewind(0) == {} and not run.history_file.exists()


def test_atomic_file_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "config.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [target.name]
    with atomic_file(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".json"
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_read_history_keeps_the_last_row_of_an_epoch(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss\n0,2.0,\n1,1.5,1.6\n1,1.4,1.5\n2,1.2,1.3\n")
    history = read_history(path)
    assert history["epoch"] == [0, 1, 2] and history["loss"] == [2.0, 1.4, 1.2]
    assert math.isnan(history["val_loss"][0])
    path.write_text("loss\n1.0\n")
    with pytest.raises(ValueError, match="no 'epoch'"):
        read_history(path)
    path.write_text("epoch,loss\n0,abc\n")
    with pytest.raises(ValueError, match=r"epoch 0, column 'loss' is 'abc'"):
        read_history(path)


def test_join_history_appends_this_fit_to_the_earlier_epochs():
    before = {"epoch": [0, 1, 2], "loss": [3.0, 2.0, 9.9], "learning_rate": [0.1, 0.1, 0.1]}
    joined = join_history(before, {"loss": [1.5, 1.0]}, [2, 3])  # epoch 2 is run again
    assert joined["epoch"] == [0, 1, 2, 3] and joined["loss"] == [3.0, 2.0, 1.5, 1.0]
    assert joined["learning_rate"][:2] == [0.1, 0.1] and math.isnan(joined["learning_rate"][3])
    assert join_history({}, {"loss": [1.0]}, [0]) == {"epoch": [0], "loss": [1.0]}
    assert join_history(before, {}, [])["epoch"] == [0, 1, 2]
