from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path

import keras
import pytest

from emorec import Trainer, build_model
from emorec.cli import build_parser
from emorec.models.card import file_provenance, resolve_keras_model
from emorec.training import TrainerSettings
from emorec.training.run_folder import RunFolder
from emorec.training.settings import CONFIG_KEYS, settings_from_arguments

# Trainer keywords that are not settings (objects, not plain data).
NOT_SETTINGS = {"self", "model", "dataset", "callbacks", "strategy", "teacher", "settings"}


def test_fields_and_defaults_are_the_trainers_keywords():
    parameters = inspect.signature(Trainer.__init__).parameters
    keywords = {name: p.default for name, p in parameters.items() if name not in NOT_SETTINGS}
    assert TrainerSettings.defaults() == keywords
    assert [f.name for f in dataclasses.fields(TrainerSettings)] == list(keywords)
    assert TrainerSettings() == TrainerSettings(**keywords)


def test_the_cli_defaults_are_the_settings_defaults(capsys):
    args = build_parser().parse_args(["train", "data.zip", "--model", "vgg_m", "--output", "o"])
    defaults = TrainerSettings.defaults()
    for name in (
        "epochs",
        "batch_size",
        "optimizer",
        "learning_rate",
        "schedule",
        "warmup_epochs",
        "weight_decay",
        "label_smoothing",
        "ema",
        "val_split",
        "class_weight",
        "precision",
        "jit_compile",
        "distill",
        "seed",
        "overwrite",
    ):
        assert getattr(args, name) == defaults[name], name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in (
        "training epochs (default: 30)",
        "images per training step (default: 64)",
        "L2 weight decay (default: 0.0005)",
        "label smoothing of the targets (default: 0.1)",
        "learning-rate schedule (default: plateau)",
        "default 0.05 for sgd, 0.001 for adam, 0.001 for adamw",
        "fraction of train to validate on (default 0.1)",
        "in the targets (default 0.5)",
        "default 10 with plateau",
    ):
        assert shown in text, shown


# The messages the Trainer's checks gave before they moved into TrainerSettings.
INVALID = [
    ({"batch_size": 0}, "batch_size=0; expected a positive integer"),
    ({"batch_size": 8.0}, "batch_size=8.0; expected a positive integer"),
    ({"epochs": 0}, "epochs=0; expected a positive integer"),
    (
        {"schedule": "linear"},
        "schedule='linear'; expected one of ('plateau', 'cosine', 'constant')",
    ),
    (
        {"optimizer": "rmsprop"},
        "optimizer='rmsprop'; expected one of ('sgd', 'adam', 'adamw') or a keras optimizer",
    ),
    ({"label_smoothing": 1.0}, "label_smoothing=1.0; expected 0..1"),
    ({"ema": 1.5}, "ema=1.5; expected None or a momentum between 0 and 1, such as 0.999"),
    (
        {"ema": 0.9, "optimizer": "keras-sgd"},
        "ema=0.9 with a Keras optimizer (SGD); create the optimizer with use_ema=True and "
        "ema_momentum instead",
    ),
    ({"class_weight": "inverse"}, "class_weight='inverse'; expected 'balanced', None or a dict"),
    (
        {"precision": "float64"},
        "precision='float64'; expected one of float32, mixed_bfloat16, mixed_float16 "
        "(mixed_bfloat16 is the fast one on CPUs with AVX-512 BF16)",
    ),
    ({"distill": 0}, "distill=0; expected a weight above 0, at most 1"),
    ({"distill": 1.5}, "distill=1.5; expected a weight above 0, at most 1"),
]


@pytest.mark.parametrize("kwargs,message", INVALID)
def test_invalid_settings_raise_the_trainers_messages(tiny_ds, tmp_path, kwargs, message):
    if kwargs.get("optimizer") == "keras-sgd":
        kwargs = {**kwargs, "optimizer": keras.optimizers.SGD()}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TrainerSettings(**kwargs)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Trainer("mini_xception", tiny_ds, output_dir=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_a_keras_optimizer_is_accepted_and_named():
    settings = TrainerSettings(optimizer=keras.optimizers.Adam(1e-4))
    assert settings.optimizer_name == "Adam" and settings.to_config()["optimizer"] == "Adam"
    with pytest.raises(ValueError, match="or a keras optimizer"):
        TrainerSettings(optimizer=object())  # type: ignore[arg-type]


def test_precision_with_a_keras_model_still_needs_a_name(tiny_ds, tmp_path):
    model = build_model("seed_cnn", num_classes=3)
    with pytest.raises(ValueError, match="precision='mixed_float16' needs a model name"):
        Trainer(model, tiny_ds, precision="mixed_float16", output_dir=tmp_path / "run")


def test_settings_are_frozen_typed_and_resolved():
    settings = TrainerSettings(weight_decay=0, warmup_epochs=2, ema=1 / 2, learning_rate=1)
    assert settings.weight_decay == 0.0 and isinstance(settings.weight_decay, float)
    assert isinstance(settings.learning_rate, float) and settings.peak_learning_rate == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epochs = 3  # type: ignore[misc]
    assert TrainerSettings().peak_learning_rate == 0.05
    assert TrainerSettings(optimizer="adam").peak_learning_rate == 1e-3
    assert TrainerSettings().patience == 10
    assert TrainerSettings(schedule="cosine").patience is None
    assert TrainerSettings(early_stopping_patience=3, schedule="cosine").patience == 3
    assert TrainerSettings(early_stopping_patience=None).patience is None
    names = [TrainerSettings(val_split=v).validation_name for v in (0.2, "test", None, 0)]
    assert names == ["val", "test", None, None]


def test_to_config_keys_order_and_optional_entries():
    config = TrainerSettings().to_config(model="vgg_m", labels=["a"], teacher=None, targets=None)
    assert list(config) == [k for k in CONFIG_KEYS if k in config]
    assert not {"ema", "precision", "jit_compile", "targets", "teacher", "distill"} & set(config)
    assert config["init_from"] is None and config["augment"] is True
    full = TrainerSettings(
        ema=0.99, precision="mixed_bfloat16", jit_compile=True, distill=0.3, augment=abs
    ).to_config(teacher=[{"file": "t.keras"}], targets="probability")
    assert full["ema"] == 0.99 and full["precision"] == "mixed_bfloat16"
    assert full["jit_compile"] is True and full["distill"] == 0.3
    assert full["targets"] == "probability" and full["augment"] == repr(abs)
    assert "output_dir" not in full and "command" not in full and "verbose" not in full
    with pytest.raises(TypeError, match="to_config\\(\\) got epochs"):
        TrainerSettings().to_config(epochs=3)


def test_to_config_records_init_from_by_name_and_digest():
    config = TrainerSettings(init_from="fer2013_vgg_m").to_config()
    # what the Trainer records: the .keras file it loads the weights from
    keras_file = resolve_keras_model("fer2013_vgg_m", "init_from")
    assert config["init_from"] == file_provenance(keras_file)
    given = {"file": "best.keras", "sha256": "0" * 64}
    assert TrainerSettings(init_from="fer2013_vgg_m").to_config(init_from=given)["init_from"] == (
        given
    )


def test_to_config_round_trips_through_config_json(tmp_path):
    settings = TrainerSettings(
        epochs=3, class_weight={0: 2.0, 1: 1.0}, augment={"erasing": 0.5}, model_kwargs={"a": 1}
    )
    facts = {"model": "vgg_m", "input_shape": [48, 48, 1], "labels": ["a", "b"]}
    run = RunFolder(tmp_path / "run")
    assert run.open(settings.to_config(**facts)) == "new"
    run.write_config(status="running", config=settings.to_config(**facts))
    assert json.loads(run.config_file.read_text())["config"]["class_weight"] == {
        "0": 2.0,
        "1": 1.0,
    }
    assert RunFolder(run.path).open(settings.to_config(**facts)) == "resume"
    other = dataclasses.replace(settings, epochs=4)
    with pytest.raises(FileExistsError, match="epochs: 3 there, 4 now"):
        RunFolder(run.path).open(other.to_config(**facts))


# config.json's "config" as the Trainer wrote it before TrainerSettings (emorec at commit
# 1085ebb), for mini_xception on conftest's separable_dataset().
OLD_CONFIGS = {
    "defaults": (
        {},
        '{"model": "mini_xception", "model_kwargs": {}, "parameters": 50739, '
        '"input_shape": [48, 48, 1], "labels": ["a", "b", "c"], "data": null, '
        '"train_split": "train", "train_images": 54, "val_split": "val", "val_images": 6, '
        '"batch_size": 64, "epochs": 30, "optimizer": "sgd", "learning_rate": 0.05, '
        '"schedule": "plateau", "warmup_epochs": 0, "weight_decay": 0.0005, '
        '"label_smoothing": 0.1, "augment": true, "init_from": null, "class_weight": null, '
        '"early_stopping_patience": 10, "seed": null}',
    ),
    "custom": (
        dict(
            val_split=0.2,
            batch_size=8,
            epochs=3,
            optimizer="adamw",
            schedule="cosine",
            warmup_epochs=1,
            weight_decay=0,
            label_smoothing=0.0,
            ema=0.99,
            augment={"erasing": 0.5},
            class_weight="balanced",
            seed=3,
            model_kwargs={"dropout": 0.2},
            early_stopping_patience=4,
            data_source="faces.zip",
            jit_compile=True,
        ),
        '{"model": "mini_xception", "model_kwargs": {"dropout": 0.2}, "parameters": 50739, '
        '"input_shape": [48, 48, 1], "labels": ["a", "b", "c"], "data": "faces.zip", '
        '"train_split": "train", "train_images": 48, "val_split": "val", "val_images": 12, '
        '"batch_size": 8, "epochs": 3, "optimizer": "adamw", "learning_rate": 0.001, '
        '"schedule": "cosine", "warmup_epochs": 1, "weight_decay": 0.0, '
        '"label_smoothing": 0.0, "ema": 0.99, "augment": {"erasing": 0.5}, '
        '"init_from": null, "class_weight": "balanced", "early_stopping_patience": 4, '
        '"seed": 3, "jit_compile": true}',
    ),
}


@pytest.mark.parametrize("name", sorted(OLD_CONFIGS))
def test_a_run_started_before_trainer_settings_resumes(tiny_ds, tmp_path, name):
    kwargs, old = OLD_CONFIGS[name]
    out = tmp_path / "run"
    out.mkdir()
    # a run of the earlier emorec: no marker, its config.json as that version wrote it
    record = {"emorec_version": "0.9.0", "status": "running", "config": json.loads(old)}
    (out / "config.json").write_text(json.dumps(record, indent=2))
    trainer = Trainer("mini_xception", tiny_ds, output_dir=out, verbose=0, **kwargs)
    # the same bytes, key order included
    assert json.dumps(trainer.config(), indent=2) == json.dumps(json.loads(old), indent=2)
    assert trainer.run_folder.open(trainer.config()) == "resume"


def test_settings_can_be_passed_whole(tiny_ds, tmp_path):
    settings = TrainerSettings(epochs=2, batch_size=16, seed=0, output_dir=tmp_path / "run")
    trainer = Trainer("mini_xception", tiny_ds, settings=settings)
    assert trainer.settings is settings
    assert (trainer.epochs, trainer.batch_size, trainer.output_dir) == (2, 16, tmp_path / "run")
    by_keywords = Trainer(
        "mini_xception", tiny_ds, epochs=2, batch_size=16, seed=0, output_dir=tmp_path / "run"
    )
    assert by_keywords.settings == settings and by_keywords.config() == trainer.config()
    with pytest.raises(ValueError, match=r"^epochs=5 given with settings=; pass the settings"):
        Trainer("mini_xception", tiny_ds, settings=settings, epochs=5)
    with pytest.raises(TypeError, match="expected a TrainerSettings"):
        Trainer("mini_xception", tiny_ds, settings={"epochs": 2})  # type: ignore[arg-type]


def test_settings_from_arguments_ignores_defaults_given_again():
    settings = TrainerSettings(epochs=60)
    given = {**TrainerSettings.defaults(), "verbose": "auto", "weight_decay": 5e-4}
    assert settings_from_arguments(given, settings) is settings
    assert settings_from_arguments({**given, "epochs": 7}).epochs == 7


def test_the_default_callbacks_write_where_the_run_folder_says(tiny_ds, tmp_path):
    # (the run folder's layout, not a setting: here to keep test_trainer.py under 600 lines)
    trainer = Trainer("mini_xception", tiny_ds, output_dir=tmp_path / "run", verbose=0)
    run, backup = trainer.run_folder, trainer.callbacks[-1]
    assert (backup.backup_dir, backup.best_model) == (run.backup_dir, run.best_model)
    logger = next(c for c in trainer.callbacks if isinstance(c, keras.callbacks.CSVLogger))
    assert Path(logger.filename) == run.history_file
