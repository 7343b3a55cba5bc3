"""The core install predicts photos without TensorFlow, Keras, matplotlib or OpenCV (issue 24).

Each test runs a fresh Python in which those packages cannot be imported (an import hook
refuses them, as if they were not installed), so the promise holds whatever this test
environment has installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "photos" / "astronaut.jpg"

#: Run first in each child: the training and plotting packages behave as not installed.
BLOCK = textwrap.dedent(
    """
    import sys

    class _NotInstalled:
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in ("tensorflow", "keras", "matplotlib", "tf_keras", "cv2"):
                raise ModuleNotFoundError(f"No module named {top!r}", name=top)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    HEAVY = ("tensorflow", "keras", "matplotlib", "cv2")

    def heavy_loaded():
        return sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
    """
)


def run_light(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.smoke
def test_default_model_predicts_a_photo_without_tensorflow():
    out = run_light(
        f"""
        import json
        from emorec import EmotionClassifier
        clf = EmotionClassifier.load()
        faces = clf.predict({str(PHOTO)!r})
        print(json.dumps({{"labels": [f.label for f in faces], "runtime": type(clf.model).__name__,
                          "heavy": heavy_loaded()}}))
        """
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"labels": ["happy"], "runtime": "LiteModel", "heavy": []}


def test_command_line_predicts_without_tensorflow(tmp_path):
    annotated = tmp_path / "out.jpg"
    out = run_light(
        f"""
        from emorec.cli import main
        status = main(["predict", {str(PHOTO)!r}, "--json", "--annotate", {str(annotated)!r}])
        print("heavy", heavy_loaded(), "status", status)
        """
    )
    assert out.returncode == 0, out.stderr
    assert '"label": "happy"' in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "heavy [] status 0"
    assert annotated.stat().st_size > 0


def test_every_bundled_model_runs_without_tensorflow():
    out = run_light(
        """
        import numpy as np
        from emorec import EmotionClassifier, list_pretrained
        crops = np.random.default_rng(0).integers(0, 256, (3, 48, 48), np.uint8)
        for name in list_pretrained():
            p = EmotionClassifier.load(name).predict_proba(crops)
            assert p.shape[0] == 3 and np.allclose(p.sum(axis=1), 1, atol=2e-2), name  # int8 rounds
        print("heavy", heavy_loaded())
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "heavy []"


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("from emorec import build_model; build_model('seed_cnn')", "train"),
        ("from emorec import EmotionClassifier; EmotionClassifier.load(runtime='keras')", "train"),
        (
            "from emorec import EmotionClassifier; "
            "EmotionClassifier.load().export('/tmp/never.tflite', 'tflite')",
            "train",
        ),
        (
            "import numpy as np; from emorec import EmotionClassifier; "
            "EmotionClassifier.load(detector='haar').predict(np.zeros((99, 99, 3), np.uint8))",
            "video",
        ),
        (
            "from emorec import EmotionClassifier; "
            "list(EmotionClassifier.load().predict_video('clip.mp4'))",
            "video",
        ),
        (
            "from emorec.plots import plot_confusion_matrix; "
            "plot_confusion_matrix([[1]], ['a'], '/tmp/never.png')",
            "plots",
        ),
    ],
)
def test_a_missing_extra_is_named(code, extra):
    out = run_light(code)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("emorec._optional.MissingDependencyError: "), last
    assert f'pip install "emorec[{extra}]"' in last


def test_command_line_names_the_extra_in_one_line(tmp_path):
    out = run_light(
        f"""
        import sys
        from emorec.cli import main
        data, out = {str(ROOT / "examples" / "data" / "toy_faces.zip")!r}, {str(tmp_path / "r")!r}
        sys.exit(main(["train", data, "--model", "seed_cnn", "--epochs", "1", "--output", out]))
        """
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("emorec: error: "), out.stderr
    assert 'pip install "emorec[train]"' in lines[-1]
    assert "Traceback" not in out.stderr
