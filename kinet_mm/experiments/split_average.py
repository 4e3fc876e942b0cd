"""Test one model per official split, average the splits, fuse two streams.

The library side of ``tools/analysis/ucf101_splits.py``. UCF-101 (and HMDB51)
results are "the average of three train/test splits" (KINet paper, sections
4.1 and 4.5, Table 6). Each split model is tested with MMEngine's Runner, as
``tools/test.py CONFIG CHECKPOINT --dump SCORES.pkl`` does; the dumped
per-video scores then give every accuracy, and a two-stream (RGB + flow)
result fuses the two dumps of a split as MMAction2's
``tools/analysis_tools/report_accuracy.py`` does (a weighted sum of the
scores, ``mmaction.evaluation.functional.get_weighted_score``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmaction.evaluation.functional import get_weighted_score, top_k_accuracy
from mmengine import load
from mmengine.config import Config
from mmengine.runner import Runner

from ..deploy import without_teachers

#: TSN's two-stream weights (Wang et al. 2016a): spatial 1, temporal 1.5.
TSN_COEFFICIENTS = (1.0, 1.5)


def dump_test_scores(config: str,
                     checkpoint: str,
                     work_dir: str,
                     cfg_options: Optional[Dict] = None,
                     launcher: str = 'none') -> Tuple[str, Dict, Config]:
    """Test ``checkpoint`` with ``config``'s test loop; dump its scores.

    As ``tools/test.py CONFIG CHECKPOINT --dump``, except that a KINet is built
    without its teachers (testing never runs them).

    Args:
        config (str): Config path.
        checkpoint (str): Checkpoint path (loaded as ``load_from``).
        work_dir (str): Logs and ``scores.pkl`` go here.
        cfg_options (dict, optional): Merged into the config first.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        tuple: The dump's path, the test metrics and the config as tested.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model = without_teachers(cfg.model)
    dump = osp.join(work_dir, 'scores.pkl')
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    cfg.test_evaluator = [*evaluators, dict(type='DumpResults', out_file_path=dump)]
    cfg.work_dir, cfg.load_from, cfg.launcher = work_dir, checkpoint, launcher
    metrics = Runner.from_cfg(cfg).test()
    return dump, metrics, cfg


def load_scores(dump: str) -> Tuple[List[np.ndarray], List[int]]:
    """Per-video scores ``(num_classes, )`` and labels of a test dump."""
    samples = load(dump)
    if not samples:
        raise ValueError(f'{dump} holds no predictions')
    scores = [np.asarray(s['pred_score'], dtype=np.float64) for s in samples]
    labels = [int(np.asarray(s['gt_label']).reshape(-1)[0]) for s in samples]
    return scores, labels


def top1(scores: Sequence[np.ndarray], labels: Sequence[int]) -> float:
    """Top-1 accuracy in [0, 1], MMAction2's ``top_k_accuracy``."""
    return float(top_k_accuracy(list(scores), list(labels), (1, ))[0])


def fused_top1(dumps: Sequence[str], coefficients: Sequence[float]) -> float:
    """Top-1 of the weighted sum of several streams' scores of one split.

    Raises:
        ValueError: If the dumps list different labels (other test files, or
            another order), so their scores cannot be added per video.
    """
    if len(dumps) != len(coefficients):
        raise ValueError(f'{len(dumps)} score files but {len(coefficients)} '
                         'coefficients')
    streams = [load_scores(dump) for dump in dumps]
    labels = streams[0][1]
    for dump, (_, other) in zip(dumps[1:], streams[1:]):
        if other != labels:
            raise ValueError(
                f'{dump} and {dumps[0]} list different videos (labels differ '
                f'in order or number: {len(other)} vs {len(labels)}); test both '
                'streams on the same annotation file.')
    fused = get_weighted_score([scores for scores, _ in streams], list(coefficients))
    return top1(fused, labels)


def split_table(rgb_dumps: Sequence[str],
                flow_dumps: Optional[Sequence[Optional[str]]] = None,
                coefficients: Sequence[float] = TSN_COEFFICIENTS,
                names: Optional[Sequence[str]] = None) -> List[Dict]:
    """Top-1 of every split and their mean, per stream and fused.

    Args:
        rgb_dumps (Sequence[str]): One RGB score dump per split.
        flow_dumps (Sequence[str], optional): The flow dump of each split
            (``None`` where a split has none). Fused top-1 is given for the
            splits that have one, and its mean only if all do.
        coefficients (Sequence[float]): RGB and flow weights of the fusion.
        names (Sequence[str], optional): Row names. Defaults to
            ``split 1``, ``split 2``, ...

    Returns:
        list[dict]: One row per split, then ``mean``: ``name``, ``videos``,
        ``rgb``, ``flow`` and ``fused`` (top-1 in [0, 1], or None).
    """
    flow_dumps = list(flow_dumps or [None] * len(rgb_dumps))
    if len(flow_dumps) != len(rgb_dumps):
        raise ValueError(f'{len(rgb_dumps)} RGB but {len(flow_dumps)} flow '
                         'score files: give one per split')
    names = list(names or [f'split {i + 1}' for i in range(len(rgb_dumps))])
    rows = []
    for name, rgb, flow in zip(names, rgb_dumps, flow_dumps):
        scores, labels = load_scores(rgb)
        row = dict(
            name=name,
            videos=len(labels),
            rgb=top1(scores, labels),
            flow=None,
            fused=None)
        if flow is not None:
            row['flow'] = top1(*load_scores(flow))
            row['fused'] = fused_top1([rgb, flow], coefficients)
        rows.append(row)
    mean = dict(name='mean', videos=sum(row['videos'] for row in rows))
    for key in ('rgb', 'flow', 'fused'):
        values = [row[key] for row in rows]
        mean[key] = None if None in values else float(np.mean(values))
    return rows + [mean]


def markdown_split_table(rows: Sequence[Dict]) -> str:
    """The rows of :func:`split_table` as a Markdown table (top-1 in %)."""

    def cell(value: Optional[float]) -> str:
        return '-' if value is None else f'{100 * value:.1f}'

    lines = [
        '| | videos | RGB top-1 | flow top-1 | two-stream top-1 |',
        '| --- | --- | --- | --- | --- |'
    ]
    lines += [
        f"| {row['name']} | {row['videos']} | {cell(row['rgb'])} | "
        f"{cell(row['flow'])} | {cell(row['fused'])} |" for row in rows
    ]
    return '\n'.join(lines)
