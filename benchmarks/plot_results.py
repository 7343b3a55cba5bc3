"""Tables and plots of the measured figures in ``benchmarks/results/*.txt``.

    python benchmarks/plot_results.py [--out docs/_static]

Reads what the benchmark scripts wrote (it measures nothing itself) and draws two PNGs:

- ``bench_accuracy_speed.png``: PublicTest accuracy against crops a second of the bundled
  models and of ``fer``'s models, from ``tflite_avx2.txt`` and ``tflite_mini_xception.txt``
  (``benchmarks/tflite.py``);
- ``bench_photo_latency.png``: the time of a whole prediction of each test photo, emorec
  (default and fast model) against ``fer``, from ``photo_latency.txt`` and
  ``photo_latency_fast.txt`` (``benchmarks/photo_latency.py``).

The docs' benchmark tables are made from the same readers when the docs are built
(``docs/_ext/benchmark_tables.py``), so the pages and these plots show the same numbers.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
STATIC = Path(__file__).resolve().parents[1] / "docs" / "_static"

#: ``benchmarks/tflite.py`` runs on one machine kind (AVX2-only AMD EPYC), plotted together.
CROP_RATE_FILES = ("tflite_avx2.txt", "tflite_mini_xception.txt")
#: ``benchmarks/photo_latency.py``: the default model's run, then the fast model's.
LATENCY_FILES = ("photo_latency.txt", "photo_latency_fast.txt")


@dataclass(frozen=True)
class Run:
    """A results file's header: the command that wrote it and the machine it ran on."""

    file: str
    command: str
    machine: str
    busy: bool


@dataclass(frozen=True)
class CropRate:
    """One model's PublicTest accuracy and crops a second, as ``tflite.py`` printed them."""

    model: str
    accuracy: float
    crops_per_s: float
    size_mb: float | None
    peer: bool


@dataclass(frozen=True)
class PhotoTime:
    """One photo's median prediction time and recall, emorec against ``fer``."""

    photo: str
    size: str
    faces: int
    emorec_ms: float
    emorec_recall: str
    fer_ms: float
    fer_recall: str


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def read_run(path: Path) -> Run:
    """The command (its ``$ ...`` or ``command:`` line, comment dropped) and machine line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    command = next(
        (line[2:] for line in lines if line.startswith("$ ")),
        next((line[len("command: ") :] for line in lines if line.startswith("command: ")), "-"),
    )
    machine = next((line[len("machine: ") :] for line in lines if line.startswith("machine:")), "")
    busy = any(line.startswith("WARNING: the machine is busy") for line in lines)
    return Run(path.name, command.split("   #")[0].strip(), machine, busy)


_BUNDLED = re.compile(
    r"^\s+(?P<model>\w+) \(tta=\w+\)\s+accuracy (?P<acc>[\d.]+)%\s+(?P<mb>[\d.]+) MB"
    r"\s+(?P<rate>[\d,]+) crops/s"
)
_PEER = re.compile(
    r"^\s+(?P<model>fer [\d.]+ \w+)\s+accuracy (?P<acc>[\d.]+)%\s+(?P<rate>[\d,]+) crops/s"
)


def read_crop_rates(path: Path) -> list[CropRate]:
    """The bundled models as users call them, then ``fer``'s, from a ``tflite.py`` output."""
    rates = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _BUNDLED.match(line):
            rates.append(
                CropRate(
                    match["model"],
                    float(match["acc"]),
                    _number(match["rate"]),
                    float(match["mb"]),
                    peer=False,
                )
            )
        elif match := _PEER.match(line):
            rates.append(
                CropRate(match["model"], float(match["acc"]), _number(match["rate"]), None, True)
            )
    if not rates:
        raise ValueError(f"{path}: no crops/s lines of benchmarks/tflite.py found")
    return rates


_PHOTO = re.compile(
    r"^(?P<photo>\S+\.jpg)\s+(?P<size>\d+x\d+)\s+(?P<faces>\d+)\s+(?P<ems>[\d.]+)\s+\d+"
    r"\s+(?P<erec>\d+%)\s+\d+%\s+(?P<fms>[\d.]+)\s+\d+\s+(?P<frec>\d+%)\s+\d+%$"
)


def read_photo_times(path: Path) -> list[PhotoTime]:
    """The per-photo table of a ``photo_latency.py`` output."""
    times = [
        PhotoTime(
            m["photo"],
            m["size"],
            int(m["faces"]),
            float(m["ems"]),
            m["erec"],
            float(m["fms"]),
            m["frec"],
        )
        for line in path.read_text(encoding="utf-8").splitlines()
        if (m := _PHOTO.match(line))
    ]
    if not times:
        raise ValueError(f"{path}: no per-photo lines of benchmarks/photo_latency.py found")
    return times


_ACCURACY = re.compile(
    r"^(?P<what>(?:fer|emorec) .+?)\s+accuracy (?P<acc>[\d.]+)%\s+macro-F1 (?P<f1>[\d.]+)%$"
)


def read_peer_accuracy(path: Path) -> list[tuple[str, float, float]]:
    """``(model, accuracy %, macro-F1 %)`` of the summary of ``fer_peer_accuracy.py``."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if rows:
                break  # the summary ends at its first blank line; the reports follow
            continue
        if match := _ACCURACY.match(line):
            rows.append((match["what"].strip(), float(match["acc"]), float(match["f1"])))
    if not rows:
        raise ValueError(f"{path}: no summary lines of benchmarks/fer_peer_accuracy.py found")
    return rows


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_accuracy_speed(results: Path, out: Path) -> Path:
    """Accuracy against crops/s, one marker a results file (one run), emorec and ``fer``."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    for name, marker, dy in zip(CROP_RATE_FILES, ("o", "s"), (6, -12)):
        run = read_run(results / name)
        for rate in read_crop_rates(results / name):
            colour = "tab:grey" if rate.peer else "tab:blue"
            ax.scatter(rate.crops_per_s, rate.accuracy, marker=marker, color=colour, zorder=3)
            label = rate.model.replace("fer 25.10.3 ", "fer ") if rate.peer else rate.model
            ax.annotate(
                label,
                (rate.crops_per_s, rate.accuracy),
                textcoords="offset points",
                xytext=(6, dy if rate.peer else 4),
                fontsize=8,
            )
        ax.scatter([], [], marker=marker, color="black", label=f"{name}: {run.command}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(80, 10000)
    ax.set_xlabel("crops/s (log scale), batches of 256, each model's default TTA")
    ax.set_ylabel("accuracy, FER2013 labels (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7, frameon=False)
    machine = read_run(results / CROP_RATE_FILES[0]).machine
    ax.set_title(
        "FER2013 PublicTest (3,589 crops of the Kaggle test/ folder), FER2013's labels;\n"
        f"emorec (blue) and fer (grey), {machine}",
        fontsize=9,
    )
    return _save(fig, out / "bench_accuracy_speed.png")


def plot_photo_latency(results: Path, out: Path) -> Path:
    """Median time a photo, emorec's default and fast models against ``fer``."""
    import numpy as np

    plt = _pyplot()
    default, fast = (read_photo_times(results / name) for name in LATENCY_FILES)
    runs = [read_run(results / name) for name in LATENCY_FILES]
    y = np.arange(len(default))
    fig, ax = plt.subplots(figsize=(7.5, 5.6))
    bars = [
        ([t.emorec_ms for t in default], f"emorec, default model: {runs[0].command}"),
        ([t.emorec_ms for t in fast], f"emorec, fast model: {runs[1].command}"),
        ([t.fer_ms for t in default], "fer 25.10.3 (Haar cascade), in the default model's run"),
    ]
    for i, (values, label) in enumerate(bars):
        ax.barh(y + (i - 1) * 0.27, values, height=0.27, label=label)
    ax.set_yticks(y, [f"{t.photo}\n{t.size}, {t.faces} faces" for t in default], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("median time of one prediction: detect, crop, classify (ms)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.12), fontsize=7, frameon=False)
    busy = "\n(the files warn that the machine was busy)" if any(r.busy for r in runs) else ""
    ax.set_title(f"The test photos of examples/photos\n{runs[0].machine}{busy}", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, out / "bench_photo_latency.png")


def _save(fig, path: Path) -> Path:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results folder")
    parser.add_argument("--out", type=Path, default=STATIC, help="where the PNGs go")
    args = parser.parse_args()
    for path in (
        plot_accuracy_speed(args.results, args.out),
        plot_photo_latency(args.results, args.out),
    ):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
