"""Per-segment features of an MMAction2 recognizer, for early recognition.

The video is cut into ``N`` equal parts (progression levels, ``N = 10`` in the
paper); ``F`` frames at the centres of ``F`` equal sub-parts of each part feed
the recognizer's ``extract_feat`` as one clip, and the backbone map is averaged
over space and those frames: row ``n`` describes part ``n`` only, the newest
part of the prefix observed at ratio ``n / N``. No part sees a later one, so
the recurrent student's input at step ``n`` holds no future (TSM's temporal
shift, for one, only mixes the ``F`` frames of one part).

MMAction2's own ``SampleFrames(clip_len=1, num_clips=N * F, test_mode=True)``
picks exactly those frames (the centres of ``N * F`` equal segments, ``F``
consecutive ones per part), so the sampling is MMAction2's, not a copy.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint, set_random_seed

from ..extraction.runner import run_resumable
from .segment_feature_cache import SegmentFeatureCache, SegmentFeatures

#: Config key of the extraction settings (see :class:`SegmentFeatureExtractor`).
CFG_KEY = 'segment_features'


class VideoFeatureError(RuntimeError):
    """A video could not be decoded or featurised (the message names it)."""


def _sampler(pipeline: Sequence[Dict]) -> Dict:
    samplers = [t for t in pipeline if t['type'] == 'SampleFrames']
    if len(samplers) != 1:
        raise ValueError(f'{CFG_KEY}.pipeline needs exactly one SampleFrames '
                         f'step, found {len(samplers)}.')
    return samplers[0]


class SegmentFeatureExtractor:
    """Features of the ``N`` progression levels of videos, from a recognizer.

    Args:
        model (torch.nn.Module): An MMAction2 recognizer (``Recognizer2D`` such
            as TSN/TSM, or :class:`KINet`), in eval mode.
        pipeline (list[dict]): Test-style pipeline from ``DecordInit`` to
            ``PackActionInputs``, whose ``SampleFrames`` has ``clip_len=1``,
            ``num_clips=num_levels * frames_per_level``, ``test_mode=True``.
        num_levels (int): ``N``. Defaults to 10.
        frames_per_level (int): ``F``; for TSM, its ``num_segments``.
        branch (str, optional): For backbones with several branch maps
            (KINet: ``'action'``, ``'human'``, ``'scene'``), the one to keep.
        stage (str): ``extract_feat`` stage. Defaults to ``'backbone'``.
        device (str): Defaults to ``'cpu'``.
        source (dict, optional): What the model is (config, checkpoint or
            ``None`` for random weights, seed), recorded in ``meta.json``.
    """

    def __init__(self,
                 model: torch.nn.Module,
                 pipeline: Sequence[Dict],
                 num_levels: int = 10,
                 frames_per_level: int = 1,
                 branch: Optional[str] = None,
                 stage: str = 'backbone',
                 device: str = 'cpu',
                 source: Optional[Dict] = None) -> None:
        sampler = _sampler(pipeline)
        want = num_levels * frames_per_level
        if (sampler.get('clip_len', 1) != 1 or sampler.get('num_clips') != want
                or not sampler.get('test_mode', False)):
            raise ValueError(
                f"{CFG_KEY}.pipeline's SampleFrames must be clip_len=1, "
                f'num_clips={want} (num_levels {num_levels} x frames_per_level '
                f'{frames_per_level}), test_mode=True; got {dict(sampler)}.')
        if pipeline[-1]['type'] != 'PackActionInputs':
            raise ValueError(f"{CFG_KEY}.pipeline must end with "
                             f"PackActionInputs, not {pipeline[-1]['type']}.")
        self.model = model.to(device).eval()
        self.pipeline_cfg = [dict(t) for t in pipeline]
        # Packing drops frame_inds/total_frames, which meta of an entry keeps.
        self.load = Compose(self.pipeline_cfg[:-1])
        self.pack = Compose(self.pipeline_cfg[-1:])
        self.num_levels = num_levels
        self.frames_per_level = frames_per_level
        self.branch = branch
        self.stage = stage
        self.device = device
        self.source = source or dict(model=type(model).__name__)

    @classmethod
    def from_config(cls,
                    cfg: Config,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu') -> 'SegmentFeatureExtractor':
        """Build the recognizer of ``cfg.model`` and the ``segment_features``
        settings; ``checkpoint=None`` keeps the (seeded) random weights."""
        if CFG_KEY not in cfg:
            raise KeyError(f'{cfg.filename}: no {CFG_KEY} = dict(num_levels=..., '
                           'frames_per_level=..., pipeline=[...]) section.')
        settings = cfg[CFG_KEY]
        seed = cfg.get('randomness', {}).get('seed')
        if checkpoint is None and seed is not None:
            # Random-weight features are only reproducible from a seed.
            set_random_seed(seed)
        model = MODELS.build(cfg.model)
        if checkpoint:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
        else:
            model.init_weights()
        return cls(
            model,
            settings['pipeline'],
            num_levels=settings.get('num_levels', 10),
            frames_per_level=settings.get('frames_per_level', 1),
            branch=settings.get('branch'),
            stage=settings.get('stage', 'backbone'),
            device=device,
            source=dict(
                config=osp.relpath(cfg.filename) if cfg.filename else None,
                model=cfg.model.get('type'),
                checkpoint=checkpoint,
                seed=None if checkpoint else seed))

    def meta(self, feature_dim: int) -> Dict:
        """``meta.json`` content for features of this extractor."""
        from kinet_mm.version import __version__
        return dict(
            info=dict(kinet_mm_version=__version__),
            source=self.source,
            stage=self.stage,
            branch=self.branch,
            num_levels=self.num_levels,
            frames_per_level=self.frames_per_level,
            feature_dim=int(feature_dim),
            pipeline=[{
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in t.items()
            } for t in self.pipeline_cfg])

    @torch.no_grad()
    def extract(self, filename: str, key: str = '') -> SegmentFeatures:
        """Features ``(N, C)`` of one video.

        Raises:
            VideoFeatureError: If the video cannot be decoded (names it).
        """
        try:
            results = self.load(
                dict(filename=filename, label=-1, start_index=0, modality='RGB'))
        except Exception as err:  # decord/OpenCV raise many types
            raise VideoFeatureError(f'cannot read {filename}: {err}') from err
        frame_inds = np.asarray(results['frame_inds'])
        num_frames = int(results['total_frames'])
        data = self.pack(results)
        batch = self.model.data_preprocessor(pseudo_collate([data]), False)
        inputs = batch['inputs']  # (1, N * F, 3, H, W)
        levels = inputs.reshape((self.num_levels, self.frames_per_level) +
                                inputs.shape[2:])
        feats, _ = self.model.extract_feat(levels, stage=self.stage)
        if isinstance(feats, (tuple, list)):
            feats = feats[self._branch_index(len(feats))]
        # (N * F, C, [T,] h, w) -> (N, C): average over space (and time).
        pooled = feats.flatten(2).mean(dim=2) if feats.dim() > 2 else feats
        pooled = pooled.reshape(self.num_levels, self.frames_per_level, -1)
        return SegmentFeatures(
            features=pooled.mean(dim=1).float().cpu().numpy(),
            frame_inds=frame_inds.reshape(self.num_levels, -1),
            num_frames=num_frames,
            video=key or filename)

    def _branch_index(self, num_maps: int) -> int:
        names = getattr(self.model.backbone, 'branch_names', None)
        if names is None or self.branch is None:
            raise ValueError(
                f'extract_feat returned {num_maps} maps; set {CFG_KEY}.branch '
                f'to one of the backbone branches {names}.')
        if self.branch not in names:
            raise ValueError(f'{CFG_KEY}.branch {self.branch!r} is not one of '
                             f'the backbone branches {names}.')
        return list(names).index(self.branch)


def extract_to_cache(extractor: SegmentFeatureExtractor,
                     root: str,
                     videos: Sequence[Tuple[str, str]],
                     logger: Optional[MMLogger] = None,
                     show_progress: bool = True) -> Dict:
    """Extract the videos missing from the cache at ``root`` (resumable).

    ``meta.json`` is written with the first video's feature size; a rerun with
    the same extractor skips every finished video, one with a different
    extractor is refused.

    Returns:
        dict: ``done``, ``skipped``, ``frames`` counts and ``failed`` filenames.
    """
    cache = None
    if osp.isfile(osp.join(root, 'meta.json')):
        # Resume only what this very extractor produced (raises otherwise).
        dim = SegmentFeatureCache(root).meta['feature_dim']
        cache = SegmentFeatureCache.create(root, extractor.meta(dim))

    def extract(key: str, filename: str) -> int:
        nonlocal cache
        entry = extractor.extract(filename, key)
        if cache is None:
            cache = SegmentFeatureCache.create(root,
                                               extractor.meta(entry.features.shape[1]))
        cache.write(key, entry)
        return len(entry.features)

    return run_resumable(videos,
                         lambda key: cache is not None and cache.is_complete(key),
                         extract, (VideoFeatureError, ), logger, show_progress)
