"""KINet under DistributedDataParallel, on the CPU with the gloo backend.

1. ``tools/dist_train.sh`` starts 2 ranks on the real clips: both train their
   half of the data and exactly one checkpoint is written.
2. One DDP step of 2 ranks x ``B`` videos gives the gradients of one process
   x ``2B`` videos (BN frozen, dropout off): the losses are means over the local
   batch and DDP averages gradients over ranks, so the two agree. The step runs
   with ``find_unused_parameters=False`` and twice, so a parameter left out of
   the graph (e.g. a teacher that required gradients) fails the second one.
3. ``MAX_RESTARTS=1 tools/dist_train.sh ... --resume``: a rank killed mid-run
   restarts the group, which resumes from the last checkpoint.

See ``docs/distributed.md``.
"""
import os
import re
import socket
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from fixtures import REPO_ROOT, run_command
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.runner import CheckpointLoader
from torch.nn.modules.batchnorm import _BatchNorm

import kinet_mm  # noqa: F401  (shims and registration, also in spawned ranks)

CONFIG = 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py'
WORLD_SIZE = 2
# dist_train.sh run: 4 clips, one per batch, split over 2 ranks.
NUM_CLIPS = 4
ITERS_PER_RANK = NUM_CLIPS // WORLD_SIZE
# Gradient check: B videos per rank of NUM_SEGS frames of SIZE x SIZE.
VIDEOS_PER_RANK = 1
NUM_SEGS = 3
SIZE = 64


def free_port() -> int:
    """A TCP port that is free now, so that parallel runs do not clash."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# -- 1. tools/dist_train.sh on the real clips ---------------------------------


def rank_logs(work_dir: Path) -> Dict[int, str]:
    """The per-rank log files MMEngine writes at log level DEBUG, by rank."""
    logs = {}
    for path in work_dir.glob('*/*.log'):
        match = re.search(r'_rank(\d+)\.log$', path.name)
        if match:
            logs[int(match.group(1))] = path.read_text(errors='replace')
    return logs


def train_iters(log: str) -> List[tuple]:
    """``(iteration, iterations per epoch)`` of each logged training step."""
    found = re.findall(r'Epoch\(train\)\s*\[1\]\[\s*(\d+)/(\d+)\]', log)
    return [(int(i), int(n)) for i, n in found]


@pytest.mark.slow
def test_dist_train_two_ranks_on_real_clips(real_clips, tmp_path):
    work_dir = tmp_path / 'work_dir'
    run_command(
        'bash',
        'tools/dist_train.sh',
        CONFIG,
        WORLD_SIZE,
        '--work-dir',
        work_dir,
        '--seed',
        '0',
        '--no-validate',
        '--cfg-options',
        'train_cfg.max_epochs=1',
        f'train_dataloader.dataset.indices={NUM_CLIPS}',
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'default_hooks.checkpoint.interval=1',
        # DEBUG makes every rank write its own log file.
        'log_level=DEBUG',
        OMP_NUM_THREADS='1',
        PORT=str(free_port()),
        PYTHON=sys.executable,
        KINET_SHARED=str(real_clips.parents[1]))

    logs = rank_logs(work_dir)
    assert sorted(logs) == list(range(WORLD_SIZE)), sorted(logs)
    assert 'Distributed training: True' in logs[0]
    # Each rank trained its own half of the clips: 2 iterations an epoch, not
    # the 4 one process would take.
    expected = [(i + 1, ITERS_PER_RANK) for i in range(ITERS_PER_RANK)]
    for rank, log in logs.items():
        assert train_iters(log) == expected, f'rank {rank}'

    assert sorted(work_dir.rglob('*.pth')) == [work_dir / 'epoch_1.pth']
    checkpoint = CheckpointLoader.load_checkpoint(str(work_dir / 'epoch_1.pth'))
    assert checkpoint['meta']['iter'] == ITERS_PER_RANK
    keys = list(checkpoint['state_dict'])
    assert any(key.startswith('backbone.') for key in keys)
    # Saved unwrapped (no DDP 'module.' prefix) and without the teachers.
    assert not [k for k in keys if k.startswith('module.') or '.teacher.' in k]


# -- 2. DDP gradients == single-process gradients -----------------------------


class GradRecorder(OptimWrapper):
    """An ``OptimWrapper`` (SGD, lr 0) that records the gradients of each step.

    Args:
        model (torch.nn.Module): The unwrapped model; gradients are recorded
            under its parameter names.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names = [name for name, _ in named]
        self.params = [param for _, param in named]
        super().__init__(torch.optim.SGD(self.params, lr=0.0))
        self.history: List[Dict[str, torch.Tensor]] = []

    def step(self, **kwargs) -> None:
        """Record the gradients, then step (lr 0 leaves the weights as they are)."""
        self.history.append({
            name:
            None if param.grad is None else param.grad.detach().clone()
            for name, param in zip(self.names, self.params)
        })
        super().step(**kwargs)


def build_student(weights: Optional[Path] = None) -> torch.nn.Module:
    """The config's KINet (online teachers) with BN frozen and dropout off.

    Args:
        weights (Path, optional): A state dict to load. Defaults to None
            (MMEngine's initialisation, as the Runner does).
    """
    cfg = Config.fromfile(REPO_ROOT / CONFIG).model
    cfg.backbone.backbone.norm_eval = True
    cfg.cls_head.dropout_ratio = 0
    cfg.knowledge.human.head.dropout_ratio = 0
    model = MODELS.build(cfg)
    if weights is None:
        model.init_weights()
    else:
        model.load_state_dict(torch.load(weights, weights_only=True))
    model.train()
    # norm_eval covers the ResNet's stages; the CBI gates have their own BN.
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()
    return model


def synthetic_batch(num_videos: int) -> dict:
    """Deterministic uint8 videos and labels, as a data loader yields them."""
    generator = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(
            0, 256, (NUM_SEGS, 3, SIZE, SIZE), generator=generator, dtype=torch.uint8)
        for _ in range(num_videos)
    ]
    labels = torch.randint(0, 10, (num_videos, ), generator=generator)
    samples = [ActionDataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def rank_slice(batch: dict, rank: int) -> dict:
    """The videos rank ``rank`` gets of the concatenated batch."""
    part = slice(rank * VIDEOS_PER_RANK, (rank + 1) * VIDEOS_PER_RANK)
    return {key: value[part] for key, value in batch.items()}


def losses_of(log_vars: dict) -> Dict[str, float]:
    """The logged values of a train step, as floats."""
    return {key: float(value.detach()) for key, value in log_vars.items()}


def _ddp_worker(rank: int, port: int, batch: dict, weights: Path,
                out_dir: Path) -> None:
    """One gloo rank: two DDP train steps on its slice; saves what it saw."""
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    register_all_modules(init_default_scope=True)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD_SIZE)
    try:
        model = build_student(weights)
        recorder = GradRecorder(model)
        # As the Runner wraps it; kinet_mm.compat drops device_ids on the CPU.
        ddp = MMDistributedDataParallel(
            module=model,
            device_ids=[rank],
            broadcast_buffers=False,
            find_unused_parameters=False)
        local = rank_slice(batch, rank)
        # A second step raises if the first left a parameter without gradient.
        losses = [losses_of(ddp.train_step(local, recorder)) for _ in range(2)]
        teachers = [
            p for task in model.knowledge.values() for p in task.teacher.parameters()
        ]
        torch.save(
            dict(
                grads=recorder.history,
                losses=losses,
                num_teacher_params=len(teachers),
                teacher_requires_grad=any(p.requires_grad for p in teachers),
                teacher_has_grad=any(p.grad is not None for p in teachers)),
            out_dir / f'rank{rank}.pt')
    finally:
        dist.destroy_process_group()


def assert_grads_close(actual: dict, expected: dict, **tolerance) -> None:
    assert actual.keys() == expected.keys()
    for name, grad in expected.items():
        torch.testing.assert_close(
            actual[name], grad, msg=lambda m: f'{name}: {m}', **tolerance)


@pytest.mark.slow
def test_ddp_step_matches_single_process(tmp_path):
    batch = synthetic_batch(WORLD_SIZE * VIDEOS_PER_RANK)
    torch.manual_seed(0)
    model = build_student()
    weights = tmp_path / 'weights.pth'
    torch.save(model.state_dict(), weights)
    reference = GradRecorder(model)
    ref_losses = losses_of(model.train_step(batch, reference))
    ref_grads = reference.history[0]
    assert not [name for name, g in ref_grads.items() if g is None]
    assert all(g.abs().sum() > 0 for n, g in ref_grads.items() if 'fc_cls' in n)

    mp.spawn(
        _ddp_worker, args=(free_port(), batch, weights, tmp_path), nprocs=WORLD_SIZE)
    ranks = [
        torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
        for r in range(WORLD_SIZE)
    ]

    for out in ranks:
        # Teachers: frozen, outside DDP's reduction, never given gradients.
        assert out['num_teacher_params'] > 0
        assert not out['teacher_requires_grad'] and not out['teacher_has_grad']
        first, second = out['grads']
        assert not [name for name, g in first.items() if g is None]
        assert_grads_close(second, first, rtol=0, atol=0)
    # DDP leaves every rank with the same, averaged, gradients...
    assert_grads_close(ranks[1]['grads'][0], ranks[0]['grads'][0], rtol=0, atol=0)
    # ... which are those of the concatenated batch in one process,
    assert_grads_close(ranks[0]['grads'][0], ref_grads, rtol=1e-4, atol=1e-6)
    # and each loss of it is the mean of the ranks' (per-rank batch means).
    for key in [key for key in ref_losses if 'loss' in key]:
        value = ref_losses[key]
        rank_mean = sum(out['losses'][0][key] for out in ranks) / WORLD_SIZE
        assert abs(rank_mean - value) <= 1e-5 * max(1.0, abs(value)), key


# -- 3. torchrun --max-restarts: a killed rank restarts the group -------------


@pytest.mark.slow
def test_dist_train_max_restarts_resumes_after_killed_rank(real_clips, tmp_path):
    """``MAX_RESTARTS=1 dist_train.sh ... --resume``: rank 1 is killed in
    epoch 2 (after epoch 1's checkpoint); torchrun restarts both ranks, which
    resume from ``epoch_1.pth`` and finish. See docs/distributed.md."""
    from fixtures.slurm import write_config
    work_dir = tmp_path / 'work_dir'
    config = write_config(
        tmp_path, kill_rank=1, kill_epoch=2, once_file=str(tmp_path / 'killed_once'))
    log = run_command(
        'bash',
        'tools/dist_train.sh',
        config,
        WORLD_SIZE,
        '--work-dir',
        work_dir,
        '--resume',
        MAX_RESTARTS='1',
        PORT=str(free_port()),
        PYTHON=sys.executable,
        KINET_SHARED=str(real_clips.parents[1]),
        PYTHONPATH=f'{REPO_ROOT / "tests"}{os.pathsep}{REPO_ROOT}')
    assert (tmp_path / 'killed_once').exists()
    assert re.search(r'failed \(exitcode: -9\) local_rank: 1', log)
    assert 'resumed epoch: 1, iter: 2' in log
    assert sorted(p.name
                  for p in work_dir.glob('*.pth')) == ['epoch_1.pth', 'epoch_2.pth']
    checkpoint = CheckpointLoader.load_checkpoint(str(work_dir / 'epoch_2.pth'))
    assert checkpoint['meta']['iter'] == 2 * ITERS_PER_RANK
