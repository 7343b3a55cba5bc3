"""Tests for :mod:`emorec.faces.detectors`: the registry, get_detector, plugins; and that
``import emorec.faces`` stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import write_distribution
from emorec.faces import (
    DEFAULT_DETECTOR,
    DETECTORS,
    BlazeFaceDetector,
    FaceBox,
    detectors,
    get_detector,
    list_detectors,
    register_detector,
)


class Fixed:
    """A detector that always finds the same box."""

    def __init__(self, box: tuple[int, int, int, int] = (1, 2, 3, 4)) -> None:
        self.box = box

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        return [FaceBox(*self.box, 1.0)]


@pytest.fixture
def fresh_detectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the registry that loads entry points again and is dropped afterwards."""
    monkeypatch.setattr(detectors, "DETECTORS", DETECTORS.copy())


def test_builtin_names_and_default(fresh_detectors: None) -> None:
    assert {"blazeface", "blazeface_short", "haar"} <= set(list_detectors())
    assert list_detectors("blaze*") == ["blazeface", "blazeface_short"]
    assert DEFAULT_DETECTOR == "blazeface"
    default = get_detector()
    assert isinstance(default, BlazeFaceDetector) and default.model == "back"
    assert isinstance(get_detector("default", tiles=None), BlazeFaceDetector)
    short = get_detector("blazeface_short", min_score=0.7)
    assert isinstance(short, BlazeFaceDetector)
    assert (short.model, short.min_score) == ("short", 0.7)


def test_the_three_call_shapes(fresh_detectors: None) -> None:
    image = np.zeros((20, 20, 3), np.uint8)
    assert register_detector("fixed", Fixed) is Fixed
    assert get_detector("fixed", box=(5, 6, 7, 8)).detect(image) == [FaceBox(5, 6, 7, 8, 1.0)]

    @register_detector("fixed_fn")
    def make(**kwargs: object) -> Fixed:
        return Fixed()

    @register_detector
    def fixed_bare() -> Fixed:
        return Fixed((0, 0, 1, 1))

    assert make.__name__ == "make"
    assert isinstance(get_detector("fixed_fn"), Fixed)
    assert get_detector("fixed_bare").detect(image) == [FaceBox(0, 0, 1, 1, 1.0)]
    assert list_detectors("fixed*") == ["fixed", "fixed_bare", "fixed_fn"]


def test_registrations_stay_in_the_swapped_copy() -> None:
    assert "fixed" not in list_detectors()  # the tests above registered into copies


def test_duplicate_override_and_unknown(fresh_detectors: None) -> None:
    register_detector("fixed", Fixed)
    register_detector("fixed", Fixed)  # the same factory again is fine
    with pytest.raises(ValueError, match="'fixed' is registered already.*override=True"):
        register_detector("fixed", lambda: Fixed())
    with pytest.raises(ValueError, match="'blazeface' is registered already"):
        register_detector("blazeface")(Fixed)
    register_detector("blazeface", Fixed, override=True)
    assert isinstance(get_detector(), Fixed)
    with pytest.raises(KeyError, match=r"'blazefase'; did you mean blazeface.*haar.*'default'"):
        get_detector("blazefase")
    with pytest.raises(ValueError, match="non-empty"):
        register_detector("", Fixed)
    with pytest.raises(ValueError, match="reserved"):
        register_detector("default", Fixed)
    with pytest.raises(ValueError, match="not callable"):
        register_detector("thing", 42)  # type: ignore[call-overload]


def test_get_detector_objects(fresh_detectors: None) -> None:
    fixed = Fixed()
    assert get_detector(fixed) is fixed
    with pytest.raises(TypeError, match="ready detector object"):
        get_detector(fixed, min_score=0.3)
    with pytest.raises(TypeError, match="expected a registered name"):
        get_detector(42)  # type: ignore[arg-type]
    register_detector("not_a_detector", lambda: object())
    with pytest.raises(TypeError, match="no detect"):
        get_detector("not_a_detector")


PLUGIN_SOURCE = '''
from emorec.faces import FaceBox


class CornerDetector:
    """Finds a "face" in the top-left corner."""

    def __init__(self, size=8):
        self.size = size

    def detect(self, image):
        return [FaceBox(0, 0, self.size, self.size, 0.5)]
'''


def install_detector_plugin(root: Path, *, broken: bool = False) -> Path:
    """A face detector plugin (``corner``), with a broken entry point if ``broken``."""
    entries = {"corner": "emorec_test_face_plugin:CornerDetector"}
    if broken:
        entries["broken_faces"] = "emorec_test_face_plugin_missing:nothing"
    return write_distribution(
        root, "emorec_test_face_plugin", PLUGIN_SOURCE, "emorec.detectors", entries
    )


def test_entry_point_plugin_and_broken_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_detectors: None
) -> None:
    monkeypatch.syspath_prepend(str(install_detector_plugin(tmp_path / "site", broken=True)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = list_detectors()
        list_detectors()  # loaded once: no second warning
    assert "corner" in names and "broken_faces" not in names
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert "broken_faces" in messages[0] and "emorec_test_face_plugin_missing" in messages[0]
    assert "emorec-test-face-plugin" in messages[0]
    assert get_detector("corner", size=5).detect(np.zeros((9, 9, 3), np.uint8)) == [
        FaceBox(0, 0, 5, 5, 0.5)
    ]
    monkeypatch.delitem(sys.modules, "emorec_test_face_plugin", raising=False)


def test_import_is_light() -> None:
    code = (
        "import sys, emorec.faces; "
        "print(sorted(m for m in ('tensorflow', 'cv2', 'keras') if m in sys.modules))"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert out.stdout.strip() == "[]"
