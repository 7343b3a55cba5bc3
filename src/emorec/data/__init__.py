"""Data: :class:`EmotionDataset` (``dataset``), its readers of folders and zips (``readers``)
and of fer2013.csv (``fer_csv``), its training feeds (``pipeline``), augmentation
(``augment``), Kaggle downloads (``kaggle``) and TFRecord shards for data larger than memory
(``shards``, ``sharded_split``)."""

from .dataset import DatasetSplit, EmotionDataset

__all__ = ["DatasetSplit", "EmotionDataset"]
