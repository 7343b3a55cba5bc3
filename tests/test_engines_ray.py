"""Scoring a collection on Ray Data (emorec.ray): a generated folder through a local Ray with
two CPUs and two actors gives every image exactly once, with the rows of predict_iter; the
corrupt file gives one error row; a Dataset of image bytes of one's own works the same."""

from __future__ import annotations

import pytest

from emorec import EmotionClassifier
from engine_data import CORRUPT, assert_same_rows, engine_or_skip, expected_rows, make_folder

SKIP = 'Ray Data is not installed (pip install "emorec[ray]")'


@pytest.fixture(scope="module")
def ray():
    ray = engine_or_skip("ray", SKIP)
    engine_or_skip("ray.data", SKIP)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("engines") / "images")


@pytest.fixture(scope="module")
def want(folder):
    return expected_rows(EmotionClassifier.load(), folder[0])


def test_two_actors_give_every_image_once_with_predict_iters_rows(ray, folder, want):
    from emorec.ray import predict_images

    files, corrupt = folder
    rows = predict_images(str(files[0].parent), concurrency=2, num_cpus=0.5, batch_size=3)
    rows = rows.take_all()
    errors = [r for r in rows if r["error"] is not None]
    assert [e["source"] for e in errors] == [str(corrupt)]
    assert CORRUPT in errors[0]["error"] and errors[0]["face"] is None
    good = [r for r in rows if r["error"] is None]
    assert_same_rows(good, want)


def test_a_dataset_of_image_bytes_of_ones_own(ray, folder, want):
    from emorec.ray import predict_images

    files, _ = folder
    items = [{"image": p.read_bytes(), "name": str(p)} for p in files]
    dataset = ray.data.from_items(items)
    rows = predict_images(dataset, bytes_column="image", path_column="name", batch_size=4)
    assert_same_rows(rows.take_all(), want)


def test_the_callable_names_the_missing_column_and_checks_its_arguments():
    pytest.importorskip("pyarrow", reason="the rows are an Arrow table: pip install pyarrow")
    from emorec.ray import EmotionPredictor, predict_images

    with pytest.raises(KeyError, match="no column 'path'.*include_paths=True"):
        EmotionPredictor()({"bytes": [b""]})
    with pytest.raises(ValueError, match="concurrency=0"):
        predict_images("x", concurrency=0)


def test_actors_that_would_take_every_cpu_are_warned_of(ray, folder, caplog):
    from emorec.ray import predict_images

    with caplog.at_level("WARNING", logger="emorec"):
        predict_images(str(folder[0][0].parent), concurrency=2)  # 2 x 1 CPU of 2: lazy, not run
    assert "smaller num_cpus" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="emorec"):
        predict_images(str(folder[0][0].parent), concurrency=2, num_cpus=0.5)
    assert "num_cpus" not in caplog.text
