#!/usr/bin/env bash
# Regenerate every image under docs/_static (run from the repository root, emorec installed).
set -euo pipefail
emorec predict examples/photos/astronaut.jpg --annotate docs/_static/astronaut_emotions.jpg --overwrite
python benchmarks/accuracy.py --figure docs/_static/confusion_matrix.png
