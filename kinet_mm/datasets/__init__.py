from .checked_dataset import CheckedRawframeDataset, CheckedVideoDataset

__all__ = ['CheckedRawframeDataset', 'CheckedVideoDataset']
