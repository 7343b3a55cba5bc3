"""The ``.. benchmark-table:: NAME`` directive: a table of ``benchmarks/results/*.txt``.

The tables are read from the results files when the docs are built, by the readers of
``benchmarks/plot_results.py`` (which draws the plots from the same files), so a rerun
benchmark updates its table. Each table's title names the split or photos, the label set,
the machine and the command that wrote the file.

NAME is one of :data:`TABLES`: ``peer-accuracy``, ``crop-rates`` or ``photo-latency``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from model_zoo import list_table, parse_lines

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def readers() -> ModuleType:
    """``benchmarks/plot_results.py``, imported from its file (benchmarks/ is no package)."""
    name = "emorec_benchmark_plot_results"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / "plot_results.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _source(run: Any) -> str:
    busy = "; it warns that the machine was busy" if run.busy else ""
    return f"``{run.command}``, {run.machine} (``benchmarks/results/{run.file}``{busy})"


def peer_accuracy() -> tuple[str, list[str], list[list[str]]]:
    plot = readers()
    path = plot.RESULTS / "fer_peer_accuracy.txt"
    run = plot.read_run(path)
    rows = [
        [f"``{what}``", f"{acc:.2f} %", f"{f1:.2f} %"]
        for what, acc, f1 in plot.read_peer_accuracy(path)
    ]
    title = (
        "FER2013 PublicTest (3,589 crops of the Kaggle test/ folder), FER2013's labels, "
        f"both fed the same crops: {_source(run)}"
    )
    return title, ["model", "accuracy", "macro-F1"], rows


def crop_rates() -> tuple[str, list[str], list[list[str]]]:
    plot = readers()
    rows = []
    commands = []
    for name in plot.CROP_RATE_FILES:
        run = plot.read_run(plot.RESULTS / name)
        commands.append(_source(run))
        for rate in plot.read_crop_rates(plot.RESULTS / name):
            size = f"{rate.size_mb:.2f} MB" if rate.size_mb is not None else "-"
            rows.append(
                [
                    f"``{rate.model}``",
                    f"{rate.accuracy:.2f} %",
                    f"{rate.crops_per_s:,.0f}",
                    size,
                    f"``{name}``",
                ]
            )
    title = (
        "FER2013 PublicTest (3,589 crops), FER2013's labels, each model's default TTA, batches "
        f"of 256, no face detection; two runs: {'; '.join(commands)}"
    )
    return title, ["model", "accuracy", "crops/s", "file", "run"], rows


def photo_latency() -> tuple[str, list[str], list[list[str]]]:
    plot = readers()
    default, fast = (plot.read_photo_times(plot.RESULTS / name) for name in plot.LATENCY_FILES)
    runs = [plot.read_run(plot.RESULTS / name) for name in plot.LATENCY_FILES]
    rows = [
        [
            f"``{d.photo}``",
            d.size,
            str(d.faces),
            f"{d.emorec_ms:.1f} ({d.emorec_recall})",
            f"{f.emorec_ms:.1f} ({f.emorec_recall})",
            f"{d.fer_ms:.1f} ({d.fer_recall})",
            f"{d.fer_ms / d.emorec_ms:.1f}x",
        ]
        for d, f in zip(default, fast)
    ]
    title = (
        "Median ms of a whole prediction (detect, crop, classify) of each test photo of "
        "``examples/photos`` (two enlarged), and the recall of its ground-truth faces "
        f"(IoU >= 0.5). Default model: {_source(runs[0])}. Fast model: {_source(runs[1])}"
    )
    header = [
        "photo",
        "size",
        "faces",
        "emorec default, ms (recall)",
        "emorec fast, ms (recall)",
        "fer, ms (recall)",
        "fer / emorec default",
    ]
    return title, header, rows


#: The tables the directive makes, by name.
TABLES: dict[str, Callable[[], tuple[str, list[str], list[list[str]]]]] = {
    "peer-accuracy": peer_accuracy,
    "crop-rates": crop_rates,
    "photo-latency": photo_latency,
}


def table_lines(name: str) -> list[str]:
    """The RST lines of the table ``name`` (one of :data:`TABLES`), its title included."""
    if name not in TABLES:
        raise ValueError(f"benchmark-table {name!r}: expected one of {', '.join(TABLES)}")
    title, header, rows = TABLES[name]()
    lines = list_table(header, rows)
    lines[0] += f" {title}"
    return lines


def setup(app: Any) -> dict[str, Any]:
    """Add ``.. benchmark-table:: NAME`` (Sphinx is imported here only, so that the tables
    can be built and tested without it)."""
    from sphinx.util.docutils import SphinxDirective

    class BenchmarkTableDirective(SphinxDirective):
        required_arguments = 1

        def run(self) -> list[Any]:
            try:
                lines = table_lines(self.arguments[0])
            except ValueError as error:
                raise self.error(str(error)) from None
            self.env.note_dependency(str(BENCHMARKS / "plot_results.py"))
            for path in sorted((BENCHMARKS / "results").glob("*.txt")):
                self.env.note_dependency(str(path))
            return parse_lines(self, lines)

    app.add_directive("benchmark-table", BenchmarkTableDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
