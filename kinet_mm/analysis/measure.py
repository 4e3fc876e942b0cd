"""Measuring models: parameters, FLOPs, time and peak memory, in isolation.

Generic tools for any MMEngine model; :mod:`.benchmark` applies them to the
KINet/MMAction2 comparison.
"""
import multiprocessing as mp
import os
import os.path as osp
import platform
import re
import resource
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.logging import MMLogger
from torch import Tensor

from ..models.teachers import BaseTeacher

LOGGER_NAME = 'kinet_benchmark'


def teacher_modules(model: nn.Module) -> List[str]:
    """Names of the outermost frozen teachers inside ``model``, wherever they
    sit (an online pseudo-labeler, a teacher-feature branch)."""
    names = [
        name for name, module in model.named_modules()
        if isinstance(module, BaseTeacher)
    ]
    return [n for n in names if not any(n.startswith(o + '.') for o in names)]


def count_params(model: nn.Module) -> Dict[str, int]:
    """Student and teacher parameters, with ``mmengine.analysis``.

    Returns:
        dict: ``params`` (everything but the teachers) and ``teacher_params``.
    """
    counts = parameter_count(model)
    teachers = sum(counts.get(name, 0) for name in teacher_modules(model))
    return dict(params=counts[''] - teachers, teacher_params=teachers)


class LossForward(nn.Module):
    """``model(inputs, data_samples, mode='loss')`` as a traceable module."""

    def __init__(self, model: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        losses = self.model(inputs, self.data_samples, mode='loss')
        return tuple(v for v in losses.values() if isinstance(v, Tensor))


class PredictForward(LossForward):
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
    by_module = analyzer.by_module()
    teachers = sum(by_module.get(name, 0) for name in teacher_modules(wrapper))
    return dict(flops=total - teachers, teacher_flops=teachers)


def train_flops(model: nn.Module, batch: Dict[str, list]) -> Dict[str, int]:
    """Forward FLOPs of a training step (loss mode, teachers included)."""
    data = model.data_preprocessor(batch, True)
    with torch.no_grad():
        return forward_flops(LossForward(model, data['data_samples']), data['inputs'])


def test_flops(model: nn.Module, batch: Dict[str, list]) -> Dict[str, int]:
    """FLOPs of the test protocol: ``predict`` on every view of the batch.

    The whole video is traced (not one view times the views): heads such as
    TSN's average all views before their classifier.
    """
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        return forward_flops(
            PredictForward(model, data['data_samples']), data['inputs'])


# ---------------------------------------------------------------------------
# Timing and memory
# ---------------------------------------------------------------------------


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


CLOCKS = dict(wall=time.perf_counter, process=time.process_time)
CLOCK_NAMES = dict(
    wall='wall-clock times', process='CPU times of the measuring process')


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
# Isolation
# ---------------------------------------------------------------------------


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


def run_guarded(function: Callable,
                *args,
                isolate: bool = True,
                device: str = 'cpu') -> Tuple[bool, object]:
    """``(True, function(*args))``, or ``(False, error message)``."""
    try:
        if isolate:
            return True, run_isolated(function, *args, device=device)
        return True, function(*args)
    except Exception as err:  # noqa: BLE001  (reported in the table)
        return False, f'{type(err).__name__}: {err}'


def median_ms(times: List[float]) -> Dict:
    """Median, min, max and all of ``times`` (seconds), in milliseconds."""
    ms = [1000 * t for t in times]
    return dict(
        median_ms=statistics.median(ms), min_ms=min(ms), max_ms=max(ms), times_ms=ms)


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
