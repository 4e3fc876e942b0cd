"""KINet's pseudo labels, from the teachers to the loss targets.

- :mod:`.fields`: the field names, defined once;
- :mod:`.cache`: the on-disk cache format;
- :mod:`.extractor`: running the teachers over a dataset into a cache;
- :mod:`.transforms`: ``LoadPseudoLabels``/``PackKINetInputs`` (pipelines);
- :mod:`.labelers`: ``OnlinePseudoLabeler``/``CachedPseudoLabeler``, which
  give the auxiliary heads' targets (the model's side).
"""
from .cache import (CorruptEntryError, FrameOutOfRangeError, PseudoLabelCache,
                    PseudoLabelEntry)
from .extractor import ExtractionSettings, PseudoLabelExtractor
from .labelers import (BasePseudoLabeler, CachedPseudoLabeler,
                       OnlinePseudoLabeler)
from .transforms import LoadPseudoLabels, PackKINetInputs, warp_masks

__all__ = [
    'BasePseudoLabeler', 'CachedPseudoLabeler', 'CorruptEntryError',
    'ExtractionSettings', 'FrameOutOfRangeError', 'LoadPseudoLabels',
    'OnlinePseudoLabeler', 'PackKINetInputs', 'PseudoLabelCache',
    'PseudoLabelEntry', 'PseudoLabelExtractor', 'warp_masks'
]
