"""The ``.. model-zoo::`` directive: one table row a bundled model, read from its card.

The table is made when the docs are built, from the model cards inside the files of
``src/emorec/weights`` (:func:`emorec.list_pretrained`, :meth:`emorec.ModelCard.read`), so it
cannot drift from the models. A figure a card does not record is shown as ``-``: nothing is
filled in by hand. ``tests/test_docs.py`` checks that every file of the weights folder has a
row.

Examples
--------
>>> rows = zoo_rows()
>>> [row["model"] for row in rows][:1]
['``fer2013_mini_xception``']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Column keys and their headers, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("labels", "label set"),
    ("data", "training data"),
    ("input", "input"),
    ("file", "file"),
    ("tta", "TTA"),
    ("fer2013", "PublicTest, FER2013 labels: acc. / F1 %"),
    ("ferplus", "PublicTest, FER+ majority: acc. / F1 %"),
    ("pixels", "PublicTest pixels"),
    ("speed", "crops/s"),
    ("calibration", "calibration"),
)
MISSING = "-"
WEIGHTS = Path(__file__).resolve().parents[2] / "src" / "emorec" / "weights"


def _score(metric: Mapping[str, Any] | None, tta: str | None) -> str:
    """``"69.46 / 67.61 (n=3569)"`` from a card's metric entry, or ``-``; the TTA is named
    when it is not the model's default."""
    if not metric or "accuracy" not in metric:
        return MISSING
    text = f"{100 * float(metric['accuracy']):.2f}"
    if "macro_f1" in metric:
        text += f" / {100 * float(metric['macro_f1']):.2f}"
    details = [f"n={metric['n']}" if "n" in metric else ""]
    if metric.get("tta") and metric["tta"] != tta:
        details.append(f"TTA {metric['tta']}")
    details = [d for d in details if d]
    return f"{text} ({', '.join(details)})" if details else text


def _public_test(metrics: Mapping[str, Mapping[str, Any]], labels: str) -> Mapping[str, Any] | None:
    """The card's raw-or-unstated PublicTest entry scored against ``labels``.

    An entry without ``labels`` is scored against its split's own labels: FER2013's for
    PublicTest (the ``test/`` folder or ``fer2013.csv``'s rows).
    """
    for key, metric in metrics.items():
        if not key.startswith("public_test") or metric.get("without"):
            continue
        if metric.get("pixels", "raw") != "raw":
            continue
        if metric.get("labels", "fer2013") == labels:
            return metric
    return None


def _speed(card: Any) -> str:
    """Crops a second as the card records them (``metrics[...]["crops_per_s"]`` or
    ``extra["speed"]["crops_per_s"]``), else ``-``."""
    for metric in card.metrics.values():
        if isinstance(metric, Mapping) and "crops_per_s" in metric:
            return f"{float(metric['crops_per_s']):,.0f}"
    speed = card.extra.get("speed")
    if isinstance(speed, Mapping) and "crops_per_s" in speed:
        return f"{float(speed['crops_per_s']):,.0f}"
    return MISSING


def _calibration(card: Any) -> str:
    """The card's fitted temperature and the ECE before and after it, else the temperature
    an export built into the network, else ``-``."""
    cal = card.calibration
    if cal and "temperature" in cal:
        text = f"T = {float(cal['temperature']):.2f}"
        if "ece_before" in cal and "ece_after" in cal:
            before, after = (100 * float(cal[k]) for k in ("ece_before", "ece_after"))
            text += f"; ECE {before:.1f} to {after:.1f} %"
        return text + (f" ({cal['split']})" if "split" in cal else "")
    built_in = (card.extra.get("exported") or {}).get("temperature_in_model")
    if built_in is not None:
        return f"T = {float(built_in):.2f} in the network"
    return "none (see the card's note)" if card.extra.get("calibration_note") else MISSING


def _format(path: Any, card: Any) -> str:
    kind = {".tflite": "TFLite", ".keras": "Keras", ".onnx": "ONNX"}.get(path.suffix, path.suffix)
    exported = card.extra.get("exported") or {}
    serving = card.extra.get("serving") or {}
    precision = exported.get("quantize") or serving.get("precision")
    return f"{kind} {precision}" if precision else kind


def _data(card: Any) -> str:
    """The training data as the card's ``training.config.data`` names it, without folders."""
    data = ((card.training or {}).get("config") or {}).get("data")
    if not data:
        return MISSING
    return re.sub(r"[^\s+]*/", "", str(data))


def _labels(card: Any) -> str:
    """How many labels, and the label set its validation split was scored on."""
    val = card.metrics.get("val") or {}
    text = f"{len(card.labels)} expressions"
    return text + (f"; val: {val['labels']}" if val.get("labels") else "")


def zoo_row(name: str, path: Any, card: Any, *, default: bool = False) -> dict[str, str]:
    """One table row (column key -> RST text) for the bundled model ``name``."""
    shape = card.input_shape
    colour = {"grayscale": "grey", "rgb": "colour"}.get(card.color_mode or "", card.color_mode)
    size = f"{shape[0]}x{shape[1]} {colour or ''}".strip() if shape else MISSING
    metrics = card.metrics
    raw = [_public_test(metrics, labels) for labels in ("fer2013", "ferplus")]
    pixels = sorted({str(m.get("pixels", MISSING)) for m in raw if m})
    return {
        "model": f"``{name}``" + (" (default)" if default else ""),
        "labels": _labels(card),
        "data": _data(card),
        "input": size,
        "file": f"{_format(path, card)}, {path.stat().st_size / 1e6:.2f} MB",
        "tta": card.tta or MISSING,
        "fer2013": _score(raw[0], card.tta),
        "ferplus": _score(raw[1], card.tta),
        "pixels": ", ".join(pixels) if pixels else MISSING,
        "speed": _speed(card),
        "calibration": _calibration(card),
    }


def zoo_rows() -> list[dict[str, str]]:
    """A row for each model :func:`emorec.list_pretrained` names, read from its file's card."""
    from emorec.models.card import (
        DEFAULT_PRETRAINED,
        ModelCard,
        list_pretrained,
        pretrained_path,
    )

    rows = []
    for name in list_pretrained():
        path = pretrained_path(name)
        card = ModelCard.read(path)
        rows.append(zoo_row(name, path, card, default=name == DEFAULT_PRETRAINED))
    return rows


def list_table(header: Sequence[str], rows: Sequence[Sequence[str]], **options: str) -> list[str]:
    """The lines of an RST ``list-table`` (``header`` then ``rows``)."""
    lines = [".. list-table::", "   :header-rows: 1"]
    lines += [f"   :{key}: {value}" for key, value in options.items()]
    lines.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            text = cell or MISSING
            text = "\\" + text if text == MISSING else text  # a lone "-" would be a bullet
            lines.append(f"   {'*' if i == 0 else ' '} - {text}")
    return lines


def zoo_table() -> list[str]:
    """The RST lines of the model zoo's ``list-table``."""
    header = [title for _, title in COLUMNS]
    body = [[row[key] for key, _ in COLUMNS] for row in zoo_rows()]
    return list_table(header, body, widths="auto")


def parse_lines(directive: Any, lines: list[str]) -> list[Any]:
    """Parse generated RST lines as if they stood in the page where ``directive`` is."""
    from docutils import nodes
    from docutils.statemachine import StringList

    container = nodes.container()
    directive.state.nested_parse(StringList(lines, source="<generated>"), 0, container)
    return list(container.children)


def setup(app: Any) -> dict[str, Any]:
    """Add ``.. model-zoo::``: the table of the bundled models, from their cards (Sphinx is
    imported here only, so that the rows can be built and tested without it)."""
    from sphinx.util.docutils import SphinxDirective

    class ModelZooDirective(SphinxDirective):
        has_content = False

        def run(self) -> list[Any]:
            for path in sorted(WEIGHTS.iterdir()):
                self.env.note_dependency(str(path))
            return parse_lines(self, zoo_table())

    app.add_directive("model-zoo", ModelZooDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
