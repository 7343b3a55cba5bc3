"""Data: :class:`EmotionDataset` (folders, zips, fer2013.csv, arrays, Kaggle) and augmentation."""

from .dataset import DatasetSplit, EmotionDataset

__all__ = ["DatasetSplit", "EmotionDataset"]
