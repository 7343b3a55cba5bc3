"""Figures: plot_history draws the history it is given (data, not a path)."""

from __future__ import annotations

import pytest

from emorec.plots import plot_history


def test_plot_history_of_a_runs_csv_or_a_mapping(tmp_path):
    from emorec.training.run_folder import read_history

    csv = tmp_path / "history.csv"
    csv.write_text("epoch,loss,val_loss,learning_rate\n0,1.2,1.3,0.1\n1,0.9,1.1,0.05\n")
    out = plot_history(read_history(csv), tmp_path / "curves.png", title="run")
    assert out == tmp_path / "curves.png" and out.stat().st_size > 0
    svg = plot_history({"accuracy": [0.4, 0.6]}, tmp_path / "curves.svg")
    assert svg.read_text().lstrip().startswith("<?xml")


def test_plot_history_says_what_it_got(tmp_path):
    with pytest.raises(ValueError, match=r"history has \['lr'\]; expected loss/accuracy"):
        plot_history({"lr": [0.1]}, tmp_path / "x.png")


def test_plot_history_takes_data_not_a_path(tmp_path):
    with pytest.raises(TypeError, match="read_history"):
        plot_history(str(tmp_path / "history.csv"), tmp_path / "x.png")
