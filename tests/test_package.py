"""Package-level promises: a light import, the public API, README and CI in step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import emorec

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_not_load_tensorflow_or_kaggle():
    code = (
        "import sys, emorec; "
        "heavy = [m for m in ('tensorflow', 'keras', 'kaggle', 'kagglehub', 'cv2', 'matplotlib') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_exported():
    for name in emorec.__all__:
        assert hasattr(emorec, name), name
    assert {"EmotionDataset", "LABELS", "load_image", "__version__"} <= set(emorec.__all__)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must open with a bash block of two commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_two_commands_that_ci_runs():
    commands = readme_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci, f".ci/run does not run the README command: {command}"


def test_bundled_example_exists():
    assert (ROOT / "examples" / "data" / "toy_faces.zip").is_file()
