"""Benchmark KINet-R50 against MMAction2's TSN-R50, TSM-R50 and I3D-R50.

Measures, in one run on one machine and with the same batch and input size
for every model: parameters, FLOPs (MMEngine's ``FlopAnalyzer``), the median
time of a training step (``model.train_step``: preprocessing, forward, loss,
backward and the config's own optimizer step, gradient clipping included), the
median time of inference on one test video under each model's own test
protocol (``model.test_step`` on all its views), and the peak memory of each,
after warm-up. Then it checks the ratio targets of issue 5, section 3.

Usage::

    python tools/analysis/benchmark.py                       # CPU, small input
    python tools/analysis/benchmark.py --device cuda --input-size 224 \
        --batch 8 --out docs/benchmark.md
    python tools/analysis/benchmark.py --models kinet_cache kinet_noaux tsn

Every (model, phase) pair runs in a fresh child process (forked on CPU, after
the libraries are imported once; spawned on CUDA), so that the memory one
leaves behind does not hide another's peak (``--no-isolate`` runs them in this
process, for tests). Peak memory is the increase over the memory held just
before the phase (built model and inputs): on CUDA
``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; on CPU
the peak resident set size (``getrusage(RUSAGE_SELF).ru_maxrss``, whose
high-water mark is reset through ``/proc/self/clear_refs`` before the phase)
minus the resident size then.

CPU defaults: one torch thread and CPU time of the measuring process
(``--clock process``), because on a shared CPU intra-op threads that wait for
each other at every operator, and other users' load, make wall times erratic;
and a batch of 6 videos (18 frames for the 3-segment models), because with
one thread PyTorch sends unstrided 1x1 convolutions of fewer than 16 images to
its THNN fallback (``slow_conv2d``) instead of oneDNN, whose backward is several
times slower on the wide, low-resolution 1x1 convolutions KINet has many of.

Inputs are random uint8 frames shaped as each config's pipelines would give
them (``SampleFrames``, ``TenCrop``/``ThreeCrop``/``CenterCrop``,
``FormatShape``); crops of 224 become ``--input-size``, other crop sizes are
scaled in proportion (I3D's ThreeCrop of 256). Every ``pretrained`` and teacher
``checkpoint`` is set to None: weights are random, which does not change the
arithmetic.
"""
import argparse
import json
import logging
import multiprocessing as mp
import os
import os.path as osp
import platform
import re
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path
from torch import Tensor

REPO_ROOT = Path(__file__).resolve().parents[2]
KINET_CONFIG = str(REPO_ROOT / 'configs' / 'kinet' /
                   'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py')
TSN_CONFIG = ('mmaction::recognition/tsn/'
              'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
TSM_CONFIG = ('mmaction::recognition/tsm/'
              'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py')
I3D_CONFIG = ('mmaction::recognition/i3d/'
              'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py')

#: Crop transforms of test pipelines and the number of views each makes.
CROP_VIEWS = dict(TenCrop=10, ThreeCrop=3, CenterCrop=1)
#: Backbones whose ``pretrained2d`` defaults to True.
PRETRAINED2D_BACKBONES = ('ResNetTSM', )
#: The crop size the ``--input-size`` stands for.
REFERENCE_CROP = 224
MIB = 2.0**20
LOGGER_NAME = 'kinet_benchmark'

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
            ``'cache'`` (``pseudo_label_source='cache'``, synthetic cached
            labels in the data samples), ``'noaux'`` (no human/scene heads, no
            teachers) or ``'deploy'`` (:func:`kinet_mm.deploy.deploy_config`).
        compare_no_window (bool): Test jobs of an ``AKGHead`` model: time the
            head's ``window_size`` and ``window_size=None`` alternately on the
            same model and input (target b). Defaults to False.
    """
    name: str
    label: str
    config: object
    phase: str
    variant: str = 'plain'
    compare_no_window: bool = False


def default_jobs(kinet: object = KINET_CONFIG,
                 tsn: object = TSN_CONFIG,
                 tsm: object = TSM_CONFIG,
                 i3d: object = I3D_CONFIG) -> List[Job]:
    """The jobs of the issue's benchmark, in run order."""
    return [
        Job('kinet_online', 'KINet-R50 full, online teachers', kinet, 'train',
            'online'),
        Job('kinet_cache', 'KINet-R50 full, pseudo-label cache', kinet, 'train',
            'cache'),
        Job('kinet_noaux', 'KINet-R50, auxiliary losses off', kinet, 'train',
            'noaux'),
        Job('kinet_deploy', 'KINet-R50 deploy', kinet, 'test', 'deploy',
            compare_no_window=True),
        Job('tsn', 'TSN-R50', tsn, 'train'),
        Job('tsn', 'TSN-R50', tsn, 'test'),
        Job('tsm', 'TSM-R50', tsm, 'train'),
        Job('tsm', 'TSM-R50', tsm, 'test'),
        Job('i3d', 'I3D-R50', i3d, 'train'),
        Job('i3d', 'I3D-R50', i3d, 'test'),
    ]


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
    """Settings shared by every job of a run."""
    device: str = 'cpu'
    batch: int = 6
    input_size: int = 64
    warmup: int = 1
    repeats: int = 5
    test_repeats: int = 3
    threads: Optional[int] = 1
    clock: str = 'process'
    seed: int = 0


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
    """Set every ``pretrained`` and ``checkpoint`` to None, in place.

    Backbones that would then load 2D weights into their ``pretrained`` path
    (``pretrained2d``, default in ``ResNetTSM``) are told not to. Relative
    teacher ``config`` paths are resolved against the repository, so the
    benchmark runs from any directory.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('pretrained', 'checkpoint') and isinstance(value, str):
                node[key] = None
                if key == 'pretrained' and ('pretrained2d' in node or node.get(
                        'type') in PRETRAINED2D_BACKBONES):
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


def prepare_config(config: object, variant: str) -> Config:
    """Load ``config`` offline and apply ``variant`` (see :class:`Job`)."""
    cfg = load_config(config)
    make_offline(cfg.model)
    if variant == 'cache':
        cfg.model.pseudo_label_source = 'cache'
    elif variant == 'noaux':
        for key in ('human_head', 'scene_head', 'teachers'):
            cfg.model[key] = None
    elif variant == 'deploy':
        from kinet_mm.deploy import deploy_config
        cfg = deploy_config(cfg)
    elif variant not in ('plain', 'online'):
        raise ValueError(f'unknown variant {variant!r}')
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
# Synthetic inputs shaped by the pipelines
# ---------------------------------------------------------------------------


@dataclass
class ClipShape:
    """What a pipeline makes of one video.

    Attributes:
        num_clips (int): Clips (segments) sampled.
        clip_len (int): Frames per clip.
        num_crops (int): Spatial views per clip.
        size (int): Side of the (square) crops.
        input_format (str): ``'NCHW'`` or ``'NCTHW'``.
    """
    num_clips: int
    clip_len: int
    num_crops: int
    size: int
    input_format: str

    @property
    def num_frames(self) -> int:
        return self.num_clips * self.clip_len * self.num_crops

    @property
    def sample_shape(self) -> Tuple[int, ...]:
        """Shape of one packed sample (``PackActionInputs``' ``inputs``)."""
        if self.input_format == 'NCTHW':
            return (self.num_clips * self.num_crops, 3, self.clip_len,
                    self.size, self.size)
        return (self.num_frames, 3, self.size, self.size)

    @property
    def num_views(self) -> int:
        """Independent views the recognizer scores (crops, clips of 3D)."""
        if self.input_format == 'NCTHW':
            return self.num_clips * self.num_crops
        return self.num_crops

    def describe(self) -> str:
        views = f'{self.num_clips}x{self.num_crops}'
        if self.clip_len > 1:
            views = f'{self.num_clips}x{self.clip_len}fx{self.num_crops}'
        return f'{views} @{self.size}'


def clip_shape(pipeline: Sequence[dict], input_size: int,
               test: bool) -> ClipShape:
    """Read clips, frames, crops and format from a pipeline.

    Args:
        pipeline (Sequence[dict]): A train or test pipeline.
        input_size (int): Side that a 224 crop becomes.
        test (bool): Whether multi-crop transforms make views.

    Returns:
        ClipShape: The shape of one video.
    """
    types = {step['type']: step for step in pipeline}
    sampler = next((step for step in pipeline if 'num_clips' in step), None)
    if sampler is None:
        raise ValueError('the pipeline has no frame sampler with num_clips')
    crop = next((step for step in pipeline if step['type'] in CROP_VIEWS), None)
    num_crops, size = 1, input_size
    if test and crop is not None:
        num_crops = CROP_VIEWS[crop['type']]
        size = round(crop.get('crop_size', REFERENCE_CROP) * input_size /
                     REFERENCE_CROP)
    input_format = types.get('FormatShape', {}).get('input_format', 'NCHW')
    return ClipShape(sampler['num_clips'], sampler.get('clip_len', 1),
                     num_crops, size, input_format)


def synthetic_cached_labels(sample, num_frames: int, mask_size: int,
                            num_scene_classes: int, topk: int = 5):
    """Add the fields ``PackKINetInputs`` packs from a pseudo-label cache."""
    sample.pseudo_human_mask = torch.randint(
        0, 2, (num_frames, mask_size, mask_size), dtype=torch.uint8)
    sample.pseudo_scene_idx = torch.stack([
        torch.randperm(num_scene_classes)[:topk] for _ in range(num_frames)])
    sample.pseudo_scene_prob = torch.full((num_frames, topk), 1.0 / topk)
    return sample


def make_batch(cfg: Config, shape: ClipShape, batch: int,
               device: str) -> Dict[str, list]:
    """A batch as the dataloader gives it: uint8 inputs and data samples.

    Cache-mode KINet samples carry synthetic cached pseudo labels. The tensors
    are put on ``device`` beforehand, so that timings hold no input copy.
    """
    from mmaction.structures import ActionDataSample
    num_classes = cfg.model.cls_head.get('num_classes', 2)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, shape.sample_shape,
                                    dtype=torch.uint8, device=device))
        sample = ActionDataSample().set_gt_label(
            torch.randint(0, num_classes, (1, )))
        if cfg.model.get('pseudo_label_source') == 'cache':
            scene = cfg.model.get('scene_head') or {}
            mask = shape.size // cfg.model.get('human_mask_stride', 8)
            synthetic_cached_labels(sample, shape.num_clips * shape.clip_len,
                                    mask, scene.get('num_classes', 365))
        samples.append(sample.to(device))
    return dict(inputs=inputs, data_samples=samples)


# ---------------------------------------------------------------------------
# Parameters and FLOPs (MMEngine's analysis tools)
# ---------------------------------------------------------------------------


def count_params(model: nn.Module) -> Dict[str, int]:
    """Student and teacher parameters, with ``mmengine.analysis``.

    Returns:
        dict: ``params`` (everything but ``teachers``) and ``teacher_params``.
    """
    counts = parameter_count(model)
    teachers = counts.get('teachers', 0)
    return dict(params=counts[''] - teachers, teacher_params=teachers)


class _LossForward(nn.Module):
    """``model(inputs, data_samples, mode='loss')`` as a traceable module."""

    def __init__(self, model: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        losses = self.model(inputs, self.data_samples, mode='loss')
        return tuple(v for v in losses.values() if isinstance(v, Tensor))


class _PredictForward(_LossForward):
    """``model(inputs, data_samples, mode='predict')``, returning the scores."""

    def forward(self, inputs: Tensor) -> Tensor:
        samples = self.model(inputs, self.data_samples, mode='predict')
        return torch.stack([sample.pred_score for sample in samples])


def forward_flops(wrapper: nn.Module,
                  inputs: Union[Tensor, Tuple[Tensor, ...]]) -> Dict[str, int]:
    """Forward FLOPs of ``wrapper(*inputs)`` split into student and teachers.

    MMEngine (fvcore) counts one FLOP per multiply-add of convolutions, matrix
    products, normalisations, upsampling and pooling; element-wise ops are not
    counted.
    """
    inputs = inputs if isinstance(inputs, tuple) else (inputs, )
    analyzer = FlopAnalyzer(wrapper, inputs)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    total = analyzer.total()
    teachers = analyzer.by_module().get('model.teachers', 0)
    return dict(flops=total - teachers, teacher_flops=teachers)


def train_flops(model: nn.Module, batch: Dict[str, list]) -> Dict[str, int]:
    """Forward FLOPs of a training step (loss mode, teachers included)."""
    data = model.data_preprocessor(batch, True)
    with torch.no_grad():
        return forward_flops(_LossForward(model, data['data_samples']),
                             data['inputs'])


def test_flops(model: nn.Module, batch: Dict[str, list]) -> Dict[str, int]:
    """FLOPs of the test protocol: ``predict`` on every view of the batch.

    The whole video is traced (not one view times the views): heads such as
    TSN's average all views before their classifier.
    """
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        return forward_flops(_PredictForward(model, data['data_samples']),
                             data['inputs'])


# ---------------------------------------------------------------------------
# Timing and memory
# ---------------------------------------------------------------------------


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


CLOCKS = dict(wall=time.perf_counter, process=time.process_time)
CLOCK_NAMES = dict(wall='wall-clock times',
                   process='CPU times of the measuring process')


def time_interleaved(calls: Dict[str, Callable[[], object]],
                     warmup: int,
                     repeats: int,
                     device: str,
                     clock: str = 'wall') -> Dict[str, List[float]]:
    """Seconds per call of each function, after warm-up.

    With several functions the runs alternate, in an order reversed every
    other round (a, b, b, a, a, b, ...), so that a slow spell or a drift of a
    shared machine hits all of them alike.

    Args:
        calls (dict): Functions without arguments, by name.
        warmup (int): Untimed rounds first.
        repeats (int): Timed rounds.
        device (str): Synchronised around each call when CUDA.
        clock (str): ``'wall'`` (``time.perf_counter``) or ``'process'``
            (``time.process_time``: CPU time of this process, which other
            users of a shared CPU barely change). Defaults to ``'wall'``.

    Returns:
        dict: The ``repeats`` durations of each function.
    """
    timer = CLOCKS[clock]
    for _ in range(warmup):
        for call in calls.values():
            call()
    times = {name: [] for name in calls}
    for round_index in range(repeats):
        order = list(calls.items())
        for name, call in order[::-1] if round_index % 2 else order:
            synchronize(device)
            start = timer()
            call()
            synchronize(device)
            times[name].append(timer() - start)
    return times


def _rss_bytes() -> int:
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _reset_peak_rss() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')  # resets the peak RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


class PeakMemory:
    """Peak memory of a block above what was held when it started.

    On CUDA: ``max_memory_allocated`` after ``reset_peak_memory_stats``. On
    CPU: ``ru_maxrss`` minus the resident size at the start; the peak is reset
    through ``/proc/self/clear_refs`` first (where that fails, an earlier and
    higher peak of the process would stand in for the block's, and ``method``
    says so).
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self.cuda = device.startswith('cuda')
        self.peak_bytes = 0
        self.method = ''

    def __enter__(self) -> 'PeakMemory':
        if self.cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            self.method = 'cuda max_memory_allocated'
        else:
            reset = _reset_peak_rss()
            self._start = _rss_bytes()
            self.method = 'ru_maxrss' + ('' if reset else ' (not reset)')
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak_bytes = max(0, peak - self._start)


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
    result = dict(name=job.name, label=job.label, phase=job.phase,
                  variant=job.variant, device=settings.device)
    result.update(runner(model, cfg, job, settings))
    result.update(count_params(model))
    return result


def _setup(settings: Settings) -> None:
    import_libraries()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)


def _median_ms(times: List[float]) -> Dict:
    ms = [1000 * t for t in times]
    return dict(median_ms=statistics.median(ms), min_ms=min(ms),
                max_ms=max(ms), times_ms=ms)


def _train_setup(model: nn.Module, cfg: Config,
                 settings: Settings) -> Tuple[Dict, object, ClipShape]:
    """Batch, optimizer wrapper (the config's own) and clip shape of a step."""
    shape = clip_shape(cfg.train_dataloader.dataset.pipeline,
                       settings.input_size, test=False)
    batch = make_batch(cfg, shape, settings.batch, settings.device)
    model.train()
    return batch, build_optim_wrapper(model, cfg.optim_wrapper), shape


def _run_train(model: nn.Module, cfg: Config, job: Job,
               settings: Settings) -> Dict:
    """Peak memory of warm-up plus one step (optimizer state included)."""
    batch, optim_wrapper, shape = _train_setup(model, cfg, settings)
    with PeakMemory(settings.device) as memory:
        for _ in range(settings.warmup + 1):
            model.train_step(batch, optim_wrapper)
    result = dict(peak_bytes=memory.peak_bytes, memory_method=memory.method,
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
        setups[job_key(job)] = (model, ) + _train_setup(model, cfg,
                                                       settings)[:2]
    calls = {key: partial(model.train_step, batch, optim_wrapper)
             for key, (model, batch, optim_wrapper) in setups.items()}
    times = time_interleaved(calls, settings.warmup, settings.repeats,
                             settings.device, settings.clock)
    return {
        key: dict(_median_ms(times[key]),
                  optimizer_ms=_optimizer_ms(*setups[key], settings))
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
    times = time_interleaved(dict(step=optim_wrapper.step), settings.warmup,
                             settings.repeats, settings.device, settings.clock)
    optim_wrapper.zero_grad()
    return statistics.median(times['step']) * 1000


def _run_test(model: nn.Module, cfg: Config, job: Job,
              settings: Settings) -> Dict:
    shape = clip_shape(cfg.test_dataloader.dataset.pipeline,
                       settings.input_size, test=True)
    batch = make_batch(cfg, shape, 1, settings.device)
    model.eval()
    calls = dict(test=lambda: model.test_step(batch))
    if job.compare_no_window:
        calls = dict(test=_with_window(model, model.cls_head.window_size,
                                       model.test_step, batch),
                     no_window=_with_window(model, None, model.test_step,
                                            batch))
    with PeakMemory(settings.device) as memory, torch.no_grad():
        times = time_interleaved(calls, settings.warmup,
                                 settings.test_repeats, settings.device,
                                 settings.clock)
    result = dict(_median_ms(times['test']), peak_bytes=memory.peak_bytes,
                  memory_method=memory.method, input=shape.describe())
    result.update(test_flops(model, batch))
    if job.compare_no_window:
        result.update(_window_comparison(model, batch, times, settings))
        heads = result['head_flops']
        result['no_window']['flops'] = (result['flops'] - heads['window'] +
                                        heads['no_window'])
    return result


def _with_window(model: nn.Module, window: Optional[int], function: Callable,
                 *args, **kwargs) -> Callable[[], object]:
    """``function(...)`` with the head's ``window_size`` set to ``window``."""

    def call():
        original = model.cls_head.window_size
        model.cls_head.window_size = window
        try:
            return function(*args, **kwargs)
        finally:
            model.cls_head.window_size = original

    return call


def _window_comparison(model: nn.Module, batch: Dict,
                       times: Dict[str, List[float]],
                       settings: Settings) -> Dict:
    """Target b: sliding windows against one graph per view, same frames.

    Besides the paired ratio of the full predictions, the head (the only part
    that differs: the backbone runs once per frame either way) is timed alone
    on the same backbone maps, many times, which gives the ratio with far less
    noise than whole 250-frame runs. The FLOPs without windows are the full
    count with the head's share replaced.
    """
    head, window = model.cls_head, model.cls_head.window_size
    paired = [a / b for a, b in zip(times['test'], times['no_window'])]
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        maps, kwargs = model.extract_feat(data['inputs'], test_mode=True)
        maps = maps if isinstance(maps, tuple) else (maps, )
        head_forward = _HeadForward(head, kwargs)
        head_times = time_interleaved(
            dict(window=_with_window(model, window, head_forward, *maps),
                 no_window=_with_window(model, None, head_forward, *maps)),
            settings.warmup, max(settings.repeats, 10), settings.device,
            settings.clock)
        head_flops = {
            name: _with_window(model, size, forward_flops, head_forward,
                               maps)()['flops']
            for name, size in (('window', window), ('no_window', None))
        }
    return dict(
        window_size=window,
        window_ratio=statistics.median(paired),
        window_ratios=paired,
        head_flops=head_flops,
        no_window=_median_ms(times['no_window']),
        head_ms=statistics.median(head_times['window']) * 1000,
        head_ms_no_window=statistics.median(head_times['no_window']) * 1000)


class _HeadForward(nn.Module):
    """The classification head on given backbone maps, for timing and FLOPs."""

    def __init__(self, head: nn.Module, kwargs: Dict) -> None:
        super().__init__()
        self.head = head
        self.kwargs = kwargs

    def forward(self, *maps: Tensor) -> Tensor:
        fuses = getattr(self.head, 'fuses_branches', False)
        return self.head(maps if fuses else maps[0], **self.kwargs)


# ---------------------------------------------------------------------------
# Running jobs in fresh processes
# ---------------------------------------------------------------------------


def job_key(job: Job) -> str:
    return f'{job.name}:{job.phase}'


def run_isolated(function: Callable, *args, device: str = 'cpu') -> object:
    """``function(*args)`` in a fresh child process; its return value.

    On CPU the child is forked from this process, whose libraries are already
    imported (importing MMAction2, MMSeg and MMPretrain takes longer than most
    measurements); CUDA needs a spawned one. An exception in the child, or
    its death (e.g. out of memory), raises :class:`ChildProcessError`.
    """
    context = mp.get_context('spawn' if device.startswith('cuda') else 'fork')
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, args, sender))
    process.start()
    sender.close()
    try:
        ok, value = receiver.recv()
    except EOFError:
        ok, value = False, 'the child process died'
    process.join()
    if not ok:
        raise ChildProcessError(f'{value} (exit code {process.exitcode})')
    return value


def _child(function: Callable, args: tuple, sender) -> None:
    try:
        sender.send((True, function(*args)))
    except Exception as err:  # noqa: BLE001  (sent to the parent)
        MMLogger.get_instance(LOGGER_NAME).exception('measurement failed')
        sender.send((False, f'{type(err).__name__}: {err}'))
    sender.close()


def run_guarded(function: Callable, *args, isolate: bool = True,
                device: str = 'cpu') -> Tuple[bool, object]:
    """``(True, function(*args))``, or ``(False, error message)``."""
    try:
        if isolate:
            return True, run_isolated(function, *args, device=device)
        return True, function(*args)
    except Exception as err:  # noqa: BLE001  (reported in the table)
        return False, f'{type(err).__name__}: {err}'


def _failed(job: Job, error: str) -> Dict:
    return dict(name=job.name, label=job.label, phase=job.phase,
                variant=job.variant, error=error)


def run_jobs(jobs: Sequence[Job], settings: Settings,
             isolate: bool = True) -> List[Dict]:
    """Run every job, then time all training steps together; log progress.

    A failing job is recorded in its result's ``error``, not raised.
    """
    logger = MMLogger.get_instance(LOGGER_NAME)
    results = []
    for index, job in enumerate(jobs, 1):
        logger.info(f'[{index}/{len(jobs)}] {job.label} ({job.phase})')
        start = time.perf_counter()
        ok, result = run_guarded(run_job, job, settings, isolate=isolate,
                                 device=settings.device)
        results.append(result if ok else _failed(job, result))
        logger.info(f'[{index}/{len(jobs)}] done in '
                    f'{time.perf_counter() - start:.0f} s: '
                    f'{_summary(results[-1])}')
    _add_train_times(results, jobs, settings, isolate)
    return results


def _add_train_times(results: List[Dict], jobs: Sequence[Job],
                     settings: Settings, isolate: bool) -> None:
    train = [job for job, result in zip(jobs, results)
             if job.phase == 'train' and 'error' not in result]
    if not train:
        return
    logger = MMLogger.get_instance(LOGGER_NAME)
    logger.info(f'timing the training steps of {len(train)} models, '
                'interleaved in one process')
    start = time.perf_counter()
    ok, times = run_guarded(time_train_steps, train, settings, isolate=isolate,
                            device=settings.device)
    logger.info(f'done in {time.perf_counter() - start:.0f} s')
    for result in results:
        key = f'{result["name"]}:{result["phase"]}'
        if result['phase'] == 'train' and 'error' not in result:
            result.update(times[key] if ok else dict(error=times))


def _summary(result: Dict) -> str:
    if 'error' in result:
        return f'FAILED ({result["error"]})'
    timing = (f'median {result["median_ms"]:.0f} ms, '
              if 'median_ms' in result else '')
    return (f'{timing}{result["flops"] / 1e9:.1f} GFLOPs, '
            f'peak +{result["peak_bytes"] / MIB:.0f} MiB')


# ---------------------------------------------------------------------------
# Pseudo-label extraction statistics (target d)
# ---------------------------------------------------------------------------

_LOG_FPS = re.compile(r'\((\d+) frames, ([\d.]+) frames/s over (\d+) process')
#: ``docs/pseudo_labels.md``: the throughput sentence and the "all" size row.
_DOC_PATTERNS = dict(
    fps=re.compile(r'Throughput:\s*([\d.]+)\s*frames/s'),
    bytes_per_frame=re.compile(r'^\|\s*all\s*\|.*\*\*([\d.]+)\*\*\s*\|\s*$',
                               re.M))


def extraction_stats(log: Optional[str] = None,
                     cache: Optional[str] = None,
                     doc: Optional[str] = None) -> Dict:
    """Frames/s and bytes/frame of ``tools/extract_pseudo_labels.py``.

    Args:
        log (str, optional): A log of the tool: its last ``frames/s`` line.
        cache (str, optional): A cache it wrote: ``.npz`` bytes over stored
            frames.
        doc (str, optional): ``docs/pseudo_labels.md``, read for what ``log``
            and ``cache`` leave unknown (its "Throughput" sentence and the
            "all" row of its size table).

    Returns:
        dict: ``fps`` and ``bytes_per_frame`` (None when unknown), and
        ``sources``, where each value was read.
    """
    stats = dict(fps=None, bytes_per_frame=None, sources={})
    if log and osp.isfile(log):
        matches = _LOG_FPS.findall(Path(log).read_text())
        if matches:
            stats['fps'] = float(matches[-1][1])
            stats['sources']['fps'] = log
    if cache and osp.isdir(cache):
        stats['bytes_per_frame'] = _cache_bytes_per_frame(cache)
        if stats['bytes_per_frame'] is not None:
            stats['sources']['bytes_per_frame'] = cache
    if doc and osp.isfile(doc):
        text = Path(doc).read_text()
        for key, pattern in _DOC_PATTERNS.items():
            match = pattern.search(text) if stats[key] is None else None
            if match:
                stats[key] = float(match.group(1))
                line = text[:match.start()].count('\n') + 1
                stats['sources'][key] = f'{osp.relpath(doc, REPO_ROOT)}:{line}'
    return stats


def _cache_bytes_per_frame(cache: str) -> Optional[float]:
    import numpy as np
    entries = list(Path(cache).glob('*.npz'))
    frames = sum(len(np.load(entry)['frame_inds']) for entry in entries)
    size = sum(entry.stat().st_size for entry in entries)
    return size / frames if frames else None


# ---------------------------------------------------------------------------
# Tables and targets
# ---------------------------------------------------------------------------

TABLE_COLUMNS = ('model', 'phase', 'input', 'params (M)',
                 'teacher params (M)', 'GFLOPs', 'teacher GFLOPs',
                 'median ms', 'min-max ms', 'optimizer ms', 'peak mem (MiB)')
TARGET_COLUMNS = ('target', 'measured', 'limit', 'result')


def _fmt(value: Optional[float], digits: int = 1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def _nonzero(value: float, scale: float, digits: int) -> str:
    return _fmt(value / scale, digits) if value else '-'


def _row(label: str, phase: str, result: Dict,
         override: Optional[Dict] = None) -> List[str]:
    if 'error' in result:
        return [label, phase, '-', '-', '-', '-', '-',
                f'failed: {result["error"]}', '-', '-', '-']
    result = dict(result, **(override or {}))
    return [
        label, phase, result['input'],
        _fmt(result['params'] / 1e6, 2),
        _nonzero(result['teacher_params'], 1e6, 2),
        _fmt(result['flops'] / 1e9),
        _nonzero(result['teacher_flops'], 1e9, 1),
        _fmt(result['median_ms'], 0),
        f'{result["min_ms"]:.0f}-{result["max_ms"]:.0f}',
        _fmt(result.get('optimizer_ms'), 0),
        _fmt(result['peak_bytes'] / MIB, 0),
    ]


def results_table(results: Sequence[Dict], batch: int) -> List[List[str]]:
    """One row per measurement (``TABLE_COLUMNS``)."""
    rows = []
    for result in results:
        phase = (f'train step (batch {batch})' if result['phase'] == 'train'
                 else 'test, 1 video')
        rows.append(_row(result['label'], phase, result))
        if 'no_window' in result:
            rows.append(_row(f'{result["label"]}, window_size=None',
                             phase, result, result['no_window']))
    return rows


def step_flops(result: Dict) -> float:
    """Arithmetic of a training step: 3 x trainable forward + teacher forward.

    The backward pass costs about twice the forward of what it trains; frozen
    teachers only run forward.
    """
    return 3 * result['flops'] + result['teacher_flops']


def _by_key(results: Sequence[Dict]) -> Dict[str, Dict]:
    return {f'{r["name"]}:{r["phase"]}': r for r in results if 'error' not in r}


def _verdict(value: float, limit: float) -> str:
    return 'PASS' if value <= limit else 'MISS'


def target_rows(results: Sequence[Dict],
                extraction: Optional[Dict] = None) -> List[List[str]]:
    """The ratio targets of issue 5 (``TARGET_COLUMNS``); unmeasured ones say so."""
    found = _by_key(results)
    rows = []
    tsn = found.get('tsn:train')
    for name, what in (('kinet_online', 'online teachers'),
                       ('kinet_cache', 'pseudo-label cache'),
                       ('kinet_noaux', 'aux losses off')):
        kinet = found.get(f'{name}:train')
        title = f'(a) KINet ({what}) / TSN train-step time <= 1.1 x FLOPs ratio'
        if kinet is None or tsn is None:
            rows.append([title, 'not measured', '-', '-'])
            continue
        time_ratio = kinet['median_ms'] / tsn['median_ms']
        flops_ratio = step_flops(kinet) / step_flops(tsn)
        rows.append([title, f'{time_ratio:.3f} ({_compute_ratio(kinet, tsn)})',
                     f'1.1 x {flops_ratio:.3f} = {1.1 * flops_ratio:.3f}',
                     _verdict(time_ratio, 1.1 * flops_ratio)])
    deploy = found.get('kinet_deploy:test')
    title = ('(b) 23 sliding windows / one forward over the same 250 frames '
             '<= 1.05')
    if deploy is None or 'window_ratio' not in deploy:
        rows.append([title, 'not measured', '1.05', '-'])
    else:
        rows.extend(_window_rows(title, deploy))
    noaux = found.get('kinet_noaux:train')
    for name, what, limit in (('kinet_cache', 'cache', 1.05),
                              ('kinet_online', 'online teachers', None)):
        kinet = found.get(f'{name}:train')
        title = f'(c) train step with {what} / aux losses off' + (
            f' <= {limit}' if limit else ' (reported)')
        if kinet is None or noaux is None:
            rows.append([title, 'not measured', _fmt(limit, 2), '-'])
            continue
        ratio = kinet['median_ms'] / noaux['median_ms']
        flops = step_flops(kinet) / step_flops(noaux)
        rows.append([title, f'{ratio:.3f} (FLOPs {flops:.3f}; '
                     f'{_compute_ratio(kinet, noaux)})',
                     _fmt(limit, 2),
                     _verdict(ratio, limit) if limit else 'reported'])
    rows.extend(_extraction_rows(extraction or {}))
    return rows


def _compute_ratio(result: Dict, reference: Dict, digits: int = 3) -> str:
    """The time ratio without the optimizer steps, which scale with params."""
    ratio = ((result['median_ms'] - result['optimizer_ms']) /
             (reference['median_ms'] - reference['optimizer_ms']))
    return f'without the optimizer step: {ratio:.{digits}f}'


def _window_rows(title: str, deploy: Dict) -> List[List[str]]:
    """Target b, and the whole-protocol paired runs as a cross-check.

    Both settings run the identical backbone on the identical frames (once per
    frame); only the head differs. The ratio is therefore taken from the
    measured protocol time with the head's share swapped for the one-graph
    head's, both heads timed many times on the same maps. Whole 250-frame runs
    differ by more than 5% from run to run on a shared CPU, so their paired
    ratio is shown as a cross-check only.
    """
    head_extra = deploy['head_ms'] - deploy['head_ms_no_window']
    ratio = deploy['median_ms'] / (deploy['median_ms'] - head_extra)
    flops = deploy['flops'] / deploy['no_window']['flops']
    pairs = deploy['window_ratios']
    return [
        [title, f'{ratio:.4f} (head {deploy["head_ms"]:.1f} vs '
         f'{deploy["head_ms_no_window"]:.1f} ms per video; FLOPs '
         f'{flops:.4f})', '1.05', _verdict(ratio, 1.05)],
        ['(b) cross-check: whole-protocol runs, paired median '
         f'(range {min(pairs):.3f}-{max(pairs):.3f})',
         f'{deploy["window_ratio"]:.3f}', '-', 'reported'],
    ]


def _extraction_rows(stats: Dict) -> List[List[str]]:
    rows = []
    for key, title, digits in (('fps', 'pseudo-label extraction frames/s', 1),
                               ('bytes_per_frame',
                                'pseudo-label cache bytes/frame', 0)):
        value = stats.get(key)
        if value is None:
            measured = ('not available (no --extract-log / '
                        '--pseudo-label-cache, nothing in docs/pseudo_labels.md)')
        else:
            measured = f'{value:.{digits}f} (from {stats["sources"][key]})'
        rows.append([f'(d) {title}', measured, '-', 'reported'])
    return rows


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + '|'.join(' --- ' for _ in columns) + '|']
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows]
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

BEGIN_MARK = '<!-- benchmark:begin (written by tools/analysis/benchmark.py) -->'
END_MARK = '<!-- benchmark:end -->'


def machine_info(device: str) -> str:
    """CPU, GPU and library versions, one line."""
    import mmaction
    import mmengine
    cpu = platform.processor() or platform.machine()
    if osp.exists('/proc/cpuinfo'):
        names = re.findall(r'model name\s*:\s*(.+)', Path('/proc/cpuinfo').read_text())
        cpu = names[0] if names else cpu
    parts = [f'{cpu}, {os.cpu_count()} logical CPUs']
    if device.startswith('cuda'):
        parts.append(torch.cuda.get_device_name(device))
    parts.append(f'Python {platform.python_version()}, torch {torch.__version__}, '
                 f'mmengine {mmengine.__version__}, mmaction2 {mmaction.__version__}')
    return '; '.join(parts)


def render_report(record: Dict) -> str:
    """The generated Markdown section of a run (see :func:`measure`)."""
    settings = Settings(**record['settings'])
    results = record['results']
    methods = sorted({r['memory_method'] for r in results if 'memory_method' in r})
    threads = settings.threads or 'default'
    return '\n'.join([
        BEGIN_MARK,
        f'Generated {record["time"]} by:',
        '',
        '```shell',
        record['command'],
        '```',
        '',
        f'Machine: {record["machine"]}.',
        '',
        f'Settings: device `{settings.device}`, batch {settings.batch}, '
        f'input size {settings.input_size}, warm-up {settings.warmup}, '
        f'{settings.repeats} timed training steps, {settings.test_repeats} '
        f'timed test videos, torch threads: {threads}, '
        f'{CLOCK_NAMES[settings.clock]}; peak memory: '
        f'{", ".join(methods) or "-"}.',
        '',
        markdown_table(TABLE_COLUMNS, results_table(results, settings.batch)),
        '',
        markdown_table(TARGET_COLUMNS,
                       target_rows(results, record['extraction'])),
        END_MARK,
    ])


def write_report(path: str, section: str) -> None:
    """Replace the generated section of ``path`` (or create the file)."""
    text = Path(path).read_text() if osp.exists(path) else ''
    if BEGIN_MARK in text and END_MARK in text:
        head, rest = text.split(BEGIN_MARK, 1)
        text = head + section + rest.split(END_MARK, 1)[1]
    else:
        text = (text or '# Benchmarks\n\n') + section + '\n'
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    Path(path).write_text(text)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark KINet against MMAction2 TSN, TSM and I3D.')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda[:i] (default: cuda if available)')
    parser.add_argument('--batch', type=int, default=None,
                        help='videos per training step (CPU 6, CUDA 8)')
    parser.add_argument('--input-size', type=int, default=None,
                        help='side of the 224 crops (CPU 64, CUDA 224)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed runs first (CPU 1, CUDA 3)')
    parser.add_argument('--repeats', type=int, default=None,
                        help='timed training steps (CPU 5, CUDA 20)')
    parser.add_argument('--test-repeats', type=int, default=None,
                        help='timed test videos (CPU 3, CUDA 10)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (CPU 1, CUDA: torch\'s '
                        'default); one thread keeps timings stable on a '
                        'shared CPU')
    parser.add_argument('--clock', choices=list(CLOCKS), default=None,
                        help='wall (time.perf_counter) or process '
                        '(time.process_time, CPU only); default: process on '
                        'CPU, wall on CUDA')
    parser.add_argument('--models', nargs='+', default=None,
                        help='subset: kinet (all KINet jobs), kinet_online, '
                        'kinet_cache, kinet_noaux, kinet_deploy, tsn, tsm, i3d')
    parser.add_argument('--phases', nargs='+', default=['train', 'test'],
                        choices=['train', 'test'])
    parser.add_argument('--no-isolate', action='store_true',
                        help='measure in this process, not one per job')
    parser.add_argument('--extract-log', default=None,
                        help='log of tools/extract_pseudo_labels.py (target d)')
    parser.add_argument('--pseudo-label-cache', default=None,
                        help='a cache the extraction tool wrote (target d)')
    parser.add_argument('--out', default=None,
                        help='Markdown file to write, e.g. docs/benchmark.md')
    parser.add_argument('--json', default=None,
                        help='write the raw record of the run as JSON')
    parser.add_argument('--render', default=None,
                        help='re-render the tables of a --json record '
                        'instead of measuring')
    return parser.parse_args(argv)


def make_settings(args: argparse.Namespace) -> Settings:
    """Fill the device-dependent defaults."""
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cuda = device.startswith('cuda')
    if cuda and args.clock == 'process':
        raise ValueError('--clock process measures CPU time, not GPU work')

    def pick(value, cpu, gpu):
        return value if value is not None else (gpu if cuda else cpu)

    return Settings(
        device=device,
        batch=pick(args.batch, 6, 8),
        input_size=pick(args.input_size, 64, 224),
        warmup=pick(args.warmup, 1, 3),
        repeats=pick(args.repeats, 5, 20),
        test_repeats=pick(args.test_repeats, 3, 10),
        threads=pick(args.threads, 1, None),
        clock=pick(args.clock, 'process', 'wall'))


def measure(args: argparse.Namespace, command: str) -> Dict:
    """Run the selected jobs; the run's record (settings, results, context)."""
    settings = make_settings(args)
    import_libraries()
    jobs = select_jobs(default_jobs(), args.models, args.phases)
    results = run_jobs(jobs, settings, isolate=not args.no_isolate)
    extraction = extraction_stats(
        args.extract_log, args.pseudo_label_cache,
        str(REPO_ROOT / 'docs' / 'pseudo_labels.md'))
    return dict(settings=asdict(settings), results=results,
                extraction=extraction, command=command,
                machine=machine_info(settings.device),
                time=time.strftime('%Y-%m-%d %H:%M %Z'))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    MMLogger.get_instance(LOGGER_NAME, log_level='INFO')
    if args.render:
        with open(args.render) as file:
            record = json.load(file)
    else:
        command = ' '.join(['python tools/analysis/benchmark.py', *(
            sys.argv[1:] if argv is None else argv)])
        record = measure(args, command)
    section = render_report(record)
    print(section)
    if args.out:
        write_report(args.out, section)
    if args.json and not args.render:
        with open(args.json, 'w') as file:
            json.dump(record, file, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
