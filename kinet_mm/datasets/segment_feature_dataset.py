"""Sequences of per-segment video features, for early recognition."""
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file

from ..features.segment_feature_cache import SegmentFeatureCache
from ..models.losses.early_recognition_loss import UNLABELLED

#: UCF-101 file names carry their group: ``v_<Class>_g<group>_c<clip>.avi``.
UCF101_GROUP = re.compile(r'_g(\d+)_c\d+')


def ucf101_group(filename: str) -> int:
    """The group (1-25) in a UCF-101 file name (``v_Drumming_g19_c03.avi``)."""
    match = UCF101_GROUP.search(osp.basename(filename))
    if match is None:
        raise ValueError(f'{filename!r} is not a UCF-101 file name '
                         '(v_<Class>_gXX_cYY.avi); cannot filter by group.')
    return int(match.group(1))


def labelled_subset(num_samples: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask keeping the labels of ``round(fraction * M)`` samples.

    The subset is drawn once from a seeded generator, so every epoch, rank and
    rerun sees the same labelled/unlabelled split; at least one sample stays
    labelled.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'labelled_fraction must be in (0, 1], got {fraction}.')
    num_labelled = max(1, int(round(fraction * num_samples)))
    keep = np.zeros(num_samples, dtype=bool)
    order = np.random.default_rng(seed).permutation(num_samples)
    keep[order[:num_labelled]] = True
    return keep


@DATASETS.register_module()
class SegmentFeatureDataset(BaseDataset):
    """Videos as ``(N, C)`` feature sequences from a segment-feature cache.

    The annotation file is MMAction2's video list (``<video> <label>`` a line,
    the same file the features were extracted from); each video's key is its
    path as written there, relative to ``data_prefix['video']`` of the
    extraction.

    Semi-supervised training (``labelled_fraction < 1``): a seeded random
    subset keeps its labels, the others get label -1 and only enter the
    distillation losses (``../shared/papers/early_recognition_kd.txt``,
    Sec. 3.4; 10 % labelled in the paper).

    Each item is ``dict(inputs=(N, C) float tensor, data_samples=
    ActionDataSample(gt_label))``; MMEngine's default ``pseudo_collate`` batches
    them.

    Args:
        ann_file (str): Video list.
        feature_root (str): Segment-feature cache directory.
        expected_meta (dict, optional): ``meta.json`` fields that must match,
            e.g. ``dict(num_levels=10, feature_dim=2048)``.
        labelled_fraction (float): Fraction of videos that keep their label.
            Defaults to 1.0.
        label_seed (int): Seed of the labelled subset. Defaults to 0.
        groups (tuple[int, int], optional): Keep UCF-101 videos whose group
            (``_gXX_`` in the file name) lies in ``[lo, hi]``: the early
            recognition protocol uses 1-15 train, 16-18 val, 19-25 test.
        kwargs: ``metainfo``, ``data_root``, ``test_mode``, ``lazy_init`` etc.
            of :class:`mmengine.dataset.BaseDataset` (no pipeline is needed).
    """

    def __init__(self,
                 ann_file: str,
                 feature_root: str,
                 expected_meta: Optional[Dict] = None,
                 labelled_fraction: float = 1.0,
                 label_seed: int = 0,
                 groups: Optional[Tuple[int, int]] = None,
                 pipeline: Sequence[Union[Dict, Callable]] = (),
                 **kwargs) -> None:
        self.feature_root = feature_root
        self.expected_meta = expected_meta
        self.labelled_fraction = labelled_fraction
        self.label_seed = label_seed
        self.groups = tuple(groups) if groups is not None else None
        self.cache = SegmentFeatureCache(feature_root, expected_meta)
        super().__init__(ann_file=ann_file, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[Dict]:
        data_list = []
        for line_no, line in enumerate(list_from_file(self.ann_file), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise ValueError(f'{self.ann_file}:{line_no}: expected '
                                 f'"<video> <label>", got {line!r}.')
            key = parts[0]
            if self.groups is not None:
                lo, hi = self.groups
                if not lo <= ucf101_group(key) <= hi:
                    continue
            data_list.append(dict(key=key, label=int(parts[-1])))
        if not data_list:
            raise ValueError(f'{self.ann_file}: no videos (groups filter '
                             f'{self.groups}).')
        if self.labelled_fraction < 1:
            keep = labelled_subset(
                len(data_list), self.labelled_fraction, self.label_seed)
            for info, labelled in zip(data_list, keep):
                info['label'] = info['label'] if labelled else UNLABELLED
        return data_list

    def prepare_data(self, idx: int) -> Dict:
        info = self.get_data_info(idx)
        entry = self.cache.read(info['key'])
        sample = ActionDataSample().set_gt_label(info['label'])
        sample.set_metainfo(dict(key=info['key'], sample_idx=idx))
        data = dict(inputs=torch.from_numpy(entry.features), data_samples=sample)
        return self.pipeline(data)
