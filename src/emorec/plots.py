"""Images people would rather look at: training curves, confusion matrices, annotated photos.

Figures only: the data comes from elsewhere (a run's history from
:mod:`emorec.training.run_folder`, a confusion matrix from :mod:`emorec.evaluation`).
matplotlib is imported only when a plot is made, with the non-interactive ``Agg`` backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._optional import require

__all__ = [
    "PALETTE",
    "annotate",
    "plot_confusion_matrix",
    "plot_history",
    "plot_reliability",
    "plot_timeline",
]

#: The colour of each FER2013 emotion in annotated photos and timelines (RGB, 0-255).
PALETTE: dict[str, tuple[int, int, int]] = {
    "angry": (220, 40, 40),
    "disgust": (120, 160, 30),
    "fear": (150, 60, 200),
    "happy": (250, 200, 0),
    "sad": (40, 110, 220),
    "surprise": (255, 130, 0),
    "neutral": (200, 200, 200),
}


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "drawing figures")

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike[str], *, suptitle: str | None = None) -> Path:
    """Lay out, write and close a figure; returns the path."""
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    _pyplot().close(fig)
    return out


def plot_history(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Plot loss, accuracy and learning rate per epoch (training and validation) to an image.

    Parameters
    ----------
    history : mapping
        ``{metric: value per epoch}`` (``keras.callbacks.History.history``, or a Trainer's
        ``history.csv`` read by :func:`emorec.training.run_folder.read_history`).
    path : str or path-like
        Image file to write (``.png``, ``.svg``, ``.pdf``...).
    title : str, optional
        Figure title.

    Examples
    --------
    >>> import tempfile, os
    >>> from emorec.plots import plot_history
    >>> out = plot_history({"loss": [1.2, 0.9], "val_loss": [1.3, 1.0],
    ...                     "accuracy": [0.4, 0.6], "val_accuracy": [0.35, 0.5]},
    ...                    os.path.join(tempfile.mkdtemp(), "curves.png"))
    >>> out.stat().st_size > 0
    True
    """
    if not isinstance(history, Mapping):
        raise TypeError(
            f"history={history!r}; expected {{metric: values per epoch}} (read a run's "
            "history.csv with emorec.training.run_folder.read_history)"
        )
    plt = _pyplot()
    panels = [m for m in ("loss", "accuracy") if m in history]
    has_lr = "learning_rate" in history
    n = len(panels) + has_lr
    if n == 0:
        raise ValueError(f"nothing to plot: history has {sorted(history)}; expected loss/accuracy")
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    epochs = np.arange(1, len(next(iter(history.values()))) + 1)
    for ax, metric in zip(axes[0], panels):
        ax.plot(epochs, history[metric], label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], label="validation")
            best = (np.nanargmax if metric == "accuracy" else np.nanargmin)(
                history[f"val_{metric}"]
            )
            ax.axvline(epochs[best], color="grey", lw=0.8, ls=":")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if has_lr:
        ax = axes[0][-1]
        ax.plot(epochs, history["learning_rate"], color="tab:green")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
    return _save(fig, path, suptitle=title)


def plot_confusion_matrix(
    matrix: Any,
    labels: Sequence[str],
    path: str | os.PathLike[str],
    *,
    normalize: bool = True,
    title: str | None = None,
) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) to an image.

    With ``normalize`` each row is divided by its total, so the diagonal is per-class recall;
    each cell shows the fraction and the count.

    Examples
    --------
    >>> import tempfile, os
    >>> from emorec.plots import plot_confusion_matrix
    >>> out = plot_confusion_matrix([[5, 1], [2, 7]], ["happy", "sad"],
    ...                             os.path.join(tempfile.mkdtemp(), "cm.png"))
    >>> out.suffix
    '.png'
    """
    counts = np.asarray(matrix, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(labels):
        raise ValueError(f"matrix of shape {counts.shape} does not fit {len(labels)} labels")
    rows = counts.sum(axis=1, keepdims=True)
    shown = (
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    )
    plt = _pyplot()
    size = 1.0 + 0.75 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = (shown.max() or 1) / 2
    for i in range(len(labels)):
        for j in range(len(labels)):
            text = (
                f"{shown[i, j]:.2f}\n{int(counts[i, j])}" if normalize else f"{int(counts[i, j])}"
            )
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shown[i, j] > threshold else "black",
            )
    if title:
        ax.set_title(title)
    return _save(fig, path)


def annotate(
    image: Any,
    predictions: Sequence[Any],
    *,
    line_width: int | None = None,
    show_probability: bool = True,
) -> Any:
    """Draw each face's box and emotion onto a copy of the image; returns a PIL image.

    Parameters
    ----------
    image : image
        Anything :func:`emorec.load_image` reads (the photo the predictions were made on).
    predictions : sequence of FacePrediction
        From :meth:`emorec.EmotionClassifier.predict` for this image (a video frame's
        faces are labelled with their track too: ``#2 happy 90%``).
    line_width : int, optional
        Box line width; default scales with the image.
    show_probability : bool
        Write the label's probability after it.

    Examples
    --------
    >>> import numpy as np
    >>> from emorec.classifier import FacePrediction
    >>> from emorec.plots import annotate
    >>> face = FacePrediction((10, 10, 30, 30), "happy", 0.9, {"happy": 0.9, "sad": 0.1})
    >>> annotate(np.zeros((64, 64, 3), np.uint8), [face]).size
    (64, 64)
    """
    from PIL import Image, ImageDraw, ImageFont

    from .images import load_image

    canvas = Image.fromarray(load_image(image, "rgb"))
    draw = ImageDraw.Draw(canvas)
    width = line_width or max(2, round(max(canvas.size) / 250))
    font_size = max(12, round(max(canvas.size) / 40))
    try:
        font: Any = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    palette = PALETTE
    for p in predictions:
        x, y, w, h = p.box
        colour = palette.get(p.label, (0, 220, 120))
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=colour, width=width)
        text = f"{p.label} {p.score:.0%}" if show_probability else p.label
        if getattr(p, "track", None) is not None:  # a video's face: its track first
            text = f"#{p.track} {text}"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top
        ty = y - th - 2 * width if y - th - 2 * width >= 0 else y + h
        draw.rectangle([x, ty, x + tw + 2 * width, ty + th + 2 * width], fill=colour)
        draw.text((x + width - left, ty + width - top), text, fill=(0, 0, 0), font=font)
    return canvas


def plot_reliability(
    curves: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Draw reliability diagrams: accuracy against confidence, one panel a curve.

    ``curves`` maps a panel's name (``"before"``, ``"after"``) to
    :func:`emorec.calibration.reliability`'s output, optionally with an ``"ece"`` entry.
    Bars are the accuracy of each confidence bin, the diagonal is perfect calibration and the
    red gap is the over- (or under-) confidence.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from emorec.calibration import reliability
    >>> from emorec.plots import plot_reliability
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> out = plot_reliability({"model": reliability(probs, np.array([0, 1, 1]), 5)},
    ...                        os.path.join(tempfile.mkdtemp(), "r.png"))
    >>> out.suffix
    '.png'
    """
    if not curves:
        raise ValueError("no curves to draw")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 4.2), squeeze=False)
    for ax, (name, r) in zip(axes[0], curves.items()):
        edges = np.asarray(r["edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        width = float(edges[1] - edges[0])
        acc = np.nan_to_num(np.asarray(r["accuracy"], dtype=float))
        conf = np.asarray(r["confidence"], dtype=float)
        used = np.asarray(r["count"]) > 0
        ax.bar(centres[used], acc[used], width=width, edgecolor="black", label="accuracy")
        ax.bar(
            centres[used],
            (conf - acc)[used],
            bottom=acc[used],
            width=width,
            color="tab:red",
            alpha=0.35,
            edgecolor="tab:red",
            label="gap to confidence",
        )
        ax.plot([0, 1], [0, 1], "k--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence (top probability)")
        ax.set_ylabel("accuracy")
        ece = r.get("ece")
        ax.set_title(f"{name}" + (f": ECE {100 * float(ece):.1f} %" if ece is not None else ""))
        ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path, suptitle=title)


def plot_timeline(
    frames: Sequence[Any],
    path: str | os.PathLike[str],
    *,
    max_tracks: int = 4,
    title: str | None = None,
) -> Path:
    """Draw each face track's emotions over a video: one panel a track, the probabilities
    of every label stacked over time.

    Parameters
    ----------
    frames : sequence of FramePrediction
        From :meth:`emorec.EmotionClassifier.predict_video`.
    path : path
        The image to write (``.png``, ``.svg``, ``.pdf``...).
    max_tracks : int
        The longest tracks drawn (most frames first).
    title : str, optional
        Above the panels.

    Examples
    --------
    >>> import os, tempfile
    >>> from emorec import FacePrediction, FramePrediction
    >>> from emorec.plots import plot_timeline
    >>> frames = [FramePrediction(n, n / 5, [FacePrediction((0, 0, 9, 9), "sad", 0.6,
    ...           {"happy": 0.4, "sad": 0.6}, track=1)]) for n in range(10)]
    >>> plot_timeline(frames, os.path.join(tempfile.mkdtemp(), "t.png")).suffix
    '.png'
    """
    series: dict[int, list[tuple[float, dict[str, float]]]] = {}
    labels: list[str] = []
    for frame in frames:
        for face in frame.faces:
            if face.track is None:
                continue
            series.setdefault(face.track, []).append((float(frame.time), face.probabilities))
            labels.extend(k for k in face.probabilities if k not in labels)
    if not series:
        raise ValueError("no tracked faces to draw: frames from predict_video, with faces")
    tracks = sorted(series, key=lambda t: (-len(series[t]), t))[: max(1, int(max_tracks))]
    plt = _pyplot()
    fig, axes = plt.subplots(
        len(tracks), 1, figsize=(8, 1.9 * len(tracks) + 0.6), squeeze=False, sharex=True
    )
    colours = [np.array(PALETTE.get(k, (0, 220, 120))) / 255 for k in labels]
    first = min(series[t][0][0] for t in tracks)
    last = max(series[t][-1][0] for t in tracks)
    for ax, track in zip(axes[:, 0], sorted(tracks)):
        times = np.array([t for t, _ in series[track]])
        values = np.array([[p.get(k, 0.0) for k in labels] for _, p in series[track]]).T
        ax.stackplot(times, values, colors=colours, labels=labels, linewidth=0)
        ax.set_xlim(first, max(last, first + 1e-3))  # one time axis for all the panels
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"track {track}")
        ax.set_yticks([0, 0.5, 1])
    axes[0, 0].legend(
        loc="lower left", bbox_to_anchor=(0, 1.02), ncol=len(labels), fontsize=8, frameon=False
    )
    axes[-1, 0].set_xlabel("time (s)")
    return _save(fig, path, suptitle=title)
