"""FER2013 as the benchmarks read it: the challenge's tarball with FER+'s votes, and the
validation split a model was selected on, carved again as its training run carved it."""

from __future__ import annotations

from pathlib import Path

from emorec import DatasetSplit, EmotionDataset, ModelCard

#: The label sets a split read with FER+ carries, as the benchmarks print them.
LABEL_SETS = {"fer2013": "FER2013 labels", "ferplus": "FER+ majority"}


def trained_mode(card: ModelCard) -> str | None:
    """How the model's training run read FER+ (``probability``/``majority``), ``fer2013`` for
    the tarball or CSV without FER+, None for other data (the Kaggle folders)."""
    config = (card.training or {}).get("config", {})
    data = str(config.get("data") or "")
    if "FER+" in data:
        return "probability" if "(probability" in data else "majority"
    if data.endswith((".csv", ".tar.gz")):
        return "fer2013"
    return None


def read_public(data: str | Path, votes: str | Path) -> EmotionDataset:
    """The tarball (or CSV) with every face's FER2013 label and, in ``label_sets``, FER+'s."""
    return EmotionDataset.from_csv(data, ferplus=votes, ferplus_mode="fer2013")


def trained_validation(
    card: ModelCard, data: str | Path, votes: str | Path, ds: EmotionDataset
) -> tuple[DatasetSplit, str] | None:
    """The validation split (10 %, seed 0) the model's run carved from this file, read the way
    it was trained (its labels are that run's), with the mode; None when the model was not
    trained on this file (its selection split cannot be carved again here)."""
    mode = trained_mode(card)
    config = (card.training or {}).get("config", {})
    if mode is None or config.get("val_split") != "val":
        return None
    trained = (
        ds if mode == "fer2013" else EmotionDataset.from_csv(data, ferplus=votes, ferplus_mode=mode)  # type: ignore[arg-type]
    )
    return trained.split("val", fraction=0.1, seed=0)["val"], mode
