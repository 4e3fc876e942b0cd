"""Per-segment video features for sequence models (early recognition)."""
from .segment_feature_cache import (CorruptFeatureEntryError, SegmentFeatureCache,
                                    SegmentFeatures)
from .segment_feature_extractor import (SegmentFeatureExtractor, VideoFeatureError,
                                        extract_to_cache)

__all__ = [
    'SegmentFeatureCache', 'SegmentFeatures', 'CorruptFeatureEntryError',
    'SegmentFeatureExtractor', 'VideoFeatureError', 'extract_to_cache'
]
