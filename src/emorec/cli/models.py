"""``emorec models``: the registered architectures and the bundled pretrained models."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_models_parser", "run"]


def add_models_parser(sub: Any) -> None:
    """The ``models`` subcommand and its options."""
    p = sub.add_parser("models", help="list architectures and bundled pretrained models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'vgg*'")
    p.add_argument("--params", action="store_true", help="build each to count its parameters")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List the architectures and the bundled models."""
    from ..inference import DEFAULT_TTA
    from ..models import build_model, list_models, list_pretrained, read_card
    from ..models.card import DEFAULT_PRETRAINED

    names = list_models(args.pattern)
    rows = []
    for name in names:
        params = build_model(name).count_params() if args.params else None
        rows.append({"name": name, "parameters": params})
    pretrained: list[dict[str, Any]] = []
    for name in list_pretrained():
        card = read_card(name)
        pretrained.append(
            {
                "name": name,
                "architecture": card.architecture_name,
                "labels": list(card.labels),
                "default": name == DEFAULT_PRETRAINED,
                "tta": card.tta or DEFAULT_TTA,  # what the classifier applies by default
                "metrics": card.metrics,
            }
        )
    if args.json:
        print(json.dumps({"architectures": rows, "pretrained": pretrained}, indent=2))
        return 0
    print("architectures (emorec train --model NAME):")
    for row in rows:
        extra = f"  {row['parameters']:,} parameters at 48x48x1" if row["parameters"] else ""
        print(f"  {row['name']}{extra}")
    print("pretrained models (EmotionClassifier.load(NAME)):")
    for item in pretrained:
        public_test = item["metrics"].get("public_test", {})
        acc = public_test.get("accuracy")
        tta = public_test.get("tta") or item["tta"]
        figure = f", PublicTest accuracy {acc:.1%}" if acc else ""
        plus = item["metrics"].get("public_test_ferplus", {}).get("accuracy")
        if acc and plus:  # measured against both label sets (benchmarks/accuracy.py)
            figure += f" (FER2013 labels), {plus:.1%} (FER+ majority)"
        figure += f" at tta={tta}" if acc and tta else ""
        default = "default; " if item["default"] else ""
        print(f"  {item['name']} ({default}{item['architecture']}{figure})")
    if not pretrained:
        print("  none bundled yet")
    return 0
