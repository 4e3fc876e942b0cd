"""Small, targeted fixes for the pinned OpenMMLab stack: every patch kinet_mm
makes to another package, in one list (:data:`SHIMS`).

Each shim is applied once by :func:`apply_all` (called on ``import kinet_mm``),
changes nothing in site-packages, and has a test in ``tests/test_compat.py`` that
fails without it. Each is **gated** on the versions it was written and tested
for (``Shim.fixes``): with another version installed it is not applied and a
:class:`CompatVersionWarning` names the shim, the version found and what to
check, so a changed pin is noticed instead of patched blindly. The patches made
before kinet_mm is imported, by the start-up hook ``kinet_mm_hook`` (MMEngine's
``kinet_mm::`` prefix, openmim's look-up of an editable kinet_mm and its
``--srun-args`` under click>=8.3), are gated the same way and listed in
:data:`SHIMS` too. ``docs/compat.md`` is the user-facing list.

1. ``mmaction2==1.2.0``'s wheel lacks ``mmaction/models/localizers/drn/``, so
   ``import mmaction.models`` raises ``ModuleNotFoundError``. We install a module
   for that import whose ``DRN`` raises a clear error if anyone builds it.
2. ``mmengine==0.10.7`` calls ``torch.load`` without ``weights_only``; on
   torch>=2.6 that defaults to ``True`` and a Runner checkpoint (numpy arrays,
   ``HistoryBuffer`` objects) is refused. We keep ``weights_only=True`` and
   allow-list exactly the types such a checkpoint holds. ``HistoryBuffer``
   pickles its statistics methods through ``builtins.getattr``; instead of the
   real ``getattr`` (which would let a pickle reach any attribute, and so run
   code) we register a stand-in that only returns those methods.
3. ``DecordInit`` hands decord the video's bytes, not its path, so a corrupt
   file fails with decord's ``Error reading 4096 bytes...``, naming no file.
   We re-raise it as :class:`VideoReadError` with the path.
4. ``mmengine==0.10.7`` assumes one GPU per rank: ``init_dist('pytorch')``
   and ``init_dist('slurm')`` call ``torch.cuda.set_device`` and the Runner
   wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, so multi-process
   training on CPUs fails with "Found no NVIDIA driver". Without an
   accelerator we skip ``set_device`` and create a gloo group (NCCL needs
   CUDA) from the launcher's variables, for ``slurm`` mapped exactly as
   MMEngine maps them (``SLURM_PROCID`` -> ``RANK``, ``SLURM_NTASKS`` ->
   ``WORLD_SIZE``, ``SLURM_LOCALID`` -> ``LOCAL_RANK``, the first host of
   ``scontrol show hostname $SLURM_NODELIST`` -> ``MASTER_ADDR``), and drop
   ``device_ids`` for CPU modules, which is what DDP requires for them. The
   keys of a group restarted by ``torchrun --max-restarts`` get a per-restart
   prefix (:func:`init_cpu_group`). With CUDA, MMEngine's own code runs,
   unchanged.
5. ``mmaction2==1.2.0``'s ``Flip`` negates horizontal flow as in 0.x, where
   ``RawFrameDecode`` returned x and y as separate images (x at even indices):
   it inverts every even *image*. Since open-mmlab/mmaction2#2631 (1.2),
   ``RawFrameDecode`` returns one ``(H, W, 2)`` image ``[x, y]`` per frame,
   so a flipped clip has both components of frames 0, 2, 4... negated and
   neither of frames 1, 3...; a mirrored video's flow is ``(-x, y)`` at
   every frame. For stacked frames we invert channel 0 of every image
   (``255 - x``, i.e. ``-x`` under the ``[-bound, bound] -> [0, 255]`` map of
   MMAction2's flow extraction); the separate images of ``ArrayDecode`` keep
   the original rule. **This changes MMAction2's own behaviour for every flow
   config in the process** (MMAction2's configs too), once kinet_mm is
   imported; ``docs/compat.md`` says so.
6. ``mmengine==0.10.7``: ``Config._get_cfg_path`` and ``MODULE2PACKAGE``
   learn the ``kinet_mm::`` prefix (:mod:`kinet_mm_hook`, also run at start-up).
7. ``openmim==0.3.9``: ``get_installed_path('kinet_mm')`` of an editable
   install (:mod:`kinet_mm_hook`, at start-up only: kinet_mm never imports
   mim).
8. ``openmim==0.3.9``: unset options under click>=8.3 (same).
9-12. ``mmdeploy==1.3.1``: the shims of
   :mod:`kinet_mm.deployment.mmdeploy_compat` (its docstring, docs/deploy.md),
   applied on ``import kinet_mm`` by ``apply_mmdeploy_shims``.
"""
import functools
import os
import subprocess
import sys
import types
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import numpy as np
import torch

from kinet_mm_hook import (MIM_FIXES, PREFIX_FIXES, CompatVersionWarning,
                           register_config_prefix, version_gate)

_DRN_MODULE = 'mmaction.models.localizers.drn'


class _MissingDRN:
    """Placeholder for MMAction2's DRN localizer, absent from the 1.2.0 wheel."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError('mmaction2 1.2.0 was installed from a wheel that lacks '
                          f'{_DRN_MODULE}; DRN is unavailable. Install mmaction2 from '
                          'source to use it.')


def patch_missing_drn() -> None:
    """Make ``import mmaction.models`` work without the DRN sources."""
    if _DRN_MODULE in sys.modules:
        return
    try:
        import mmaction.models.localizers.drn.drn  # noqa: F401
        return
    except ModuleNotFoundError as err:
        if not (err.name or '').startswith(_DRN_MODULE):
            raise
    package = types.ModuleType(_DRN_MODULE)
    package.__path__ = []  # a package, so ``from .drn.drn import DRN`` resolves
    module = types.ModuleType(f'{_DRN_MODULE}.drn')
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[_DRN_MODULE] = package
    sys.modules[module.__name__] = module
    # The real module registers DRN; register the placeholder in its place so
    # that building ``type='DRN'`` gives the error above, not "not found".
    from mmaction.registry import MODELS
    MODELS.register_module(name='DRN', module=_MissingDRN)


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Registered with ``torch.serialization`` under the name ``builtins.getattr``,
    so the weights-only unpickler resolves that global to this function.
    """
    from mmengine.logging import HistoryBuffer

    # Building a buffer registers the default methods (min, max, ...), which a
    # fresh process that loads a checkpoint before logging anything lacks.
    statistics_methods = HistoryBuffer()._statistics_methods
    if obj is HistoryBuffer and name in statistics_methods:
        return getattr(obj, name)
    raise RuntimeError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics methods are allowed.')


def _numpy_checkpoint_globals() -> list:
    """The numpy types a Runner checkpoint pickles (arrays and scalars)."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtype_classes = [
        type(np.dtype(t)) for t in (np.float64, np.float32, np.float16, np.int64,
                                    np.int32, np.int8, np.uint8, np.bool_)
    ]
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes
    ]


def allow_runner_checkpoints() -> None:
    """Allow-list the types of an MMEngine Runner checkpoint for ``torch.load``."""
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        *_numpy_checkpoint_globals(),
        (_history_buffer_getattr, 'builtins.getattr'),
    ])


class VideoReadError(RuntimeError):
    """A video file exists but decord cannot open it."""


def name_unreadable_videos() -> None:
    """Make ``DecordInit`` errors name the video they failed on.

    A missing file already does (``FileNotFoundError`` carries the path); a
    file decord cannot open raises :class:`VideoReadError` with the path.
    """
    from mmaction.datasets.transforms.loading import DecordInit
    get_video_reader = DecordInit._get_video_reader
    if getattr(get_video_reader, '_kinet_mm_names_file', False):
        return

    @functools.wraps(get_video_reader)
    def _get_video_reader(self, filename: str) -> Any:
        try:
            return get_video_reader(self, filename)
        except (FileNotFoundError, ImportError):
            raise
        except Exception as err:
            raise VideoReadError(f'decord cannot read video {filename}: {err}') from err

    _get_video_reader._kinet_mm_names_file = True
    DecordInit._get_video_reader = _get_video_reader


def _accelerated() -> bool:
    from mmengine.device import is_mlu_available, is_musa_available, is_npu_available
    return torch.cuda.is_available() or is_npu_available() or \
        is_mlu_available() or is_musa_available()


def slurm_to_torch_env(port: Optional[int] = None) -> None:
    """Map Slurm's task variables to torch's, as ``mmengine==0.10.7``'s
    ``_init_dist_slurm`` does (``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` are
    overwritten, ``MASTER_ADDR``/``MASTER_PORT`` kept if set)."""
    env = os.environ
    if port is not None:
        env['MASTER_PORT'] = str(port)
    env.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in env:
        env['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {env["SLURM_NODELIST"]} | head -n1')
    env['WORLD_SIZE'] = env['SLURM_NTASKS']
    env['RANK'] = env['SLURM_PROCID']
    # MMEngine falls back to PROCID % GPUs; without GPUs, the task's index on
    # its node is what SLURM_LOCALID says (always set by srun).
    env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')


def init_cpu_group(**kwargs) -> None:
    """A gloo group from torch's ``env://`` variables.

    Under ``torchrun --max-restarts``, the restarted ranks rendezvous in the
    store of the ranks they replace, under the same keys, and can read a dead
    predecessor's address (``Gloo connectFullMesh failed ... Connection
    refused``; 3 of 4 restarts measured here). The keys of a restarted group
    are therefore prefixed with torchrun's ``TORCHELASTIC_RESTART_COUNT``.
    """
    restart = os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')
    if restart == '0':
        torch.distributed.init_process_group(backend='gloo', **kwargs)
        return
    from torch.distributed import PrefixStore, rendezvous
    from torch.distributed.constants import default_pg_timeout

    # What init_process_group does with env://, plus the prefix.
    store, rank, world_size = next(
        rendezvous('env://', timeout=kwargs.get('timeout', default_pg_timeout)))
    torch.distributed.init_process_group(
        backend='gloo',
        store=PrefixStore(f'kinet_mm_restart{restart}/', store),
        rank=rank,
        world_size=world_size,
        **kwargs)


def allow_cpu_distributed() -> None:
    """Let MMEngine's ``pytorch`` and ``slurm`` launchers and its DDP wrapper
    run on CPU-only ranks, with gloo."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    if getattr(dist_utils._init_dist_pytorch, '_kinet_cpu', False):
        return
    init_with_gpu = dist_utils._init_dist_pytorch
    init_slurm_with_gpu = dist_utils._init_dist_slurm
    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(init_with_gpu)
    def init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if _accelerated() or init_backend != 'torch':
            return init_with_gpu(backend, init_backend=init_backend, **kwargs)
        init_cpu_group(**kwargs)

    @functools.wraps(init_slurm_with_gpu)
    def init_dist_slurm(backend, port=None, init_backend='torch', **kwargs) -> None:
        if _accelerated() or init_backend != 'torch':
            return init_slurm_with_gpu(
                backend, port=port, init_backend=init_backend, **kwargs)
        slurm_to_torch_env(port)
        init_cpu_group(**kwargs)

    @functools.wraps(ddp_init)
    def init_ddp(self, module, *args, **kwargs) -> None:
        if not any(p.is_cuda for p in module.parameters()):
            kwargs.pop('device_ids', None)
        ddp_init(self, module, *args, **kwargs)

    init_dist_pytorch._kinet_cpu = True
    init_dist_slurm._kinet_cpu = True
    dist_utils._init_dist_pytorch = init_dist_pytorch
    dist_utils._init_dist_slurm = init_dist_slurm
    MMDistributedDataParallel.__init__ = init_ddp


def flip_stacked_flow() -> None:
    """Make ``Flip`` negate the x component of ``RawFrameDecode``'s
    ``(H, W, 2)`` flow frames (shim 5)."""
    from mmaction.datasets.transforms import Flip
    flip_imgs = Flip._flip_imgs
    if getattr(flip_imgs, '_kinet_stacked_flow', False):
        return

    @functools.wraps(flip_imgs)
    def _flip_imgs(self, imgs, modality):
        if modality != 'Flow' or not len(imgs) or np.ndim(imgs[0]) != 3:
            return flip_imgs(self, imgs, modality)
        import mmcv
        for img in imgs:
            mmcv.imflip_(img, self.direction)
            img[..., 0] = 255 - img[..., 0]
        return imgs

    _flip_imgs._kinet_stacked_flow = True
    Flip._flip_imgs = _flip_imgs


class Shim(NamedTuple):
    """One patch of another package.

    Args:
        name (str): What it fixes, as :class:`CompatVersionWarning` names it.
        patches (str): The patched object(s).
        fixes (dict): ``{distribution: specifier}``: the versions it was
            written and tested for; with others it is not applied.
        apply (Callable, optional): Applies it on ``import kinet_mm``; None
            for a patch applied elsewhere: at start-up by :mod:`kinet_mm_hook`
            (mim), or by ``kinet_mm.deployment.apply_mmdeploy_shims``.
    """
    name: str
    patches: str
    fixes: Dict[str, str]
    apply: Optional[Callable[[], None]]


#: Every patch kinet_mm makes to another package, in order of application.
SHIMS: List[Shim] = [
    Shim('missing DRN module', 'sys.modules[mmaction.models.localizers.drn]',
         {'mmaction2': '==1.2.0'}, patch_missing_drn),
    Shim('weights-only Runner checkpoints',
         'torch.serialization safe globals (allow-list)', {
             'mmengine': '==0.10.7',
             'torch': '>=2.6'
         }, allow_runner_checkpoints),
    Shim('video errors name the file', 'DecordInit._get_video_reader',
         {'mmaction2': '==1.2.0'}, name_unreadable_videos),
    Shim(
        'CPU distributed (pytorch, slurm)',
        'mmengine.dist.utils._init_dist_{pytorch,slurm}, '
        'MMDistributedDataParallel.__init__', {'mmengine': '==0.10.7'},
        allow_cpu_distributed),
    Shim('flow Flip of stacked frames', 'Flip._flip_imgs', {'mmaction2': '==1.2.0'},
         flip_stacked_flow),
    Shim('kinet_mm:: config prefix',
         'Config._get_cfg_path, mmengine.config.utils.MODULE2PACKAGE', PREFIX_FIXES,
         register_config_prefix),
    Shim('mim: editable kinet_mm', 'mim.utils.utils.get_installed_path', MIM_FIXES,
         None),
    Shim('mim: unset options under click>=8.3',
         'mim.click.customcommand.CustomCommand.parse_args', MIM_FIXES, None),
    # kinet_mm.deployment.mmdeploy_compat, applied by apply_mmdeploy_shims()
    # on `import kinet_mm`; each checks the code it fixes itself (signature,
    # version), see docs/deploy.md.
    Shim('mmdeploy: TorchScript exporter, errors naming the module',
         'torch.onnx.export, torch.jit.trace (calls made by MMDeploy)', {
             'mmdeploy': '==1.3.1',
             'torch': '>=2.9'
         }, None),
    Shim('mmdeploy: VideoRecognition.build_backend_model signature',
         'mmdeploy...video_recognition.VideoRecognition.build_backend_model',
         {'mmdeploy': '==1.3.1'}, None),
    Shim('mmdeploy: deploy config of the model config',
         'mmdeploy...video_recognition.VideoRecognition (model config)',
         {'mmdeploy': '==1.3.1'}, None),
    Shim('mmdeploy: recognizer rewrite with a dynamic batch',
         "mmdeploy's BaseRecognizer.forward rewriter", {'mmdeploy': '==1.3.1'}, None),
]


def apply_all() -> None:
    """Apply every shim whose versions match; safe to call more than once."""
    for shim in SHIMS:
        if shim.apply is not None and version_gate(shim.name, shim.fixes):
            shim.apply()


__all__ = [
    'CompatVersionWarning', 'SHIMS', 'Shim', 'VideoReadError', 'apply_all',
    'slurm_to_torch_env', 'version_gate'
]
