from __future__ import annotations

import hashlib
import json

import pytest

from conftest import install_plugin, zip_tree
from emorec.cli import main


@pytest.fixture
def data_zip(tmp_path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "faces"
    for split, n in (("train", 12), ("test", 3)):
        for c, label in enumerate(("happy", "sad", "surprised")):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                img = np.clip(c * 100 + rng.integers(0, 40, (48, 48)), 0, 255).astype("uint8")
                Image.fromarray(img).save(folder / f"{i}.png")
    return zip_tree(root, tmp_path / "faces.zip")


def test_train_then_evaluate(data_zip, tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        str(data_zip),
        "--model",
        "mini_xception",
        "--epochs",
        "2",
        "--output",
        str(out),
        "--batch-size",
        "8",
        "--seed",
        "0",
        "--model-arg",
        "dropout=0.1",
    ]
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())
    assert (
        config["command"].startswith("emorec train ")
        and "--model-arg dropout=0.1" in config["command"]
    )
    assert config["config"]["model_kwargs"] == {"dropout": 0.1}
    assert config["config"]["labels"] == ["happy", "sad", "surprise"]
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"done: {out / 'best.keras'} (best on validation), {out / 'final.keras'}, "
        f"{out / 'history.csv'}, {out / 'training_curves.png'}"
    )
    assert (
        main(
            [
                "evaluate",
                str(out / "best.keras"),
                str(data_zip),
                "--split",
                "test",
                "--tta",
                "--json",
                "--confusion-matrix",
                str(tmp_path / "cm.png"),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 9 and report["tta"] == "flip" and (tmp_path / "cm.png").exists()
    # the same command on a finished run: one-line error, exit 2, nothing touched
    assert main(args) == 2
    assert "finished run" in capsys.readouterr().err
    # a second run starts from the first one's weights, with random erasing
    again = [*args[:7], str(tmp_path / "again"), *args[8:]]
    again += ["--init-from", str(out / "best.keras"), "--augment", "erasing=0.25"]
    again += ["--ema", "0.9"]
    assert main(again) == 0
    config = json.loads((tmp_path / "again" / "config.json").read_text())["config"]
    digest = hashlib.sha256((out / "best.keras").read_bytes()).hexdigest()
    assert config["init_from"] == {"file": "best.keras", "sha256": digest}
    assert config["augment"] == {"erasing": 0.25}
    assert config["ema"] == 0.9


def test_entry_point_architecture_through_the_cli(
    data_zip, tmp_path, monkeypatch, fresh_registry, capsys
):
    monkeypatch.syspath_prepend(str(install_plugin(tmp_path / "site")))
    assert main(["models", "plugin*"]) == 0
    assert "plugin_net" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                str(data_zip),
                "--model",
                "plugin_net",
                "--epochs",
                "1",
                "--output",
                str(tmp_path / "p"),
                "--batch-size",
                "8",
            ]
        )
        == 0
    )


def test_bad_model_name_is_one_line(data_zip, tmp_path, capsys):
    assert (
        main(
            [
                "train",
                str(data_zip),
                "--model",
                "vgg_z",
                "--epochs",
                "1",
                "--output",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("emorec: error: unknown model 'vgg_z'") and "\n" not in err


def test_train_speed_and_augmentation_options(data_zip, tmp_path):
    out = tmp_path / "fast"
    args = ["train", str(data_zip), "--model", "vgg_s", "--epochs", "1", "--output", str(out)]
    args += ["--batch-size", "8", "--precision", "mixed_bfloat16", "--jit-compile"]
    args += ["--model-arg", "crop=40", "--augment", "zoom=0.1", "--augment", "downscale=0.2"]
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["precision"] == "mixed_bfloat16" and config["jit_compile"] is True
    assert config["model_kwargs"] == {"crop": 40}
    assert config["augment"] == {"zoom": 0.1, "downscale": 0.2}
    student = tmp_path / "student"
    args = ["train", str(data_zip), "--model", "vgg_s", "--epochs", "1", "--output", str(student)]
    args += ["--batch-size", "8", "--teacher", str(out / "best.keras"), "--distill", "0.8"]
    args += ["--model-arg", "crop=40"]
    assert main(args) == 0
    config = json.loads((student / "config.json").read_text())["config"]
    assert config["distill"] == 0.8 and config["teacher"][0]["file"] == "best.keras"


def test_a_users_backup_folder_is_refused_and_kept(data_zip, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "photos.tar").write_text("a user's own backup")
    args = ["train", str(data_zip), "--model", "mini_xception", "--epochs", "1", "--output"]
    for extra in ([], ["--overwrite"]):
        assert main([*args, str(out), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]  # after the "training" line
        assert err.startswith("emorec: error:") and "backup/, which no emorec run wrote" in err
    assert (out / "backup" / "photos.tar").read_text() == "a user's own backup"


def test_a_diverging_rate_is_one_line_and_a_failed_run(data_zip, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(data_zip), "--model", "mini_xception", "--epochs", "2", "--output"]
    assert main([*args, str(out), "--lr", "1e6", "--batch-size", "8"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("emorec: error:")]
    assert len(errors) == 1 and lines[-1].startswith("emorec: error: the training loss became NaN")
    assert json.loads((out / "config.json").read_text())["status"] == "failed"
    assert not (out / "final.keras").exists()
