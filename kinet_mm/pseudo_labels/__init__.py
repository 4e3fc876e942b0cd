"""KINet's pseudo labels on disk and in the pipeline.

- :mod:`.cache`: the on-disk cache format;
- :mod:`.extractor`: running the teachers over a dataset into a cache;
- :mod:`.transforms`: ``LoadPseudoLabels``/``PackKINetInputs`` (pipelines).

What a kind of knowledge stores, and how its targets are made online or from
the cache, is the knowledge task's (:mod:`kinet_mm.models.knowledge`).
"""
from .cache import (CorruptEntryError, FrameOutOfRangeError, PseudoLabelCache,
                    PseudoLabelEntry)
from .extractor import ExtractionSettings, PseudoLabelExtractor
from .transforms import LoadPseudoLabels, PackKINetInputs

__all__ = [
    'CorruptEntryError', 'ExtractionSettings', 'FrameOutOfRangeError',
    'LoadPseudoLabels', 'PackKINetInputs', 'PseudoLabelCache', 'PseudoLabelEntry',
    'PseudoLabelExtractor'
]
