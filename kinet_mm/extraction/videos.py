"""The videos a config's datasets list, for tools that process every video once
(pseudo-label and feature extraction)."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

#: The dataloaders of each ``--split`` choice.
SPLITS = dict(
    train=['train_dataloader'],
    val=['val_dataloader'],
    test=['test_dataloader'],
    all=['train_dataloader', 'val_dataloader', 'test_dataloader'])


def _leaf_datasets(ds_cfg) -> List:
    """Unwrap RepeatDataset / ConcatDataset-style wrappers."""
    if 'datasets' in ds_cfg:
        return [leaf for sub in ds_cfg['datasets'] for leaf in _leaf_datasets(sub)]
    if 'dataset' in ds_cfg:
        return _leaf_datasets(ds_cfg['dataset'])
    return [ds_cfg]


def dataset_cfgs(cfg: Config,
                 split: str = 'train',
                 ann_file: Optional[str] = None) -> List:
    """Dataset configs whose videos are extracted.

    Args:
        cfg (Config): A training config.
        split (str): A key of :data:`SPLITS`: ``'train'``, ``'val'``,
            ``'test'`` or ``'all'`` (the three).
        ann_file (str, optional): An annotation file to use instead, its videos
            under the train dataset's ``data_prefix``.
    """
    if ann_file is not None:
        ds_cfg = _leaf_datasets(cfg.train_dataloader.dataset)[0].copy()
        ds_cfg.ann_file = osp.abspath(ann_file)
        return [ds_cfg]
    return [
        leaf for name in SPLITS[split] if cfg.get(name)
        for leaf in _leaf_datasets(cfg[name].dataset)
    ]


def list_videos(ds_cfgs: Sequence) -> List[Tuple[str, str]]:
    """``(key, filename)`` of every video, deduplicated, in dataset order.

    The datasets are built (with no pipeline) so that ``data_root``,
    ``data_prefix`` and the annotation format resolve exactly as in training;
    the key is the filename relative to ``data_prefix['video']``.
    """
    from mmaction.registry import DATASETS
    videos: Dict[str, str] = {}
    for ds_cfg in ds_cfgs:
        ds_cfg = ds_cfg.copy()
        ds_cfg.pipeline = []
        dataset = DATASETS.build(ds_cfg)
        prefix = dataset.data_prefix.get('video', '')
        for idx in range(len(dataset)):
            filename = dataset.get_data_info(idx)['filename']
            # Without a prefix the annotation holds full paths; drop the root.
            key = osp.relpath(filename, prefix or os.sep)
            videos.setdefault(key.replace(os.sep, '/'), filename)
    return list(videos.items())
