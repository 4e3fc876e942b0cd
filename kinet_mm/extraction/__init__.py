"""Running a model or a tool over the videos of a dataset: which videos
(:mod:`.videos`), the resumable loop every extractor shares (:mod:`.runner`)
and the TV-L1 flow of a dataset (:mod:`.flow`). The pseudo-label and
segment-feature extractors live with their caches."""
from .runner import run_resumable
from .videos import SPLITS, dataset_cfgs, list_videos

__all__ = ['SPLITS', 'dataset_cfgs', 'list_videos', 'run_resumable']
