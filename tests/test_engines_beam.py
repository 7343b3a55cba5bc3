"""Scoring a collection on Apache Beam (emorec.beam, emorec beam-predict): a generated folder
through Beam's in-process Python runner with two worker processes gives every image exactly
once, with the rows of predict_iter, and its corrupt file in the dead letter."""

from __future__ import annotations

import glob
import json
import subprocess
import sys

import pytest

from emorec import EmotionClassifier
from emorec._optional import MissingDependencyError
from emorec.engine_stages import require_engine
from engine_data import CORRUPT, assert_same_rows, engine_or_skip, expected_rows, make_folder

SKIP = 'Apache Beam is not installed (pip install "emorec[beam]")'


@pytest.fixture(scope="module")
def beam():
    return engine_or_skip("apache_beam", SKIP)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    files, corrupt = make_folder(tmp_path_factory.mktemp("engines") / "images")
    return files, corrupt


@pytest.fixture(scope="module")
def want(folder):
    return expected_rows(EmotionClassifier.load(), folder[0])


def _read_jsonl(pattern: str) -> list[dict]:
    return [json.loads(line) for f in sorted(glob.glob(pattern)) for line in open(f)]


def test_importing_emorec_and_its_engine_modules_imports_no_engine():
    code = (
        "import sys, emorec, emorec.beam, emorec.ray, emorec.cli; "
        "print(sorted(m for m in ('apache_beam', 'ray') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_engine_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "emorec\[beam\]"'):
        require_engine("apache_beam", "emorec.beam")
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "emorec\[ray\]"'):
        require_engine("ray.data", "emorec.ray")


def test_the_command_without_beam_says_which_extra_to_install(monkeypatch, capsys):
    from emorec.cli import main

    for name in ["apache_beam", *(m for m in sys.modules if m.startswith("apache_beam."))]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    assert main(["beam-predict", "photos/*.jpg", "--output", "out/emotions"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "emorec[beam]"' in err


def test_two_worker_processes_give_every_image_once_with_predict_iters_rows(
    beam, folder, want, tmp_path
):
    from emorec.beam import pipeline_options, predict_pipeline

    files, corrupt = folder
    prefix = str(tmp_path / "out" / "emotions")
    options = pipeline_options(workers=2)
    assert options.get_all_options()["direct_running_mode"] == "multi_processing"
    result = predict_pipeline(f"{files[0].parent}/*", prefix, options=options, batch_size=3)
    rows = _read_jsonl(f"{prefix}-0*.jsonl")
    assert_same_rows(rows, want)
    assert {r["source"] for r in rows} == {str(p) for p in files}
    errors = _read_jsonl(f"{prefix}-errors-*.jsonl")
    assert [e["source"] for e in errors] == [str(corrupt)]
    assert CORRUPT in errors[0]["error"] and "not a readable image" in errors[0]["error"]
    counters = {
        m.key.metric.name: m.committed
        for m in result.metrics().query()["counters"]
        if m.key.metric.namespace == "emorec"
    }
    assert counters["images"] == len(files) and counters["unreadable"] == 1


def test_the_command_writes_parquet_takes_beam_flags_after_dashes_and_exits_2_on_errors(
    beam, folder, want, tmp_path
):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs pyarrow")
    from emorec.cli import main

    files, corrupt = folder
    prefix = str(tmp_path / "emotions")
    argv = ["beam-predict", f"{files[0].parent}/*", "--output", prefix, "--format", "parquet"]
    status = main([*argv, "--workers", "2", "--", "--direct_runner_bundle_repeat=0"])
    assert status == 2  # the corrupt file: reported, the job done
    rows = [
        r for f in sorted(glob.glob(f"{prefix}-0*.parquet")) for r in pq.read_table(f).to_pylist()
    ]
    assert_same_rows(rows, want)
    assert [e["source"] for e in _read_jsonl(f"{prefix}-errors-*.jsonl")] == [str(corrupt)]


def test_the_command_splits_beams_flags_from_its_own():
    from emorec.cli import build_parser

    args = build_parser().parse_args(
        [
            "beam-predict",
            "x/*.jpg",
            "--output",
            "o",
            "--runner",
            "DataflowRunner",
            "--",
            "--project=p",
            "--region",
            "europe-west1",
        ]
    )
    assert (args.pattern, args.output, args.runner) == ("x/*.jpg", "o", "DataflowRunner")
    assert args.pipeline_args == ["--project=p", "--region", "europe-west1"]
    assert build_parser().parse_args(["beam-predict", "x", "--output", "o"]).pipeline_args == []


def test_the_handler_builds_one_classifier_a_worker_and_classifies_a_batch(beam, folder, want):
    from emorec.beam import EmotionModelHandler, PrepareImages
    from emorec.engine_stages import prepare_file

    handler = EmotionModelHandler(min_batch_size=2, max_batch_size=5)
    assert handler.batch_elements_kwargs() == {"min_batch_size": 2, "max_batch_size": 5}
    clf = handler.load_model()
    assert handler.load_model() is clf  # one a worker process, shared with PrepareImages
    files, corrupt = folder
    prepared = [prepare_file(clf, str(p), p.read_bytes()) for p in files]
    rows = [row for rows in handler.run_inference(prepared, clf) for row in rows]
    assert_same_rows(rows, want)
    with pytest.raises(ValueError, match="min_batch_size"):
        EmotionModelHandler(min_batch_size=8, max_batch_size=4)
    # the DoFn routes an unreadable file to the dead letter
    do_fn = PrepareImages(handler)
    do_fn.setup()

    class Readable:
        class metadata:
            path = str(corrupt)

        @staticmethod
        def read():
            return corrupt.read_bytes()

    (out,) = list(do_fn.process(Readable()))
    assert out.tag == "errors" and out.value["source"] == str(corrupt)


def test_the_handler_pickles_by_reference(beam):
    import pickle

    from emorec.beam import EmotionModelHandler

    handler = EmotionModelHandler(detector="blazeface", tta="none")
    copy = pickle.loads(pickle.dumps(handler))
    assert type(copy) is EmotionModelHandler
    assert copy.settings == handler.settings and copy.settings.options == (("tta", "none"),)
