"""Data: :class:`EmotionDataset` (``dataset``), its readers of folders, zips and fer2013.csv
(``readers``), its training feeds (``pipeline``), augmentation (``augment``) and Kaggle
downloads (``kaggle``)."""

from .dataset import DatasetSplit, EmotionDataset

__all__ = ["DatasetSplit", "EmotionDataset"]
