from .checked_dataset import CheckedRawframeDataset, CheckedVideoDataset
from .segment_feature_dataset import SegmentFeatureDataset
from .videos import dataset_cfgs, list_videos

__all__ = [
    'CheckedRawframeDataset', 'CheckedVideoDataset', 'SegmentFeatureDataset',
    'dataset_cfgs', 'list_videos'
]
