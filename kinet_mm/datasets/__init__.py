from .checked_dataset import CheckedRawframeDataset, CheckedVideoDataset
from .segment_feature_dataset import SegmentFeatureDataset

__all__ = ['CheckedRawframeDataset', 'CheckedVideoDataset', 'SegmentFeatureDataset']
