from .transforms import *  # noqa: F401,F403
from .segment_feature_dataset import SegmentFeatureDataset  # noqa: F401
