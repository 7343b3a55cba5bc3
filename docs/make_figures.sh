#!/usr/bin/env bash
# Regenerate every image under docs/_static (run from the repository root, emorec installed).
set -euo pipefail
emorec predict examples/photos/astronaut.jpg --annotate docs/_static/astronaut_emotions.jpg --overwrite
python benchmarks/accuracy.py --figure docs/_static/confusion_matrix.png
python benchmarks/accuracy.py --model fer2013_mini_xception --figure docs/_static/confusion_matrix_mini_xception.png
python - <<'PY'
# the bundled model's three stages, one after the other (see benchmarks/results/training_log.md)
from emorec.plots import plot_history
from emorec.training.run_folder import read_history
stages = [read_history(f"benchmarks/results/fer2013_vgg_m_stage{i}_history.csv") for i in (1, 2, 3)]
joined = {k: [v for s in stages for v in s[k]] for k in stages[0] if k != "epoch"}
plot_history(joined, "docs/_static/training_curves_fer2013_vgg_m.png",
             title="fer2013_vgg_m: 60 epochs on a GPU, then 22 and 24 on 2 CPU cores")
PY
# 5 epochs of vgg_s with default settings (about 11 minutes on 2 cores):
emorec train ../shared/datasets/fer2013/fer2013.zip --model vgg_s --epochs 5 --output /tmp/x --overwrite
cp /tmp/x/training_curves.png docs/_static/training_curves_vgg_s_5_epochs.png
