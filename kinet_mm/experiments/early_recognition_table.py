"""Extract features, train teacher then students, and tabulate early recognition.

The library side of ``tools/analysis/early_recognition_table.py``. A *table
spec* (a config such as ``configs/early_recognition/realclips_proxy_table.py``)
names the feature extractors, the teacher configs (stage 1) and the rows
(stage-2 configs, each with the teacher it distils from). For every feature
set and seed, each teacher is trained first on full sequences; its work dir
then becomes the ``teacher_checkpoint`` of the rows that use it, whose frozen
teacher loads it when training starts. Every run is a plain MMEngine Runner of
an ordinary config, as ``tools/train.py`` would run it.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner, TestLoop

from ..evaluation.metrics.early_recognition_metric import ratio_key
from ..extraction.videos import SPLITS, dataset_cfgs, list_videos
from ..features import SegmentFeatureCache, SegmentFeatureExtractor
from ..features.segment_feature_extractor import extract_to_cache

PREFIX = 'early/'


def ensure_features(feature: Dict, out_dir: str, logger: MMLogger) -> str:
    """Extract (or resume) the features of one extractor; returns the cache dir.

    Every video of the extractor config's dataloaders is extracted; finished
    ones are skipped. A feature set given as ``cache=DIR`` (features extracted
    elsewhere) is used as it is.
    """
    if feature.get('cache'):
        SegmentFeatureCache(feature['cache'])  # fails early if it is none
        return feature['cache']
    cfg = Config.fromfile(feature['config'])
    videos = list_videos(dataset_cfgs(cfg, 'all'))
    extractor = SegmentFeatureExtractor.from_config(cfg, feature.get('checkpoint'))
    stats = extract_to_cache(extractor, out_dir, videos, logger, show_progress=False)
    logger.info(f"features {feature['name']}: {stats['done']} extracted, "
                f"{stats['skipped']} cached -> {out_dir}")
    if stats['failed']:
        raise RuntimeError(f"{feature['name']}: could not read "
                           f"{stats['failed']}; fix or drop these videos.")
    return out_dir


def stage_config(path: str,
                 feature_root: str,
                 work_dir: str,
                 seed: int,
                 teacher_dir: Optional[str] = None,
                 cfg_options: Optional[Dict] = None) -> Config:
    """``path`` pointed at a feature cache, a work dir, a seed and a teacher;
    ``cfg_options`` (the spec's, e.g. a shorter schedule) are merged first."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    dim = SegmentFeatureCache(feature_root).meta['feature_dim']
    for name in SPLITS['all']:
        if cfg.get(name):
            cfg[name]['dataset']['feature_root'] = feature_root
    cfg.model.head.in_channels = dim
    if cfg.model.get('teacher'):
        cfg.model.teacher.in_channels = dim
        if teacher_dir is None:
            raise ValueError(f'{path} distils from a teacher: give the row a '
                             "'teacher' in the table spec.")
        cfg.model.teacher_checkpoint = teacher_dir
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.experiment_name = osp.relpath(work_dir).replace(osp.sep, '_')
    cfg.log_level = 'WARNING'
    return cfg


def train_and_test(cfg: Config, fit: bool = False) -> Dict[str, float]:
    """Train with the config's schedule, then test; metrics without prefix.

    With ``fit=True`` the trained model is also evaluated on all training
    videos with their true labels (``fit_auc`` etc.), including those whose
    label was hidden in semi-supervised training: whether the pipeline learns
    at all, when the held-out videos are too few to tell.
    """
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = _strip(runner.test())
    if fit:
        loader = copy.deepcopy(cfg.train_dataloader)
        loader.dataset.update(test_mode=True, labelled_fraction=1.0)
        loader.sampler = dict(type='DefaultSampler', shuffle=False)
        fit_metrics = TestLoop(runner, loader, cfg.test_evaluator).run()
        metrics.update({f'fit_{k}': v for k, v in _strip(fit_metrics).items()})
    return metrics


def _strip(metrics: Dict) -> Dict[str, float]:
    return {
        k[len(PREFIX):]: float(v)
        for k, v in metrics.items() if k.startswith(PREFIX)
    }


def run_table(spec: Config, work_dir: str, logger: MMLogger) -> List[Dict]:
    """All runs of a table spec; one result per (feature, row) over seeds.

    Returns:
        list[dict]: ``feature``, ``row``, ``data``, ``curves`` (one
        ``{metric: value}`` per seed).
    """
    results = []
    options = spec.get('cfg_options')
    fit = spec.get('fit_column', False)
    for feature in spec.features:
        root = ensure_features(feature, osp.join(work_dir, 'features', feature['key']),
                               logger)
        per_row = {row['name']: [] for row in _rows(spec)}
        for seed in spec.seeds:
            teacher_dirs = {}
            for key, path in spec.teachers.items():
                run_dir = osp.join(work_dir, feature['key'], f'teacher-{key}',
                                   f'seed{seed}')
                metrics = train_and_test(
                    stage_config(path, root, run_dir, seed, None, options), fit)
                teacher_dirs[key] = run_dir
                if spec.get('show_teachers', True):
                    per_row[f'Teacher ({key})'].append(metrics)
            for row in spec.rows:
                run_dir = osp.join(work_dir, feature['key'], row['key'], f'seed{seed}')
                teacher = teacher_dirs.get(row.get('teacher'))
                cfg = stage_config(row['config'], root, run_dir, seed, teacher, options)
                per_row[row['name']].append(train_and_test(cfg, fit))
                logger.info(f"{feature['name']} | {row['name']} | seed {seed}: "
                            f"AUC {100 * per_row[row['name']][-1]['auc']:.1f}")
        for row in _rows(spec):
            results.append(
                dict(
                    feature=feature['name'],
                    row=row['name'],
                    data=row.get('data', ''),
                    curves=per_row[row['name']]))
    return results


def _rows(spec: Config) -> List[Dict]:
    rows = list(spec.rows)
    if spec.get('show_teachers', True):
        rows = [
            dict(
                name=f'Teacher ({key})', data=spec.get('teacher_data', {}).get(key, ''))
            for key in spec.teachers
        ] + rows
    return rows


def summarise(curves: Sequence[Dict[str, float]], key: str) -> str:
    """``mean`` (or ``mean ± std`` over seeds) of one metric, in percent."""
    values = 100 * np.asarray([c[key] for c in curves])
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{values.mean():.1f} ± {values.std():.1f}'


#: The observation ratios (%) of the paper's tables.
RATIOS = (20, 40, 60, 80, 100)


def markdown_table(results: Sequence[Dict], ratios: Sequence[int] = RATIOS) -> str:
    """The paper's Table 1/3 layout: accuracy at observation ratios, and AUC."""
    fit = 'fit_auc' in results[0]['curves'][0]
    head = ['Features', 'Method', 'Training data'] + [f'{r}%' for r in ratios]
    head += ['AUC'] + (['AUC on the training videos'] if fit else [])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for res in results:
        cells = [res['feature'], res['row'], res['data']]
        cells += [summarise(res['curves'], ratio_key(r / 100)) for r in ratios]
        cells.append(summarise(res['curves'], 'auc'))
        if fit:
            cells.append(summarise(res['curves'], 'fit_auc'))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_curves(results: Sequence[Dict], path: str) -> None:
    """Mean accuracy vs observation ratio, one panel per feature set."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    features = list(dict.fromkeys(r['feature'] for r in results))
    fig, axes = plt.subplots(
        1, len(features), figsize=(5 * len(features), 4), sharey=True, squeeze=False)
    for ax, feature in zip(axes[0], features):
        for res in (r for r in results if r['feature'] == feature):
            keys = sorted((k for k in res['curves'][0] if k.startswith('acc_obs_')),
                          key=lambda k: int(k.rsplit('_', 1)[1]))
            xs = [int(k.rsplit('_', 1)[1]) for k in keys]
            ys = [100 * np.mean([c[k] for c in res['curves']]) for k in keys]
            ax.plot(xs, ys, marker='o', label=f"{res['row']} ({res['data']})")
        ax.set(
            title=feature,
            xlabel='observation ratio (%)',
            ylabel='top-1 accuracy (%)',
            ylim=(-2, 102))
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc='lower center', ncol=2)
    fig.tight_layout(rect=(0, 0.05 + 0.03 * len(labels) / 2, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = [
    'ensure_features', 'stage_config', 'train_and_test', 'run_table', 'markdown_table',
    'plot_curves'
]
