"""The API reference covers every public name, each with an Examples section.

``nox -s docs`` builds the HTML and then runs this file, so the inventory test runs there;
in a plain ``pytest`` run without a docs build it is skipped, the docstring test is not.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "docs" / "_build" / "html" / "objects.inv"
PUBLIC_MODULES = [
    "emorec",
    "emorec.models",
    "emorec.faces",
    "emorec.plots",
    "emorec.images",
    "emorec.labels",
    "emorec.training",
    "emorec.training.launch",
    "emorec.training.distributed",
    "emorec.evaluation",
    "emorec.inference",
    "emorec.pixels",
    "emorec.data.readers",
    "emorec.data.fer_csv",
    "emorec.data.shards",
    "emorec.data.sharded_split",
    "emorec.data.shard_writer",
    "emorec.training.distill",
    "emorec.streaming",
    "emorec.data.splits",
    "emorec.data.pipeline",
    "emorec.data.augment",
    "emorec.data.kaggle",
]


def public_objects():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


def documented_names() -> set[str]:
    raw = INVENTORY.read_bytes()
    body = raw.split(b"\n", 4)[4]  # four header lines, then zlib-compressed entries
    return {line.split(" ", 1)[0] for line in zlib.decompress(body).decode().splitlines()}


@pytest.mark.skipif(not INVENTORY.exists(), reason="docs not built (nox -s docs runs this)")
def test_every_public_name_is_in_the_api_reference():
    names = documented_names()
    missing = []
    for module_name, name, obj in public_objects():
        if name.startswith("__"):
            continue
        candidates = {
            f"{module_name}.{name}",
            f"emorec.{name}",
            f"{getattr(obj, '__module__', module_name)}.{name}",
        }
        if not candidates & names:
            missing.append(f"{module_name}.{name}")
    assert not missing, f"not in the built API reference: {missing}"


def test_every_public_class_and_function_has_an_example():
    missing = [
        f"{module_name}.{name}"
        for module_name, name, obj in public_objects()
        if (inspect.isclass(obj) or inspect.isfunction(obj))
        and "Examples\n--------" not in (inspect.getdoc(obj) or "")
    ]
    assert not missing, f"public names without an Examples section: {missing}"


# The docs' own extensions (docs/_ext): the model zoo table, the benchmark tables and the CLI
# reference's parser, all built without Sphinx.
EXT = ROOT / "docs" / "_ext"
GALLERY = ROOT / "examples" / "gallery"


@pytest.fixture(scope="module")
def ext():
    sys.path.insert(0, str(EXT))
    try:
        yield {name: importlib.import_module(name) for name in ("model_zoo", "benchmark_tables")}
    finally:
        sys.path.remove(str(EXT))


def test_the_model_zoo_has_a_row_for_every_model_file_in_the_weights_folder(ext):
    shipped = {p.stem for p in (ROOT / "src" / "emorec" / "weights").iterdir()}
    table = "\n".join(ext["model_zoo"].zoo_table())
    assert shipped, "no bundled model files found"
    missing = sorted(name for name in shipped if f"``{name}``" not in table)
    assert not missing, f"bundled models without a row in the model zoo: {missing}"


def test_a_zoo_row_shows_the_cards_figures_and_a_dash_for_what_it_lacks(ext, tmp_path):
    from emorec import ModelCard

    path = tmp_path / "m.tflite"
    path.write_bytes(b"x" * 2_000_000)
    raw = {"accuracy": 0.6946, "macro_f1": 0.6761, "tta": "flip", "n": 3569, "pixels": "raw"}
    equalised = {**raw, "labels": "ferplus", "pixels": "equalised"}
    card = ModelCard(
        labels=("a", "b"),
        input_shape=(48, 48, 1),
        color_mode="grayscale",
        metrics={"public_test": raw, "public_test_ferplus_equalised": equalised},
        tta="none",
    )
    row = ext["model_zoo"].zoo_row("m", path, card)
    assert row["fer2013"] == "69.46 / 67.61 (n=3569, TTA flip)"
    assert row["ferplus"] == "-"  # only an equalised figure: not shown as the raw pixels'
    assert row["speed"] == row["calibration"] == row["data"] == "-"
    assert row["input"] == "48x48 grey"
    assert row["file"] == "TFLite, 2.00 MB"
    assert row["labels"] == "2 expressions"
    table = ext["model_zoo"].list_table(["speed"], [[row["speed"]]])
    assert table[-1] == "   * - \\-"  # escaped: a lone "-" in a list-table is a bullet


@pytest.mark.parametrize("name", ["peer-accuracy", "crop-rates", "photo-latency"])
def test_each_benchmark_table_is_read_from_the_results_and_names_its_run(ext, name):
    lines = ext["benchmark_tables"].table_lines(name)
    title = lines[0]
    assert "python benchmarks/" in title and "AMD EPYC" in title, title
    assert "PublicTest" in title or "examples/photos" in title, title
    assert sum(line.startswith("   * - ") for line in lines) >= 3  # a header and rows


def test_an_unknown_benchmark_table_is_refused_with_the_known_names(ext):
    with pytest.raises(ValueError, match="expected one of peer-accuracy, crop-rates"):
        ext["benchmark_tables"].table_lines("speed")


def test_the_cli_reference_documents_every_command_of_the_parser():
    sys.path.insert(0, str(EXT))
    try:
        cli_reference = importlib.import_module("cli_reference")
    finally:
        sys.path.remove(str(EXT))
    from emorec.cli import build_parser

    def commands(parser):
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        return sub.choices

    documented, real = commands(cli_reference.build_parser()), commands(build_parser())
    assert list(documented) == list(real)
    predict = documented["predict"]
    options = {o for a in predict._actions for o in a.option_strings}
    assert options == {o for a in real["predict"]._actions for o in a.option_strings}
    assert any("'photos/\\*.jpg'" in (a.help or "") for a in predict._actions)  # escaped glob


@pytest.mark.parametrize(
    "script", ["plot_01_predict_photo.py", "plot_02_folder_to_csv.py", "plot_03_video_timeline.py"]
)
def test_a_gallery_example_runs_as_pasted_from_the_repository_root(script, tmp_path):
    """The light examples (the others need TensorFlow; the docs build runs them all)."""
    pytest.importorskip("matplotlib")
    if "video" in script:
        pytest.importorskip("cv2")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "MPLBACKEND": "Agg",
        "TMPDIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, str(GALLERY / script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "happy" in out.stdout
