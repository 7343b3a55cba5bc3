from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import install_plugin, separable_dataset
from emorec import EmotionDataset, Trainer, build_model, read_card
from emorec.training.callbacks import AverageWeights

ROOT = Path(__file__).resolve().parents[1]


def make(tiny_ds, tmp_path, **kw):
    kw = {
        "epochs": 2,
        "batch_size": 16,
        "seed": 0,
        "output_dir": tmp_path / "run",
        "verbose": 0,
        **kw,
    }
    return Trainer(kw.pop("model", "mini_xception"), tiny_ds, **kw)


@pytest.mark.smoke
def test_fit_writes_the_run_folder(tiny_ds, tmp_path):
    trainer = make(tiny_ds, tmp_path)
    history = trainer.fit()
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == [
        ".emorec-run.json",
        "best.keras",
        "config.json",
        "final.keras",
        "history.csv",
        "training_curves.png",
    ]
    assert len(history.history["loss"]) == 2
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["epochs_done"] == 2
    assert config["config"]["model"] == "mini_xception" and config["config"]["val_split"] == "val"
    card = read_card(out / "best.keras")
    assert card.labels == ("a", "b", "c") and card.input_shape == (48, 48, 1)
    assert card.architecture["name"] == "mini_xception" and card.get("checkpoint") == "best"
    assert card.metrics["val"]["accuracy"] == max(history.history["val_accuracy"])
    final = read_card(out / "final.keras")
    assert final.metrics["val"]["accuracy"] == history.history["val_accuracy"][-1]
    assert final.training["epochs_done"] == 2 and "cores" in final.training["machine"]
    assert not [p.name for p in out.iterdir() if "partial" in p.name]
    # the file loads with plain Keras and predicts from raw pixels
    model = keras.saving.load_model(out / "final.keras", safe_mode=True)
    assert model.predict(tiny_ds["train"].images[:2], verbose=0).shape == (2, 3)


def test_default_callbacks_and_schedules(tiny_ds, tmp_path):
    names = [type(c).__name__ for c in make(tiny_ds, tmp_path).callbacks]
    assert names == [
        "ReduceLROnPlateau",
        "ModelCheckpoint",
        "EarlyStopping",
        "CSVLogger",
        "TerminateOnNaN",
        "RunBackup",
    ]
    cosine = [type(c).__name__ for c in make(tiny_ds, tmp_path, schedule="cosine").callbacks]
    assert "ReduceLROnPlateau" not in cosine and "EarlyStopping" not in cosine
    # with EMA the averaging callback is in the list, before the checkpoint
    ema = [type(c).__name__ for c in make(tiny_ds, tmp_path, ema=0.9).callbacks]
    assert ema[1:3] == ["AverageWeights", "ModelCheckpoint"] and ema[-1] == "RunBackup"
    own = keras.optimizers.Adam(use_ema=True)
    assert "AverageWeights" in [
        type(c).__name__ for c in make(tiny_ds, tmp_path, optimizer=own).callbacks
    ]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_callbacks_can_be_added_removed_and_replaced(tiny_ds, tmp_path):
    trainer = make(tiny_ds, tmp_path / "a")
    recorder = Recorder()
    trainer.callbacks.append(recorder)
    trainer.callbacks[:] = [
        c for c in trainer.callbacks if not isinstance(c, keras.callbacks.EarlyStopping)
    ]
    trainer.fit()
    assert recorder.epochs == [0, 1]

    only = Recorder()
    trainer = make(tiny_ds, tmp_path / "b", callbacks=[only])
    assert trainer.callbacks == [only]
    trainer.fit()
    out = tmp_path / "b" / "run"
    assert only.epochs == [0, 1]
    assert not (out / "best.keras").exists() and (out / "final.keras").exists()


def test_finished_run_is_kept_unless_overwrite(tiny_ds, tmp_path):
    make(tiny_ds, tmp_path, epochs=1).fit()
    before = (tmp_path / "run" / "final.keras").read_bytes()
    with pytest.raises(FileExistsError, match="finished run.*overwrite=True"):
        make(tiny_ds, tmp_path, epochs=1).fit()
    assert (tmp_path / "run" / "final.keras").read_bytes() == before
    make(tiny_ds, tmp_path, epochs=1, overwrite=True).fit()


def test_unfinished_run_with_other_settings_names_them(tiny_ds, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    config = make(tiny_ds, tmp_path).config()
    record = {"emorec_version": "0.1.0", "status": "running", "config": config}
    (out / "config.json").write_text(json.dumps(record))  # a run of an emorec before the marker
    with pytest.raises(FileExistsError, match=r"batch_size: 16 there, 32 now.*epochs: 2 there"):
        make(tiny_ds, tmp_path, batch_size=32, epochs=3).fit()


def test_same_seed_same_first_epoch_loss(tiny_ds, tmp_path):
    a = make(tiny_ds, tmp_path / "a", epochs=1).fit().history["loss"][0]
    b = make(tiny_ds, tmp_path / "b", epochs=1).fit().history["loss"][0]
    assert a == pytest.approx(b, rel=1e-5)


RESUME_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import keras, numpy as np
    sys.path.insert(0, {tests!r})
    from conftest import separable_dataset
    from emorec import Trainer

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == int(os.environ.get("KILL_AT", "-1")):
                os.kill(os.getpid(), signal.SIGKILL)

    trainer = Trainer("mini_xception", separable_dataset(), epochs=4, batch_size=16, seed=0,
                      output_dir=sys.argv[1], verbose=0, schedule="cosine")
    trainer.callbacks.append(Kill())
    trainer.fit()
    """
)


def test_sigkill_then_same_command_resumes(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(RESUME_SCRIPT.format(tests=str(ROOT / "tests")))
    out = tmp_path / "run"
    env = {**os.environ, "KILL_AT": "1", "PYTHONPATH": str(ROOT / "src")}
    first = subprocess.run([sys.executable, str(script), str(out)], env=env, check=False)
    assert first.returncode == -signal.SIGKILL
    assert json.loads((out / "config.json").read_text())["status"] == "running"
    assert (out / "backup").exists()
    env["KILL_AT"] = "-1"
    second = subprocess.run(
        [sys.executable, str(script), str(out)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["epochs_done"] == 4
    lines = (out / "history.csv").read_text().strip().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2", "3"]
    assert not (out / "backup").exists()


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"model": "no_such_net"}, KeyError, "unknown model"),
        ({"model": "mini_xception", "epochs": 0}, ValueError, "epochs=0"),
        ({"model": "mini_xception", "schedule": "linear"}, ValueError, "schedule='linear'"),
        ({"model": "mini_xception", "val_split": "nope"}, ValueError, "no such split"),
    ],
)
def test_bad_arguments(tiny_ds, tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(tiny_ds, tmp_path, **kwargs)


def test_model_with_wrong_outputs_or_input(tiny_ds, tmp_path):
    with pytest.raises(ValueError, match="outputs 7 classes but the dataset has 3"):
        make(tiny_ds, tmp_path, model=build_model("mini_xception"))
    flat = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="input shape"):
        make(tiny_ds, tmp_path, model=flat)


def test_init_from_a_trained_model(tiny_ds, tmp_path):
    first = make(tiny_ds, tmp_path, model="seed_cnn", epochs=1, command="emorec train first")
    first.fit()
    donor = tmp_path / "run" / "best.keras"
    second = make(
        tiny_ds,
        tmp_path,
        model="seed_cnn",
        init_from=donor,
        output_dir=tmp_path / "second",
        augment={"erasing": 0.5},
        epochs=1,
    )
    for mine, theirs in zip(second.model.get_weights(), first.model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    digest = hashlib.sha256(donor.read_bytes()).hexdigest()
    assert second.config()["init_from"] == {"file": "best.keras", "sha256": digest}
    assert second.config()["augment"] == {"erasing": 0.5}
    second.fit()
    card = read_card(tmp_path / "second" / "best.keras")
    started = card.training["started_from"]
    assert (started["file"], started["sha256"]) == ("best.keras", digest)
    assert started["training"]["command"] == "emorec train first"
    # no machine path anywhere: not in the card, not in config.json
    for text in (
        json.dumps(card.to_dict()),
        (tmp_path / "second" / "config.json").read_text(),
    ):
        assert str(tmp_path) not in text and str(Path.home()) not in text
        assert not re.search(r'"/[^"]*/', text), re.search(r'"/[^"]*/', text)
    with pytest.raises(ValueError, match="do not fit mini_xception"):
        make(tiny_ds, tmp_path, init_from=donor, output_dir=tmp_path / "third")
    with pytest.raises(FileNotFoundError, match="not a bundled model"):
        make(tiny_ds, tmp_path, init_from=tmp_path / "nope.keras", output_dir=tmp_path / "4")
    with pytest.raises(ValueError, match="unknown augmentation option"):
        make(tiny_ds, tmp_path, augment={"sharpen": 0.1})


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


@pytest.mark.parametrize("stop_early", [False, True])
def test_ema_validates_checkpoints_and_saves_the_averaged_weights(tiny_ds, tmp_path, stop_early):
    trainer = make(tiny_ds, tmp_path, model="seed_cnn", ema=0.9, schedule="constant", epochs=3)
    assert trainer.config()["ema"] == 0.9
    if stop_early:  # as EarlyStopping would
        trainer.callbacks.append(StopAfterFirstEpoch())
    history = trainer.fit().history
    assert len(history["val_loss"]) == (1 if stop_early else 3)
    # the last validation ran on the weights final.keras holds: the average, not the raw ones;
    # best.keras holds the weights its validation score was measured on
    val = trainer.dataset["val"]
    x, y = val.images.astype("float32"), keras.utils.to_categorical(val.labels, 3)
    for name, i in (("final", -1), ("best", int(np.argmax(history["val_accuracy"])))):
        model = keras.saving.load_model(tmp_path / "run" / f"{name}.keras")
        loss = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)["loss"]
        assert loss == pytest.approx(history["val_loss"][i], rel=1e-4), name
    if stop_early:
        return
    raw = make(
        tiny_ds,
        tmp_path,
        model="seed_cnn",
        schedule="constant",
        epochs=3,
        output_dir=tmp_path / "r",
    )
    raw.fit()
    averaged = trainer.model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(averaged, raw.model.get_weights()))
    with pytest.raises(ValueError, match="ema=1.5"):
        make(tiny_ds, tmp_path, ema=1.5)
    with pytest.raises(ValueError, match="use_ema=True"):
        make(tiny_ds, tmp_path, ema=0.9, optimizer=keras.optimizers.SGD())


def test_ema_run_resumes_training_the_raw_weights(tiny_ds, tmp_path):
    class Interrupt(Exception):
        pass

    seen: dict[str, list[np.ndarray]] = {}

    class Raw(keras.callbacks.Callback):
        # runs right after the backup, before AverageWeights: the model holds the raw weights
        def on_epoch_end(self, epoch, logs=None):
            seen["raw"] = [keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights]

    class Stop(keras.callbacks.Callback):
        # runs last: the model holds the averaged weights
        def on_epoch_end(self, epoch, logs=None):
            seen["average"] = [keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights]
            raise Interrupt

    class Look(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if "resumed" not in seen:
                seen["resumed"] = [
                    keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights
                ]

    first = make(tiny_ds, tmp_path, model="seed_cnn", ema=0.9, epochs=3)
    kinds = [type(c) for c in first.callbacks]
    first.callbacks.insert(kinds.index(AverageWeights), Raw())
    first.callbacks.append(Stop())
    with pytest.raises(Interrupt):
        first.fit()
    assert (tmp_path / "run" / "backup").exists()
    assert any(not np.allclose(r, a) for r, a in zip(seen["raw"], seen["average"]))
    second = make(tiny_ds, tmp_path, model="seed_cnn", ema=0.9, epochs=3)
    second.callbacks.append(Look())
    second.fit()
    for resumed, raw in zip(seen["resumed"], seen["raw"]):
        np.testing.assert_allclose(resumed, raw, rtol=1e-6)


def test_history_csv_is_read_once_per_fit(tiny_ds, tmp_path, monkeypatch):
    from emorec.training import run_folder

    class Interrupt(Exception):
        pass

    class StopAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise Interrupt

    reads: list[Path] = []
    real = run_folder.read_history
    monkeypatch.setattr(run_folder, "read_history", lambda path: reads.append(path) or real(path))
    first = make(tiny_ds, tmp_path, epochs=3, schedule="constant")
    first.callbacks.append(StopAfterSecondEpoch())
    with pytest.raises(Interrupt):
        first.fit()
    assert reads == []  # a new run has no history to read
    resumed = make(tiny_ds, tmp_path, epochs=3, schedule="constant")
    history = resumed.fit()
    assert [Path(p).name for p in reads] == ["history.csv"]
    assert history.epoch == [2]
    # the card and the curves cover the whole run, not only this call's epoch
    card = read_card(tmp_path / "run" / "final.keras")
    assert card.training["epochs_done"] == 3
    lines = (tmp_path / "run" / "history.csv").read_text().strip().splitlines()
    assert len(lines) == 4 and (tmp_path / "run" / "training_curves.png").exists()


def test_empty_split_and_missing_label(tmp_path):
    images = np.zeros((6, 48, 48), np.uint8)
    ds = EmotionDataset.from_arrays(images, [0, 1, 0, 1, 0, 1], ["a", "b", "c"])
    with pytest.raises(ValueError, match="no training images of class.*c"):
        Trainer("mini_xception", ds, output_dir=tmp_path)
    empty = EmotionDataset.from_arrays(np.zeros((0, 48, 48), np.uint8), [], ["a", "b"])
    with pytest.raises(ValueError, match="is empty"):
        Trainer("mini_xception", empty, output_dir=tmp_path)


def test_keras_model_optimizer_strategy_and_class_weight(tiny_ds, tmp_path):
    import tensorflow as tf

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    trainer = make(
        tiny_ds,
        tmp_path,
        model="vgg_s",
        strategy=strategy,
        optimizer="adamw",
        class_weight="balanced",
        schedule="cosine",
        warmup_epochs=1,
        epochs=1,
    )
    history = trainer.fit()
    assert np.isfinite(history.history["loss"][0])


CUSTOM_LOAD = textwrap.dedent(
    """
    import sys, numpy as np
    import emorec.models
    model = emorec.models.load_model(sys.argv[1])  # imports the plugin via its entry point
    print(type(model.layers[2]).__name__, model.predict(np.zeros((1, 48, 48, 1)), verbose=0).shape)
    """
)


def test_custom_architecture_round_trip_in_a_fresh_process(tmp_path, monkeypatch, fresh_registry):
    site = install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    trainer = Trainer(
        "plugin_net",
        separable_dataset(),
        epochs=1,
        batch_size=16,
        verbose=0,
        output_dir=tmp_path / "run",
        seed=0,
    )
    trainer.fit()
    script = tmp_path / "load.py"
    script.write_text(CUSTOM_LOAD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "src")])}
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run" / "final.keras")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["Brighten", "(1,", "3)"]
    sys.modules.pop("emorec_test_plugin", None)


def test_mixed_bfloat16_trains_and_saves_float32_calibrated_models(tiny_ds, tmp_path):
    import keras

    trainer = make(
        tiny_ds, tmp_path, model="vgg_s", precision="mixed_bfloat16", model_kwargs={"crop": 40}
    )
    assert trainer.model.get_layer("stage1_1_conv").compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is put back
    assert trainer.config()["precision"] == "mixed_bfloat16"
    trainer.fit()
    for name in ("best.keras", "final.keras"):
        model = keras.saving.load_model(tmp_path / "run" / name)
        assert {layer.compute_dtype for layer in model.layers} == {"float32"}
        assert model.get_layer("crop").output.shape[1:3] == (40, 40)
        card = read_card(tmp_path / "run" / name)
        assert card.architecture == {"name": "vgg_s", "kwargs": {"crop": 40}}
        assert card.calibration["split"] == "val" and card.calibration["temperature"] > 0
        assert card.calibration["n"] == len(trainer.dataset["val"])
    # a float32 run's config is what it always was (old run folders still resume)
    plain = make(tiny_ds, tmp_path, output_dir=tmp_path / "plain")
    assert "precision" not in plain.config() and "jit_compile" not in plain.config()
    with pytest.raises(ValueError, match="precision='float64'"):
        make(tiny_ds, tmp_path, precision="float64")
    with pytest.raises(ValueError, match="needs a model name"):
        make(tiny_ds, tmp_path, model=plain.model, precision="mixed_bfloat16")


def test_jit_compile_is_passed_to_keras(tiny_ds, tmp_path):
    trainer = make(tiny_ds, tmp_path, model="seed_cnn", jit_compile=True, epochs=1)
    assert trainer.model.jit_compile is True and trainer.config()["jit_compile"] is True


def test_distillation_from_teachers(tiny_ds, tmp_path):
    import tensorflow as tf

    first = make(tiny_ds, tmp_path, model="seed_cnn", epochs=1, output_dir=tmp_path / "t")
    first.fit()
    teacher = tmp_path / "t" / "best.keras"
    student = make(
        tiny_ds,
        tmp_path,
        model="mini_xception",
        epochs=1,
        teacher=[teacher, teacher],
        distill=0.7,
        output_dir=tmp_path / "s",
    )
    digest = hashlib.sha256(teacher.read_bytes()).hexdigest()
    assert student.config()["teacher"] == [{"file": "best.keras", "sha256": digest}] * 2
    assert student.config()["distill"] == 0.7
    # the targets are 0.3 * one-hot + 0.7 * the teachers' probabilities of the same batch
    x, y = next(iter(student._data("train", train=True)))
    t = student.teachers[0](x, training=False).numpy()
    hard = (y.numpy() - 0.7 * t) / 0.3
    np.testing.assert_allclose(hard.sum(axis=1), 1.0, atol=1e-4)
    assert set(np.round(hard, 3).ravel()) <= {0.0, 1.0}
    assert isinstance(x, tf.Tensor)
    student.fit()
    assert read_card(tmp_path / "s" / "best.keras").training["config"]["distill"] == 0.7
    # class weights follow the true labels (as sample weights), not the soft targets
    weighted = make(
        tiny_ds,
        tmp_path,
        model="mini_xception",
        teacher=teacher,
        distill=0.9,
        class_weight={0: 1.0, 1: 2.0, 2: 3.0},
        output_dir=tmp_path / "w",
    )
    x, y, w = next(iter(weighted._data("train", train=True)))
    t = weighted.teachers[0](x, training=False).numpy()
    hard = np.round((y.numpy() - 0.9 * t) / 0.1).argmax(axis=1)
    np.testing.assert_allclose(w.numpy(), np.array([1.0, 2.0, 3.0])[hard])
    with pytest.raises(ValueError, match="same labels in the same order"):
        make(tiny_ds, tmp_path, model="mini_xception", teacher="fer2013_vgg_m")
    wide = build_model("seed_cnn", input_shape=(64, 64, 1), num_classes=3)
    with pytest.raises(ValueError, match="a teacher must match both"):
        make(tiny_ds, tmp_path, model="mini_xception", teacher=wide)
    with pytest.raises(ValueError, match="distill=0"):
        make(tiny_ds, tmp_path, teacher=teacher, distill=0)


def test_a_diverged_run_stops_is_marked_failed_and_saves_no_nan(tiny_ds, tmp_path):
    from emorec.training import TrainingDiverged

    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match=r"infinite in epoch 1 \(learning rate 1e\+06"):
        make(tiny_ds, tmp_path, learning_rate=1e6, epochs=3).fit()
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "failed" and "lower learning rate" in config["failure"]
    assert not (out / "final.keras").exists() and not (out / "best.keras").exists()
    assert not list((out / "backup").glob("*.keras"))  # no best model of a NaN epoch waits
    # a failed run's folder is reused by a run with a lower rate, without --overwrite
    make(tiny_ds, tmp_path, learning_rate=0.01, epochs=1).fit()
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["config"]["learning_rate"] == 0.01


def test_divergence_after_good_epochs_keeps_the_last_good_best_model(tiny_ds, tmp_path):
    from emorec.training import TrainingDiverged

    class Poison(keras.callbacks.Callback):
        """Makes the weights NaN during the third epoch (as a diverging step would)."""

        def on_train_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations.numpy() == 9:
                weights = self.model.get_weights()
                self.model.set_weights([w * np.nan for w in weights])

    trainer = make(tiny_ds, tmp_path, epochs=4, schedule="cosine")  # 4 steps an epoch
    trainer.callbacks.insert(0, Poison())
    with pytest.raises(TrainingDiverged, match="in epoch 3.*best.keras holds the best model"):
        trainer.fit()
    out = tmp_path / "run"
    best = keras.saving.load_model(out / "best.keras", compile=False)
    assert all(np.isfinite(w).all() for w in best.get_weights())
    states = {p.name for p in (out / "backup").glob("epoch-*")}
    assert states == {"epoch-0001.weights.h5", "epoch-0002.weights.h5"}  # none of epoch 3
    assert json.loads((out / "config.json").read_text())["status"] == "failed"
    assert not (out / "final.keras").exists()


def test_soft_targets_are_trained_on(tmp_path):
    from emorec import DatasetSplit

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (48, 48, 48, 1), np.uint8)
    targets = rng.dirichlet(np.ones(3), 48).astype(np.float32)
    part = DatasetSplit("train", images, targets.argmax(axis=1), ("a", "b", "c"), (), targets)
    ds = EmotionDataset({"train": part}, ("a", "b", "c"))
    trainer = make(ds, tmp_path, epochs=1, augment=False)
    assert trainer.config()["targets"] == "probability"
    _, y = next(iter(trainer._data("train", train=True)))
    # each target row is one of the distributions (shuffled), never a one-hot vector
    found = [np.abs(targets - row).sum(axis=1).min() for row in y.numpy()]
    assert max(found) < 1e-5 and not set(np.round(y.numpy().ravel(), 3)) <= {0.0, 1.0}
    trainer.fit()
    assert read_card(tmp_path / "run" / "best.keras").training["config"]["targets"] == "probability"
    # without targets the config is as before (old runs still compare equal)
    plain = make(
        EmotionDataset.from_arrays(images, targets.argmax(axis=1), ["a", "b", "c"]),
        tmp_path,
        output_dir=tmp_path / "plain",
    )
    assert "targets" not in plain.config()


def test_a_full_disk_stops_the_run_with_a_clear_error_and_it_resumes(
    tiny_ds, tmp_path, monkeypatch
):
    """A disk that filled mid-run crashed the process inside the HDF5 writer (SIGSEGV); the
    backup is now refused before it is written, with an error naming the folder and the space,
    and the same command resumes once space is freed (issue 24)."""
    import errno
    import shutil
    from collections import namedtuple

    real = shutil.disk_usage
    usage = namedtuple("usage", "total used free")
    calls = {"n": 0}

    def nearly_full(path):
        calls["n"] += 1
        if calls["n"] >= 2:  # the first epoch's backup fits, the second's does not
            return usage(10**9, 10**9 - 2 * 10**6, 2 * 10**6)
        return real(path)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    with pytest.raises(
        OSError, match=r"MB free, about .* MB needed.*run the same command again"
    ) as e:
        make(tiny_ds, tmp_path, epochs=3).fit()
    assert e.value.errno == errno.ENOSPC
    out = tmp_path / "run"
    assert json.loads((out / "config.json").read_text())["status"] != "finished"
    monkeypatch.setattr(shutil, "disk_usage", real)
    history = make(tiny_ds, tmp_path, epochs=3).fit()  # space freed: it resumes
    assert len(history.history["loss"]) == 2  # epochs 2 and 3
    assert json.loads((out / "config.json").read_text())["epochs_done"] == 3
