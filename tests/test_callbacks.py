"""emorec's callbacks: the default list, AverageWeights (EMA) and restoring best-so-far."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emorec.training.callbacks import (
    AverageWeights,
    RestoreBestSoFar,
    default_callbacks,
    monitor_mode,
    restore_callback_state,
)


def tiny_model(use_ema: bool = False, learning_rate: float = 1.0) -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate, use_ema=use_ema, ema_momentum=0.5), "mse")
    return model


def replay(callback, model, values, monitor):
    """Run ``callback`` live over per-epoch ``values``; returns the history it would log."""
    callback.set_model(model)
    callback.on_train_begin()
    history: dict[str, list[float]] = {monitor: [], "learning_rate": []}
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        history["learning_rate"].append(float(model.optimizer.learning_rate.numpy()))
        callback.on_epoch_end(epoch, logs)
        history[monitor].append(value)
    return history


def restored(make, model, history):
    fresh = make()
    fresh.set_model(model)
    fresh.on_train_begin()  # resets it, as fit does
    restore_callback_state([fresh], history)
    return fresh


VALUES = st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.35, 0.5, 0.9]), min_size=1, max_size=14)


@settings(max_examples=60, deadline=None)
@given(values=VALUES, mode=st.sampled_from(["min", "max"]), min_delta=st.sampled_from([0, 0.05]))
def test_early_stopping_state_matches_an_uninterrupted_run(values, mode, min_delta):
    model = tiny_model()

    def make():
        return keras.callbacks.EarlyStopping(
            "val_loss", mode=mode, min_delta=min_delta, patience=99
        )

    live = make()
    history = replay(live, model, values, "val_loss")
    again = restored(make, model, history)
    assert (again.best, again.wait) == (pytest.approx(live.best), live.wait)


@settings(max_examples=60, deadline=None)
@given(values=VALUES, patience=st.integers(1, 3), cooldown=st.integers(0, 2))
def test_reduce_lr_on_plateau_state_matches_an_uninterrupted_run(values, patience, cooldown):
    model = tiny_model(learning_rate=1.0)

    def make():
        return keras.callbacks.ReduceLROnPlateau(
            "val_loss", factor=0.5, patience=patience, cooldown=cooldown, min_lr=0.2
        )

    live = make()
    history = replay(live, model, values, "val_loss")  # lowers the model's rate on plateaus
    again = restored(make, model, history)
    assert (again.best, again.wait, again.cooldown_counter) == (
        pytest.approx(live.best),
        live.wait,
        live.cooldown_counter,
    )


def test_model_checkpoint_best_and_other_callbacks(tmp_path):
    model = tiny_model()
    path = str(tmp_path / "best.weights.h5")

    def make():
        return keras.callbacks.ModelCheckpoint(
            path, monitor="val_accuracy", mode="max", save_best_only=True, save_weights_only=True
        )

    live = make()
    history = replay(live, model, [0.5, 0.7, np.nan, 0.6], "val_accuracy")
    assert restored(make, model, history).best == pytest.approx(live.best) == 0.7
    # callbacks of other kinds, and monitors the history lacks, are left alone
    logger = keras.callbacks.CSVLogger(str(tmp_path / "h.csv"))
    stop = keras.callbacks.EarlyStopping("val_loss")
    stop.set_model(model)
    stop.on_train_begin()
    restore_callback_state([logger, stop], {"loss": [1.0]})
    assert stop.wait == 0


def test_restore_best_so_far_runs_after_the_others_reset():
    model = tiny_model()
    stop = keras.callbacks.EarlyStopping("loss", patience=5)
    # identical inputs with targets 0, 1, 0, 1: no weights get the MSE below 0.25
    x, y = np.ones((4, 2)), np.array([[0.0], [1.0], [0.0], [1.0]])
    seen = {}

    class Look(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["best"] = stop.best

    history = {"loss": [0.01, 0.02, 0.03]}  # better than anything this fit can reach
    model.fit(
        x, y, epochs=1, verbose=0, callbacks=[stop, RestoreBestSoFar([stop], history), Look()]
    )
    assert seen["best"] == 0.01 and stop.best == 0.01 and stop.wait == 3


def test_monitor_mode():
    assert monitor_mode("val_accuracy") == monitor_mode("auc") == "max"
    assert monitor_mode("val_loss") == "min" and monitor_mode("val_accuracy", "min") == "min"
    with pytest.raises(ValueError, match="mode='best'"):
        monitor_mode("loss", "best")


def test_default_list_orders_averaging_before_checkpoint_and_the_backup_last(tmp_path):
    callbacks = default_callbacks(tmp_path, average_weights=True)
    names = [type(c).__name__ for c in callbacks]
    assert names.index("AverageWeights") < names.index("ModelCheckpoint")
    assert names[-1] == "RunBackup"
    assert callbacks[-1].average is callbacks[names.index("AverageWeights")]
    plain = default_callbacks(tmp_path, monitor="loss", plateau=False, early_stopping_patience=None)
    assert [type(c).__name__ for c in plain] == [
        "ModelCheckpoint",
        "CSVLogger",
        "TerminateOnNaN",
        "RunBackup",
    ]
    assert plain[0].monitor == "loss"
    # the checkpoint writes each epoch's best model into the backup, which commits it
    assert plain[0].filepath == str(tmp_path / "backup" / "best-{epoch:04d}.keras")
    assert plain[-1].best_model == tmp_path / "best.keras"


class AtEpochEnd(keras.callbacks.Callback):
    """Records the model's trainable weights at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append([keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights])


class AtEpochBegin(AtEpochEnd):
    """Records them at each epoch's beginning instead."""

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)


def test_average_weights_validates_checkpoints_and_keeps_the_average():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 2)), rng.normal(size=(64, 1))
    model = tiny_model(use_ema=True, learning_rate=0.1)
    raw_end = AtEpochEnd()  # before AverageWeights: the raw weights
    avg_end = AtEpochEnd()  # after it: what ModelCheckpoint would save
    raw_begin = AtEpochBegin()  # after it: what the next epoch trains on
    average = AverageWeights()
    history = model.fit(
        x,
        y,
        validation_data=(x, y),
        epochs=3,
        batch_size=8,
        verbose=0,
        callbacks=[raw_end, average, avg_end, raw_begin],
    )
    assert not average.holds_average
    for raw, avg in zip(raw_end.seen, avg_end.seen):
        assert any(not np.allclose(r, a) for r, a in zip(raw, avg))
    for raw, begin in zip(raw_end.seen[:-1], raw_begin.seen[1:]):  # training goes on raw
        for r, b in zip(raw, begin):
            np.testing.assert_array_equal(r, b)
    # fit leaves the average in the model, and validation ran on it
    for final, avg in zip(model.trainable_weights, avg_end.seen[-1]):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(final), avg, rtol=1e-6)
    loss = model.evaluate(x, y, batch_size=8, verbose=0)
    assert loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


def test_average_weights_does_nothing_without_ema():
    model = tiny_model(use_ema=False)
    seen = AtEpochEnd()
    average = AverageWeights()
    model.fit(np.ones((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0, callbacks=[average, seen])
    for final, last in zip(model.trainable_weights, seen.seen[-1]):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(final), last)
