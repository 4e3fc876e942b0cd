"""Joining a process group from a tool's ``--launcher``, on CPU hosts too."""
import os
import subprocess

import torch
from mmengine.dist import init_dist


def init_launcher(launcher: str, device: str) -> None:
    """Join the process group of ``launcher`` (``none``, ``pytorch``, ``slurm``).

    On CUDA this is MMEngine's ``init_dist`` with NCCL. MMEngine's launchers
    pin a CUDA device first, which fails on CPU-only hosts, so there the group
    is created with gloo from the same environment: ``torchrun``'s variables,
    or SLURM's mapped to them as MMEngine's slurm launcher maps them.
    """
    if launcher == 'none':
        return
    if device.startswith('cuda'):
        init_dist(launcher, backend='nccl')
        return
    if launcher == 'slurm':
        env = os.environ
        env.setdefault('RANK', env['SLURM_PROCID'])
        env.setdefault('WORLD_SIZE', env['SLURM_NTASKS'])
        env.setdefault('LOCAL_RANK', env.get('SLURM_LOCALID', '0'))
        env.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in env:
            env['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {env["SLURM_NODELIST"]} | head -n1')
    elif launcher != 'pytorch':
        raise ValueError(f'unknown launcher {launcher!r}')
    torch.distributed.init_process_group(backend='gloo')
