#!/usr/bin/env bash
# Regenerate every image under docs/_static (run from the repository root, emorec installed).
set -euo pipefail
emorec predict examples/photos/astronaut.jpg --annotate docs/_static/astronaut_emotions.jpg --overwrite
python benchmarks/accuracy.py --figure docs/_static/confusion_matrix.png
python -c "from emorec.plots import plot_history; plot_history('benchmarks/results/fer2013_vgg_m_history.csv', 'docs/_static/training_curves_fer2013_vgg_m.png', title='fer2013_vgg_m: vgg_m, 60 epochs, cosine (val: 10 % of Training)')"
# 5 epochs of vgg_s with default settings (about 11 minutes on 2 cores):
emorec train ../shared/datasets/fer2013/fer2013.zip --model vgg_s --epochs 5 --output /tmp/x --overwrite
cp /tmp/x/training_curves.png docs/_static/training_curves_vgg_s_5_epochs.png
