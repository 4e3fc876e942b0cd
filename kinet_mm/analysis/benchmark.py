"""KINet against MMAction2's recognizers: jobs, variants and their measurement.

One :class:`Job` is a (model, phase) pair; :func:`run_jobs` measures each in a
fresh process (parameters, FLOPs, peak memory, test time) and then times the
training steps of all models interleaved in one process, so that the ratio
targets of :mod:`.report` compare them under the same load. Inputs are
synthetic (:mod:`.inputs`), weights random: ``pretrained`` and teacher
``checkpoint`` entries are set to None, which does not change the arithmetic.
"""
import logging
import os.path as osp
import statistics
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path
from torch import Tensor

from ..models.knowledge import teacher_free
from ..pseudo_labels.extractor import STATS_FILE, read_stats
from .inputs import ClipShape, clip_shape, make_batch
from .measure import (LOGGER_NAME, PeakMemory, count_params, forward_flops,
                      machine_info, median_ms, run_guarded, test_flops,
                      time_interleaved, train_flops)

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Backbones whose ``pretrained2d`` defaults to True.
PRETRAINED2D_BACKBONES = ('ResNetTSM', )
MIB = 2.0**20
VARIANTS = ('plain', 'online', 'cache', 'noaux', 'deploy')
# ---------------------------------------------------------------------------
# What is measured
# ---------------------------------------------------------------------------


@dataclass
class Job:
    """One (model, phase) measurement.

    Args:
        name (str): Unique id, also the ``--models`` name of the job's model.
        label (str): Model name in the table.
        config (str | Config): Config path (``mmaction::`` paths allowed) or a
            loaded config.
        phase (str): ``'train'`` (one training step at ``--batch``) or
            ``'test'`` (inference on one video with the test pipeline's views).
        variant (str): How the config is changed before building:
            ``'plain'`` (as is), ``'online'`` (KINet with online teachers),
            ``'cache'`` (:func:`~kinet_mm.models.knowledge.teacher_free`:
            synthetic cached labels in the data samples), ``'noaux'`` (no
            knowledge head and no teacher: ``teacher_free(heads=False)``) or
            ``'deploy'`` (:func:`kinet_mm.deploy.deploy_config`).
        compare_no_window (bool): Test jobs of a model whose ``test_cfg`` has a
            ``window_size``: time it and ``window_size=None`` alternately on the
            same model and input (target b). Defaults to False.
    """
    name: str
    label: str
    config: object
    phase: str
    variant: str = 'plain'
    compare_no_window: bool = False


def comparison_jobs(kinet: object,
                    tsn: object,
                    tsm: object = None,
                    i3d: object = None,
                    backbone: str = 'R50') -> List[Job]:
    """The benchmark's jobs for these configs, in run order.

    KINet is measured in its three training modes (online teachers, cache,
    auxiliary losses off) and deployed for testing; the others train and test
    as configured. ``tsm`` and ``i3d`` are optional.
    """
    jobs = [
        Job('kinet_online', f'KINet-{backbone} full, online teachers', kinet, 'train',
            'online'),
        Job('kinet_cache', f'KINet-{backbone} full, pseudo-label cache', kinet, 'train',
            'cache'),
        Job('kinet_noaux', f'KINet-{backbone}, auxiliary losses off', kinet, 'train',
            'noaux'),
        Job('kinet_deploy',
            f'KINet-{backbone} deploy',
            kinet,
            'test',
            'deploy',
            compare_no_window=True),
    ]
    for name, config in (('tsn', tsn), ('tsm', tsm), ('i3d', i3d)):
        if config is not None:
            label = f'{name.upper()}-{backbone}'
            jobs += [Job(name, label, config, phase) for phase in ('train', 'test')]
    return jobs


def select_jobs(jobs: Sequence[Job], models: Optional[Sequence[str]],
                phases: Sequence[str]) -> List[Job]:
    """Keep the jobs of ``models`` (``'kinet'`` = every KINet job) and ``phases``."""
    wanted = set(models or [job.name for job in jobs])
    if 'kinet' in wanted:
        wanted |= {job.name for job in jobs if job.name.startswith('kinet')}
    unknown = wanted - {job.name for job in jobs} - {'kinet'}
    if unknown:
        raise ValueError(f'unknown models {sorted(unknown)}; choose from '
                         f'{sorted({job.name for job in jobs})} or kinet')
    return [job for job in jobs if job.name in wanted and job.phase in phases]


@dataclass
class Settings:
    """Settings shared by every job of a run (see :data:`PRESETS`)."""
    device: str = 'cpu'
    batch: int = 6
    input_size: int = 64
    warmup: int = 1
    repeats: int = 5
    test_repeats: int = 3
    threads: Optional[int] = 1
    clock: str = 'process'
    seed: int = 0
    phases: List[str] = field(default_factory=lambda: ['train', 'test'])


#: Named settings. ``cpu``: the default table, quick but at 64 px, where res4
#: and res5 maps are 4x4 and 2x2 and a convolution is bound by its weights, not
#: its arithmetic. ``cpu-224``: the paper's crop size on the same machine,
#: training only, fewer steps (28 minutes on 2 cores, half of it TSM and I3D).
#: ``cuda``: 224 px, wall clock.
PRESETS = {
    'cpu':
    Settings(),
    'cpu-224':
    Settings(input_size=224, repeats=3, test_repeats=1, phases=['train']),
    'cuda':
    Settings(
        device='cuda',
        batch=8,
        input_size=224,
        warmup=3,
        repeats=20,
        test_repeats=10,
        threads=None,
        clock='wall'),
}

# ---------------------------------------------------------------------------
# Configs and models
# ---------------------------------------------------------------------------


def resolve_config_path(path: str) -> str:
    """``'mmaction::recognition/...'`` -> the file in the installed package."""
    if '::' not in path:
        return path
    package, relative = path.split('::', 1)
    return osp.join(get_installed_path(package), '.mim', 'configs', relative)


def load_config(config: object) -> Config:
    """A private copy of ``config`` (a path or a :class:`Config`)."""
    if isinstance(config, Config):
        return Config(config.to_dict())
    return Config.fromfile(resolve_config_path(str(config)))


def make_offline(node: object) -> None:
    """Set every ``pretrained``, ``checkpoint`` and ``Pretrained`` init_cfg to
    None, in place.

    Backbones that would then load 2D weights into their ``pretrained`` path
    (``pretrained2d``, default in ``ResNetTSM``) are told not to. Relative
    teacher ``config`` paths are resolved against the repository, so the
    benchmark runs from any directory.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'init_cfg' and _is_pretrained(value):
                node[key] = None
            elif key in ('pretrained', 'checkpoint') and isinstance(value, str):
                node[key] = None
                if key == 'pretrained' and ('pretrained2d' in node or node.get('type')
                                            in PRETRAINED2D_BACKBONES):
                    node['pretrained2d'] = False
            elif key == 'config' and isinstance(value, str) \
                    and not osp.isabs(value) and not osp.exists(value) \
                    and (REPO_ROOT / value).exists():
                node[key] = str(REPO_ROOT / value)
            else:
                make_offline(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            make_offline(value)


def _is_pretrained(init_cfg: object) -> bool:
    """Whether an ``init_cfg`` loads a checkpoint (MMEngine's ``Pretrained``)."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


def prepare_config(config: object, variant: str) -> Config:
    """Load ``config`` offline and apply ``variant`` (see :class:`Job`)."""
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; one of {VARIANTS}')
    cfg = load_config(config)
    make_offline(cfg.model)
    if variant in ('cache', 'noaux'):
        cfg.model = teacher_free(cfg.model, heads=variant == 'cache')
    elif variant == 'deploy':
        from ..deploy import deploy_config
        cfg = deploy_config(cfg)
    return cfg


def import_libraries() -> None:
    """Import and register MMAction2 and kinet_mm (MMSeg, MMPretrain) once."""
    init_default_scope('mmaction')
    import kinet_mm  # noqa: F401


def build_model(cfg: Config, device: str) -> nn.Module:
    """Build and initialise ``cfg.model`` on ``device``, without the init log."""
    from mmaction.registry import MODELS
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model = MODELS.build(cfg.model)
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model.to(device)


# ---------------------------------------------------------------------------
# One job
# ---------------------------------------------------------------------------


def run_job(job: Job, settings: Settings) -> Dict:
    """Build one job's model; measure memory, FLOPs, parameters (and test time).

    Training steps are timed by :func:`time_train_steps`, all models together.
    """
    _setup(settings)
    cfg = prepare_config(job.config, job.variant)
    model = build_model(cfg, settings.device)
    runner = _run_train if job.phase == 'train' else _run_test
    result = dict(
        name=job.name,
        label=job.label,
        phase=job.phase,
        variant=job.variant,
        device=settings.device)
    result.update(runner(model, cfg, job, settings))
    result.update(count_params(model))
    return result


def _setup(settings: Settings) -> None:
    import_libraries()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)


def _train_setup(model: nn.Module, cfg: Config,
                 settings: Settings) -> Tuple[Dict, object, ClipShape]:
    """Batch, optimizer wrapper (the config's own) and clip shape of a step."""
    shape = clip_shape(
        cfg.train_dataloader.dataset.pipeline, settings.input_size, test=False)
    batch = make_batch(cfg, shape, settings.batch, settings.device)
    model.train()
    return batch, build_optim_wrapper(model, cfg.optim_wrapper), shape


def _run_train(model: nn.Module, cfg: Config, job: Job, settings: Settings) -> Dict:
    """Peak memory of warm-up plus one step (optimizer state included)."""
    batch, optim_wrapper, shape = _train_setup(model, cfg, settings)
    with PeakMemory(settings.device) as memory:
        for _ in range(settings.warmup + 1):
            model.train_step(batch, optim_wrapper)
    result = dict(
        peak_bytes=memory.peak_bytes,
        memory_method=memory.method,
        input=f'{settings.batch}x {shape.describe()}')
    result.update(train_flops(model, batch))
    return result


def time_train_steps(jobs: Sequence[Job], settings: Settings) -> Dict:
    """Median training-step times of several models, interleaved in one process.

    Steps of different models alternate (see :func:`time_interleaved`), so the
    ratio targets compare them under the same load and allocator state; the
    optimizer step alone is timed afterwards for each model.

    Returns:
        dict: By :func:`job_key`: ``median_ms``, ``min_ms``, ``max_ms``,
        ``times_ms`` and ``optimizer_ms``.
    """
    _setup(settings)
    setups = {}
    for job in jobs:
        cfg = prepare_config(job.config, job.variant)
        model = build_model(cfg, settings.device)
        setups[job_key(job)] = (model, ) + _train_setup(model, cfg, settings)[:2]
    calls = {
        key: partial(model.train_step, batch, optim_wrapper)
        for key, (model, batch, optim_wrapper) in setups.items()
    }
    times = time_interleaved(calls, settings.warmup, settings.repeats, settings.device,
                             settings.clock)
    return {
        key:
        dict(median_ms(times[key]), optimizer_ms=_optimizer_ms(*setups[key], settings))
        for key in setups
    }


def _optimizer_ms(model: nn.Module, batch: Dict, optim_wrapper,
                  settings: Settings) -> float:
    """Median ms of ``optim_wrapper.step()`` alone.

    That is gradient clipping and the optimizer update: the part of a training
    step that scales with the parameters, not with the input.
    """
    data = model.data_preprocessor(batch, True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    optim_wrapper.backward(loss)
    times = time_interleaved(
        dict(step=optim_wrapper.step), settings.warmup, settings.repeats,
        settings.device, settings.clock)
    optim_wrapper.zero_grad()
    return statistics.median(times['step']) * 1000


def _run_test(model: nn.Module, cfg: Config, job: Job, settings: Settings) -> Dict:
    shape = clip_shape(
        cfg.test_dataloader.dataset.pipeline, settings.input_size, test=True)
    batch = make_batch(cfg, shape, 1, settings.device)
    model.eval()
    calls = dict(test=lambda: model.test_step(batch))
    window = (model.test_cfg or {}).get('window_size')
    if job.compare_no_window:
        calls = dict(
            test=partial(predict_with_window, model, batch, window),
            no_window=partial(predict_with_window, model, batch, None))
    with PeakMemory(settings.device) as memory, torch.no_grad():
        times = time_interleaved(calls, settings.warmup, settings.test_repeats,
                                 settings.device, settings.clock)
    result = dict(
        median_ms(times['test']),
        peak_bytes=memory.peak_bytes,
        memory_method=memory.method,
        input=shape.describe())
    result.update(test_flops(model, batch))
    if job.compare_no_window:
        result.update(_window_comparison(model, batch, window, times, settings))
        heads = result['head_flops']
        result['no_window']['flops'] = (
            result['flops'] - heads['window'] + heads['no_window'])
    return result


def predict_with_window(model: nn.Module, batch: Dict,
                        window_size: Optional[int]) -> list:
    """``model.test_step(batch)`` with the head's sliding window set to
    ``window_size`` (``None``: one graph per view) for this call only."""
    data = model.data_preprocessor(batch, False)
    feats, kwargs = model.extract_feat(data['inputs'], test_mode=True)
    kwargs = dict(kwargs, window_size=window_size)
    return model.cls_head.predict(
        model.head_input(feats), data['data_samples'], **kwargs)


def _window_comparison(model: nn.Module, batch: Dict, window: int,
                       times: Dict[str, List[float]], settings: Settings) -> Dict:
    """Target b: sliding windows against one graph per view, same frames.

    Besides the paired ratio of the full predictions, the head (the only part
    that differs: the backbone runs once per frame either way) is timed alone
    on the same backbone maps, many times, which gives the ratio with far less
    noise than whole 250-frame runs. The FLOPs without windows are the full
    count with the head's share replaced.
    """
    paired = [a / b for a, b in zip(times['test'], times['no_window'])]
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        maps, kwargs = model.extract_feat(data['inputs'], test_mode=True)
        heads = {
            name: HeadForward(model, dict(kwargs, window_size=size))
            for name, size in (('window', window), ('no_window', None))
        }
        head_times = time_interleaved(
            {
                name: partial(head, *maps)
                for name, head in heads.items()
            }, settings.warmup, max(settings.repeats, 10), settings.device,
            settings.clock)
        head_flops = {
            name: forward_flops(head, tuple(maps))['flops']
            for name, head in heads.items()
        }
    return dict(
        window_size=window,
        window_ratio=statistics.median(paired),
        window_ratios=paired,
        head_flops=head_flops,
        no_window=median_ms(times['no_window']),
        head_ms=statistics.median(head_times['window']) * 1000,
        head_ms_no_window=statistics.median(head_times['no_window']) * 1000)


class HeadForward(nn.Module):
    """A recognizer's classification head on given branch maps, for timing and
    FLOPs of the head alone."""

    def __init__(self, model: nn.Module, kwargs: Dict) -> None:
        super().__init__()
        self.model = model
        self.kwargs = kwargs

    def forward(self, *maps: Tensor) -> Tensor:
        return self.model.cls_head(self.model.head_input(maps), **self.kwargs)


# ---------------------------------------------------------------------------
# Running jobs
# ---------------------------------------------------------------------------


def job_key(job: Job) -> str:
    """``name:phase``, how results and targets refer to a job."""
    return f'{job.name}:{job.phase}'


def _failed(job: Job, error: str) -> Dict:
    return dict(
        name=job.name,
        label=job.label,
        phase=job.phase,
        variant=job.variant,
        error=error)


def run_jobs(jobs: Sequence[Job],
             settings: Settings,
             isolate: bool = True) -> List[Dict]:
    """Run every job, then time all training steps together; log progress.

    A failing job is recorded in its result's ``error``, not raised.
    """
    logger = MMLogger.get_instance(LOGGER_NAME)
    results = []
    for index, job in enumerate(jobs, 1):
        logger.info(f'[{index}/{len(jobs)}] {job.label} ({job.phase})')
        start = time.perf_counter()
        ok, result = run_guarded(
            run_job, job, settings, isolate=isolate, device=settings.device)
        results.append(result if ok else _failed(job, result))
        logger.info(f'[{index}/{len(jobs)}] done in '
                    f'{time.perf_counter() - start:.0f} s: '
                    f'{_summary(results[-1])}')
    _add_train_times(results, jobs, settings, isolate)
    return results


def _add_train_times(results: List[Dict], jobs: Sequence[Job], settings: Settings,
                     isolate: bool) -> None:
    train = [
        job for job, result in zip(jobs, results)
        if job.phase == 'train' and 'error' not in result
    ]
    if not train:
        return
    logger = MMLogger.get_instance(LOGGER_NAME)
    logger.info(f'timing the training steps of {len(train)} models, '
                'interleaved in one process')
    start = time.perf_counter()
    ok, times = run_guarded(
        time_train_steps, train, settings, isolate=isolate, device=settings.device)
    logger.info(f'done in {time.perf_counter() - start:.0f} s')
    for result in results:
        key = f'{result["name"]}:{result["phase"]}'
        if result['phase'] == 'train' and 'error' not in result:
            result.update(times[key] if ok else dict(error=times))


def _summary(result: Dict) -> str:
    if 'error' in result:
        return f'FAILED ({result["error"]})'
    timing = (f'median {result["median_ms"]:.0f} ms, ' if 'median_ms' in result else '')
    return (f'{timing}{result["flops"] / 1e9:.1f} GFLOPs, '
            f'peak +{result["peak_bytes"] / MIB:.0f} MiB')


# ---------------------------------------------------------------------------


def extraction_stats(cache: Optional[str]) -> Optional[Dict]:
    """Frames/s and bytes/frame that ``tools/extract_pseudo_labels.py``
    recorded in a cache's ``extraction_stats.json`` (target d)."""
    stats = read_stats(cache) if cache and osp.isdir(cache) else None
    if not stats:
        return None
    return dict(
        fps=stats.get('fps'),
        bytes_per_frame=stats.get('bytes_per_frame'),
        source=osp.join(cache, STATS_FILE))


def run_benchmark(jobs: Sequence[Job],
                  settings: Settings,
                  command: str,
                  isolate: bool = True,
                  pseudo_label_cache: Optional[str] = None) -> Dict:
    """Measure ``jobs``; the run's record, as :mod:`.report` renders it."""
    import_libraries()
    return dict(
        settings=asdict(settings),
        results=run_jobs(jobs, settings, isolate=isolate),
        extraction=extraction_stats(pseudo_label_cache),
        command=command,
        machine=machine_info(settings.device),
        time=time.strftime('%Y-%m-%d %H:%M %Z'))
