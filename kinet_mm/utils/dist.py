"""Joining a process group from a tool's ``--launcher``, on CPU hosts too."""
from mmengine.dist import init_dist


def init_launcher(launcher: str, device: str) -> None:
    """Join the process group of ``launcher`` (``none``, ``pytorch``, ``slurm``).

    MMEngine's ``init_dist``: NCCL on CUDA; on CPU-only hosts gloo, from
    torchrun's variables or Slurm's, mapped as MMEngine's slurm launcher maps
    them (:mod:`kinet_mm.compat` shim 4 makes MMEngine's launchers run there).
    """
    if launcher == 'none':
        return
    if launcher not in ('pytorch', 'slurm'):
        raise ValueError(f'unknown launcher {launcher!r}')
    init_dist(launcher, backend='nccl' if device.startswith('cuda') else 'gloo')
