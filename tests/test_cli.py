from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import emorec
from conftest import zip_tree
from emorec import __version__
from emorec.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"emorec {__version__}"


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("info", "dataset", "download"):
        assert command in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: emorec" in capsys.readouterr().out


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["emorec"] == __version__ and "tensorflow" in info
    package = Path(info["package_dir"])
    assert package.name == "emorec" and (package / "__init__.py").is_file()
    assert package == Path(emorec.__file__).resolve().parent
    deps = info["dependencies"]
    assert deps["numpy"]["extra"] is None and deps["tensorflow"]["extra"] == "train"
    assert deps["numpy"]["installed"] == importlib.metadata.version("numpy")
    assert "CPU:0" in info["tensorflow_devices"]  # the test install has TensorFlow


def test_info_text_names_every_dependency_and_its_extra(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "package_dir" in out and "devices" in out
    assert any(
        line.split()[:1] == ["keras"] and "emorec[train]" in line for line in out.splitlines()
    )


def test_dataset_summary(tiny_tree, tmp_path, capsys):
    z = zip_tree(tiny_tree, tmp_path / "t.zip")
    assert main(["dataset", "summary", str(z)]) == 0
    out = capsys.readouterr().out
    assert "14 images, 3 classes" in out and "angry" in out
    assert main(["dataset", "summary", str(z), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["splits"]["train"] == {"angry": 2, "happy": 3, "sad": 2}


def test_user_error_is_one_line_exit_2(tmp_path, capsys):
    assert main(["dataset", "summary", str(tmp_path / "missing.zip")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emorec: error:") and "missing.zip" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "dataset", "summary", "MISSING"],
        ["dataset", "summary", "MISSING", "--debug"],
        ["dataset", "--debug", "summary", "MISSING"],
    ],
)
def test_debug_is_taken_before_or_after_the_command(tmp_path, argv):
    argv = [str(tmp_path / "missing.zip") if a == "MISSING" else a for a in argv]
    with pytest.raises(FileNotFoundError, match="missing.zip"):
        main(argv)


def test_json_names_each_photo_source_as_the_rows_do(tmp_path, capsys):
    photo = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
    missing = tmp_path / "missing.jpg"
    missing.write_bytes(b"not a photo")
    argv = ["predict", str(photo), str(missing), "--errors", "skip"]
    assert main([*argv, "--json"]) == 2  # one input failed
    shown = json.loads(capsys.readouterr().out)
    assert [sorted(entry) for entry in shown] == [["faces", "source"], ["error", "source"]]
    assert [entry["source"] for entry in shown] == [str(photo), str(missing)]
    assert main([*argv, "--output", str(tmp_path / "rows.json")]) == 2
    written = json.loads((tmp_path / "rows.json").read_text())
    assert [entry["source"] for entry in written] == [str(photo), str(missing)]


def test_parquet_without_pyarrow_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    photo = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
    out = tmp_path / "x.parquet"
    assert main(["predict", str(photo), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emorec: error: {out}: writing Parquet needs pyarrow: pip install")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_debug_shows_the_error_with_its_traceback(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.zip"):
        main(["--debug", "dataset", "summary", str(tmp_path / "missing.zip")])


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    # `emorec info | head -1`: the reader has gone when emorec writes
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["info"]) == 141
    assert capsys.readouterr().err == ""


def test_console_script_runs_in_a_fresh_process(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,Usage\n1,Training\n")
    proc = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "dataset", "summary", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"emorec: error: {bad}: missing column(s) pixels; expected a header "
        "'emotion,pixels,Usage' as in fer2013.csv"
    ]


def test_image_size_option_resizes_mixed_sizes(tmp_path, capsys):
    from PIL import Image

    for name, size in (("happy", (48, 48)), ("sad", (64, 80))):
        (tmp_path / name).mkdir()
        Image.new("L", size, 100).save(tmp_path / name / "a.png")
    assert main(["dataset", "summary", str(tmp_path)]) == 2
    assert "image_size=" in capsys.readouterr().err
    assert main(["dataset", "summary", str(tmp_path), "--image-size", "48x48", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["image_shape"]["train"] == [48, 48, 1]
    assert main(["dataset", "summary", str(tmp_path), "--image-size", "big"]) == 2
    assert "expected a size such as 48" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", ["info", "dataset summary", "download", "predict", "models", "train", "evaluate"]
)
def test_help_shows_defaults_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"example:\n  emorec {command}" in out
    if command == "train":
        assert "training epochs (default: 30)" in out and "(default: 0)" in out


def test_models_lists_names_without_importing_tensorflow():
    code = (
        "import sys; from emorec.cli import main; code = main(['models']); "
        "print(code, 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "0 False False" and "  vgg_m" in lines and proc.stderr == ""
    from emorec import list_pretrained, read_card
    from emorec.models.card import DEFAULT_PRETRAINED

    for name in list_pretrained():  # each with its card's figure, the default marked
        card = read_card(name)
        measured = card.metrics["public_test"]
        default = "default; " if name == DEFAULT_PRETRAINED else ""
        plus = card.metrics.get("public_test_ferplus", {}).get("accuracy")
        both = f" (FER2013 labels), {plus:.1%} (FER+ majority)" if plus else ""
        assert (
            f"  {name} ({default}{card.architecture['name']}, PublicTest accuracy "
            f"{measured['accuracy']:.1%}{both} at tta={measured.get('tta') or card.tta})"
        ) in lines


def test_a_second_job_on_the_same_output_is_refused(tmp_path, capsys):
    """Two `emorec predict --output same.csv --overwrite` at once both exited 0 and left
    duplicated rows; the second is now refused before it touches the file (issue 24)."""
    from emorec import LABELS
    from emorec.results import RowWriter

    photo = Path(__file__).resolve().parents[1] / "examples" / "photos" / "astronaut.jpg"
    out = tmp_path / "rows.csv"
    with RowWriter(out, LABELS) as first:  # a first job, still writing
        first.write([{"source": "a.jpg", "face": 0}])
        code = main(["predict", str(photo), "--output", str(out), "--overwrite"])
        assert code == 2
        assert "another process is writing rows to this file" in capsys.readouterr().err
    assert out.read_text().count("a.jpg") == 1  # the first job's rows are whole
    assert main(["predict", str(photo), "--output", str(out), "--overwrite"]) == 0
    assert "astronaut.jpg" in out.read_text() and "a.jpg" not in out.read_text()
