"""Training across processes (emorec.training.distributed): the launch settings, the writer
rule and the sharding without JAX; two processes on 127.0.0.1 training together with it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from emorec.training import distributed as dist
from emorec.training import launch as lv
from emorec.training.distributed import LaunchSettings
from engine_data import engine_or_skip

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- without JAX
def test_launch_settings_from_the_environment_and_the_flags():
    env = {lv.ENV_ADDRESSES: "10.0.0.1:8476", lv.ENV_COUNT: "4", lv.ENV_ID: "3"}
    launch = LaunchSettings.from_environment(env)
    assert (launch.coordinator, launch.num_processes, launch.process_id) == ("10.0.0.1:8476", 4, 3)
    assert launch.environment() == env
    # the command line's values win; the ones not given stay the environment's
    flags = launch.merged(coordinator="127.0.0.1:9000", num_processes=None, process_id=0)
    assert (flags.coordinator, flags.num_processes, flags.process_id) == ("127.0.0.1:9000", 4, 0)
    assert LaunchSettings.from_environment({}) == LaunchSettings()  # JAX detects the cluster
    assert dist.requested(env) and not dist.requested({lv.ENV_ADDRESSES: "h:1"})
    # every process's address, comma-separated, is Keras's other form
    assert LaunchSettings("10.0.0.1:1,10.0.0.2:2", 2, 1).coordinator == "10.0.0.1:1,10.0.0.2:2"


@pytest.mark.parametrize(
    "env, message",
    [
        ({lv.ENV_COUNT: "two"}, "KERAS_DISTRIBUTION_NUM_PROCESSES='two'; expected an integer"),
        ({lv.ENV_COUNT: "0"}, "0 processes; expected a positive integer"),
        ({lv.ENV_COUNT: "2", lv.ENV_ID: "2"}, "process id 2 with 2 processes; expected 0 to 1"),
        ({lv.ENV_ID: "-1"}, "process id -1; expected an integer from 0"),
        ({lv.ENV_ADDRESSES: "10.0.0.1"}, "coordinator address '10.0.0.1'; expected HOST:PORT"),
        ({lv.ENV_ADDRESSES: "h:1,h:99999"}, "coordinator address 'h:99999'"),
    ],
)
def test_bad_launch_settings_are_named(env, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        LaunchSettings.from_environment(env)


def test_the_writer_is_process_zero_and_alone_everything_is_one_process(tmp_path):
    assert dist.is_writer(0) and not dist.is_writer(1)
    assert (dist.process_count(), dist.process_index(), dist.is_writer()) == (1, 0, True)
    # alone, the run folder is the user's; another process gets a scratch copy of it
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    assert dist.scratch_copy(tmp_path / "run", 0) == tmp_path / "run"
    scratch = dist.scratch_copy(tmp_path / "run", 1)
    assert scratch != tmp_path / "run" and (scratch / "config.json").read_text() == "{}"
    dist.discard_scratch(tmp_path / "run")  # not a scratch copy: kept
    assert (tmp_path / "run" / "config.json").exists()
    dist.discard_scratch(scratch)
    assert not scratch.exists() and not scratch.parent.exists()
    # alone, nothing to synchronise or to check
    dist.barrier("alone")
    dist.check_same(3, "anything")
    assert dist.shared_seed(None) is None and dist.shared_seed(7) == 7


def test_batches_are_shared_out_disjoint_and_even():
    assert dist.per_process_batch(64, 1) == 64 and dist.per_process_batch(64, 4) == 16
    with pytest.raises(ValueError, match="batch_size=10 with 4 processes.*such as 12"):
        dist.per_process_batch(10, 4)
    feed = [list(range(i, min(i + 4, 30))) for i in range(0, 30, 4)]  # 7 full batches, 1 of 2
    shares = [dist.shard_batches(feed, 30, 4, index=i, count=3) for i in range(3)]
    seen = [[x for step in range(len(s)) for x in s[step]] for s in shares]
    assert [len(s) for s in shares] == [2, 2, 2] == [dist.steps_per_epoch(30, 12, 3)] * 3
    assert not set(seen[0]) & set(seen[1]) and not set(seen[1]) & set(seen[2])
    assert len(set().union(*seen)) == 24  # 30 less fewer than one global batch (12)
    assert dist.shard_batches(feed, 30, 4, index=0, count=1) is feed
    assert dist.steps_per_epoch(30, 12, 1) == 3
    with pytest.raises(IndexError):
        shares[0][2]
    with pytest.raises(ValueError, match="3 full batches of 4 per process, fewer than the 4"):
        dist.shard_batches(feed[:3], 12, 4, index=0, count=4)


def test_another_backend_is_refused_with_how_to_choose_jax():
    with pytest.raises(
        ValueError, match="needs Keras's JAX backend, but Keras runs on 'torch'.*KERAS_BACKEND=jax"
    ):
        dist.check_backend("torch")
    dist.check_backend("jax")


def test_the_command_line_flags_choose_jax_and_the_launch(monkeypatch):
    from emorec import _native
    from emorec.cli import build_parser, main
    from emorec.cli import train as train_cli
    from emorec.cli.train import _launch, wants_jax

    # setenv first, so that whatever main() sets is undone after the test (delenv of an
    # absent name records nothing to restore)
    for name in ("KERAS_BACKEND", lv.ENV_ADDRESSES, lv.ENV_COUNT, lv.ENV_ID):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    parser = build_parser()
    plain = parser.parse_args(["train", "data", "--model", "vgg_m", "--output", "o"])
    assert _launch(plain) is None and not wants_jax(plain)
    assert "KERAS_BACKEND" not in os.environ  # parsing alone changes nothing
    flags = ["--coordinator", "127.0.0.1:9", "--num-processes", "2", "--process-id", "1"]
    args = parser.parse_args(["train", "data", "--model", "vgg_m", "--output", "o", *flags])
    assert wants_jax(args) and "KERAS_BACKEND" not in os.environ
    assert _launch(args) == LaunchSettings("127.0.0.1:9", 2, 1)

    # the command sets the backend before anything imports Keras, and keeps a user's choice
    seen = []
    monkeypatch.setattr(train_cli, "run", lambda a: seen.append(os.environ["KERAS_BACKEND"]) or 0)
    monkeypatch.setattr(_native, "import_tensorflow_quietly", lambda: None)
    assert main(["train", "data", "--model", "m", "--output", "o", *flags]) == 0
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert main(["train", "data", "--model", "m", "--output", "o", "--distributed"]) == 0
    assert seen == ["jax", "torch"]

    monkeypatch.setenv(lv.ENV_COUNT, "3")  # the launcher's variables alone ask for it too
    assert _launch(plain) == LaunchSettings(None, 3, None) and wants_jax(plain)


# ----------------------------------------------------------------------------- two processes
CHILD = textwrap.dedent(
    """
    import json, os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import keras
    from emorec.training import distributed as dist

    out, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
    if os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES"):
        dist.initialize()
    from emorec import EmotionDataset, Trainer
    from emorec.data.dataset_build import split_from_arrays

    me = dist.process_index()
    events = []  # what this process fed: ("batch", step, image ids) and ("end",)
    sharded = dist._sharded_class()
    getitem, epoch_end = sharded.__getitem__, sharded.on_epoch_end

    def logged_getitem(self, step):
        x, y = getitem(self, step)
        events.append(("batch", step, np.asarray(x)[:, 0, 0, 0].astype(int).tolist()))
        return x, y

    def logged_epoch_end(self):
        events.append(("end",))
        epoch_end(self)

    sharded.__getitem__, sharded.on_epoch_end = logged_getitem, logged_epoch_end

    def data(n, seed):  # a brightness band per class; pixel (0, 0) holds the image's id
        rng = np.random.default_rng(seed)
        y = np.arange(n) % 3
        x = np.clip(y[:, None, None] * 100 + rng.integers(0, 40, (n, 24, 24)), 0, 255)
        x[:, 0, 0] = np.arange(n)
        return x.astype(np.uint8), y

    names = ("a", "b", "c")
    result = {}
    for seed in seeds:
        events.clear()
        train, val = data(64, 0), data(120, 1)  # 100+: calibrated
        ds = EmotionDataset({"train": split_from_arrays(*train, names, "train"),
                             "val": split_from_arrays(*val, names, "val")}, names)
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((24, 24, 1))
        x = keras.layers.Rescaling(1 / 255)(inputs)
        x = keras.layers.Conv2D(4, 3, activation="relu")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
        trainer = Trainer(model, ds, epochs=3, batch_size=8, optimizer="adam",
                          learning_rate=0.02, augment=False, seed=seed, verbose=0,
                          output_dir=os.path.join(out, f"run{seed}"))
        if os.environ.get("EMOREC_TEST_EXIT"):  # "PROCESS:EPOCH": that process dies there
            who, when = map(int, os.environ["EMOREC_TEST_EXIT"].split(":"))

            class Die(keras.callbacks.Callback):  # after RunBackup has saved the epoch
                def on_epoch_end(self, epoch, logs=None):
                    if me == who and epoch == when:
                        os._exit(3)

            trainer.callbacks.append(Die())
        history = trainer.fit()
        result[seed] = {
            "events": events[:],
            "val_accuracy": history.history["val_accuracy"],
            "weights": float(sum(np.abs(w).sum() for w in model.get_weights())),
            "output_dir": str(trainer.output_dir),
        }
    with open(os.path.join(out, f"process{me}.json"), "w") as f:
        json.dump(result, f)
    dist.shutdown()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(script: Path, out: Path, seeds: str, env: dict[str, str], log: Path):
    launcher = (lv.ENV_ADDRESSES, lv.ENV_COUNT, lv.ENV_ID)
    inherited = {k: v for k, v in os.environ.items() if k not in launcher}
    scratch = log.parent / "tmp"  # the processes' temporary folder: their scratch copies
    scratch.mkdir(exist_ok=True)
    full = {**inherited, **env, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    full["TMPDIR"] = str(scratch)
    with open(log, "w") as f:
        return subprocess.Popen(
            [sys.executable, str(script), str(out), seeds], env=full, stdout=f, stderr=f, cwd=ROOT
        )


def _run_together(script, out, seeds, logs, extra=None, timeout=600.0, expect=(0, 0)):
    """Two processes on 127.0.0.1 running ``script``; returns their exit statuses. When the
    first ends with a status other than 0, the other is given 10 s, then killed (it would
    wait for its partner)."""
    port = _free_port()
    env = {lv.ENV_ADDRESSES: f"127.0.0.1:{port}", lv.ENV_COUNT: "2", **(extra or {})}
    procs = [_start(script, out, seeds, {**env, lv.ENV_ID: str(i)}, logs[i]) for i in range(2)]
    deadline = time.monotonic() + timeout
    codes: list[int | None] = [None, None]
    try:
        while None in codes and time.monotonic() < deadline:
            codes = [p.poll() for p in procs]
            if any(c not in (None, 0) for c in codes):
                time.sleep(10)
                break
            time.sleep(0.5)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    codes = [p.returncode for p in procs]
    for code, want, log in zip(codes, expect, logs):
        if want is not None:
            assert code == want, f"{log.name} ended with {code}:\n{log.read_text()[-3000:]}"
    return codes


def _epochs(events):
    """The sorted image ids fed in each epoch, from a process's events. Keras looks at the
    first batch before it trains (and ends that look as an epoch): only epochs that fed every
    step count."""
    epochs, current = [], {}
    for event in events:
        if event[0] == "end":
            epochs.append(current)
            current = {}
        else:
            current[event[1]] = event[2]
    steps = max(len(epoch) for epoch in epochs)
    return [sorted(i for ids in e.values() for i in ids) for e in epochs if len(e) == steps]


@pytest.mark.slow
def test_two_processes_train_together(tmp_path):
    engine_or_skip("jax", 'training across processes needs JAX: pip install "emorec[distributed]"')
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    seeds = "0,1,2"
    together = tmp_path / "together"
    alone = tmp_path / "alone"
    together.mkdir(), alone.mkdir()
    logs = [tmp_path / f"process{i}.log" for i in range(2)]
    baseline = _start(script, alone, seeds, {}, tmp_path / "alone.log")  # one process
    try:
        _run_together(script, together, seeds, logs, timeout=900)
        rc = baseline.wait(timeout=300)
        assert rc == 0, (tmp_path / "alone.log").read_text()[-3000:]
    finally:
        if baseline.poll() is None:
            baseline.kill()
            baseline.wait()
    runs = [json.loads((together / f"process{i}.json").read_text()) for i in range(2)]
    single = json.loads((alone / "process0.json").read_text())
    for seed in seeds.split(","):
        zero, one = runs[0][seed], runs[1][seed]
        # every epoch: the two shares are disjoint and cover the 64 images (8 steps of 4 each)
        epochs = list(zip(_epochs(zero["events"]), _epochs(one["events"])))
        assert len(epochs) == 3
        for mine, theirs in epochs:
            assert len(mine) == len(theirs) == 32 and not set(mine) & set(theirs)
            assert sorted(mine + theirs) == list(range(64))
        # the same weights in both processes, and the same validation figures
        assert zero["weights"] == pytest.approx(one["weights"], rel=1e-6)
        assert zero["val_accuracy"] == one["val_accuracy"]
        # process 0 wrote the run; process 1 wrote nothing there (its scratch copy is gone)
        run = Path(zero["output_dir"])
        assert run == together / f"run{seed}"
        assert {"config.json", "history.csv", "best.keras", "final.keras"} <= {
            p.name for p in run.iterdir()
        }
        assert json.loads((run / "config.json").read_text())["status"] == "finished"
        assert not Path(one["output_dir"]).exists()
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("emorec-")]
    assert sorted(p.name for p in together.iterdir()) == [
        "process0.json",
        "process1.json",
        "run0",
        "run1",
        "run2",
    ]
    # as accurate as one process, over three seeds
    final = {
        name: np.mean([r[s]["val_accuracy"][-1] for s in seeds.split(",")])
        for name, r in (("together", runs[0]), ("alone", single))
    }
    assert final["together"] >= final["alone"] - 0.1, final
    assert final["alone"] > 0.6, final  # the task is learnt at all


@pytest.mark.slow
def test_a_killed_worker_s_run_resumes_from_process_zero_s_folder(tmp_path):
    engine_or_skip("jax", 'training across processes needs JAX: pip install "emorec[distributed]"')
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    logs = [tmp_path / f"process{i}.log" for i in range(2)]
    # process 1 dies after the first epoch; process 0, waiting for it, is killed
    _run_together(script, tmp_path, "5", logs, {"EMOREC_TEST_EXIT": "1:0"}, expect=(None, 3))
    run = tmp_path / "run5"
    assert json.loads((run / "config.json").read_text())["status"] == "running"
    # the same command, started again in both processes, resumes and finishes the run
    _run_together(script, tmp_path, "5", logs)
    config = json.loads((run / "config.json").read_text())
    assert config["status"] == "finished" and "resumed" in config
    rows = (run / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2"]
    zero, one = (json.loads((tmp_path / f"process{i}.json").read_text())["5"] for i in range(2))
    assert len(zero["val_accuracy"]) == len(one["val_accuracy"]) == 2  # epochs 2 and 3
    assert zero["weights"] == pytest.approx(one["weights"], rel=1e-6)
    assert not Path(one["output_dir"]).exists()
    # the scratch copy of the killed process stays (it had no time to delete it), no other
    left = [p for p in (tmp_path / "tmp").iterdir() if p.name.startswith("emorec-process")]
    assert len(left) == 1 and left[0].name.startswith("emorec-process1-")
