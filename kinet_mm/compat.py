"""Small, targeted fixes for the pinned OpenMMLab stack.

Each shim is applied once by :func:`apply_all` (called on ``import kinet_mm``),
changes nothing in site-packages, and has a test in ``tests/test_compat.py`` that
fails without it.

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
   calls ``torch.cuda.set_device`` and the Runner wraps the model in DDP with
   ``device_ids=[LOCAL_RANK]``, so multi-process training on CPUs (gloo) fails
   with "Found no NVIDIA driver". Without CUDA we skip ``set_device`` and drop
   ``device_ids`` for CPU modules, which is what DDP requires for them.
5. ``mmaction2==1.2.0``'s ``Flip`` negates horizontal flow as in 0.x, where
   ``RawFrameDecode`` returned x and y as separate images (x at even indices):
   it inverts every even *image*. Since open-mmlab/mmaction2#2631 (1.2),
   ``RawFrameDecode`` returns one ``(H, W, 2)`` image ``[x, y]`` per frame,
   so a flipped clip has both components of frames 0, 2, 4... negated and
   neither of frames 1, 3...; a mirrored video's flow is ``(-x, y)`` at
   every frame. For stacked frames we invert channel 0 of every image
   (``255 - x``, i.e. ``-x`` under the ``[-bound, bound] -> [0, 255]`` map of
   MMAction2's flow extraction); the separate images of ``ArrayDecode`` keep
   the original rule.
"""
import functools
import sys
import types
from typing import Any

import numpy as np
import torch

_DRN_MODULE = 'mmaction.models.localizers.drn'


class _MissingDRN:
    """Placeholder for MMAction2's DRN localizer, absent from the 1.2.0 wheel."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'mmaction2 1.2.0 was installed from a wheel that lacks '
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
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float64, np.float32, np.float16, np.int64, np.int32, np.int8,
        np.uint8, np.bool_)]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


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
            raise VideoReadError(
                f'decord cannot read video {filename}: {err}') from err

    _get_video_reader._kinet_mm_names_file = True
    DecordInit._get_video_reader = _get_video_reader


def allow_cpu_distributed() -> None:
    """Let MMEngine's ``pytorch`` launcher and DDP wrapper run on CPU-only ranks."""
    from mmengine.device import (is_mlu_available, is_musa_available,
                                 is_npu_available)
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    if getattr(dist_utils._init_dist_pytorch, '_kinet_cpu', False):
        return
    init_with_gpu = dist_utils._init_dist_pytorch
    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(init_with_gpu)
    def init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        accelerated = torch.cuda.is_available() or is_npu_available() or \
            is_mlu_available() or is_musa_available()
        if accelerated or init_backend != 'torch':
            return init_with_gpu(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    @functools.wraps(ddp_init)
    def init_ddp(self, module, *args, **kwargs) -> None:
        if not any(p.is_cuda for p in module.parameters()):
            kwargs.pop('device_ids', None)
        ddp_init(self, module, *args, **kwargs)

    init_dist_pytorch._kinet_cpu = True
    dist_utils._init_dist_pytorch = init_dist_pytorch
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


def apply_all() -> None:
    """Apply every shim; safe to call more than once."""
    patch_missing_drn()
    allow_runner_checkpoints()
    name_unreadable_videos()
    allow_cpu_distributed()
    flip_stacked_flow()
