"""Helpers shared by the teachers built from OpenMMLab (MMSeg, MMPretrain) configs."""
import copy
import logging
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.registry import DefaultScope, Registry
from mmengine.runner import load_checkpoint
from torch import Tensor, nn

from ...utils.config_prefix import resolve as resolve_prefixed_config

ConfigLike = Union[str, Config]
Normalization = Tuple[Sequence[float], Sequence[float], bool]


def load_teacher_config(config: ConfigLike,
                        cfg_options: Optional[Dict] = None) -> Config:
    """Read a teacher's own OpenMMLab config and apply ``cfg_options``.

    Args:
        config (str | Config): Path of the config file (``kinet_mm::`` paths,
            e.g. ``'kinet_mm::teachers/pspnet_densenet121_lip.py'``, are found
            wherever kinet_mm is installed), or a loaded config.
        cfg_options (dict, optional): Dotted-key overrides, as in
            :meth:`Config.merge_from_dict`.

    Returns:
        Config: A copy of the config, with the overrides applied.
    """
    if isinstance(config, str):
        resolved = resolve_prefixed_config(config)
        config = resolved[0] if resolved else config
        if not osp.isfile(config):
            raise FileNotFoundError(f'Teacher config not found: {config}')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)  # teachers edit it; the caller's stays intact
    else:
        raise TypeError(f'config must be a path or a Config, got {type(config)}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'Teacher config {config} has no `model`.')
    return cfg


def read_normalization(cfg: Config) -> Normalization:
    """Mean, std and input channel order of a teacher, from its data preprocessor.

    The preprocessor is looked up where MMEngine's Runner looks: ``model`` first,
    then the top-level ``data_preprocessor``.

    Returns:
        tuple: ``(mean, std, rgb)`` where mean and std are on the 0-255 scale and
        ``rgb`` tells whether the network sees RGB (``bgr_to_rgb`` or ``to_rgb``
        set, the OpenMMLab convention for RGB-trained models) or BGR channels.
    """
    preprocessor = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
    if not preprocessor or preprocessor.get('mean') is None \
            or preprocessor.get('std') is None:
        raise KeyError('The teacher config needs a data_preprocessor with mean and std '
                       '(in model.data_preprocessor or at the top level): the teacher '
                       'normalizes raw frames itself.')
    rgb = bool(preprocessor.get('bgr_to_rgb', preprocessor.get('to_rgb', False)))
    return tuple(preprocessor['mean']), tuple(preprocessor['std']), rgb


def build_in_scope(model_cfg: ConfigDict, registry: Registry) -> nn.Module:
    """Build ``model_cfg`` from ``registry`` inside that registry's scope.

    A teacher is usually built while MMAction2 is the default scope, whose
    registry cannot see e.g. MMSeg's ``EncoderDecoder``; switching the scope makes
    the nested builds (backbone, heads, losses) resolve in the right package.
    """
    with DefaultScope.overwrite_default_scope(registry.scope):
        return registry.build(model_cfg)


def check_checkpoint(checkpoint: Optional[str]) -> None:
    """Fail early, before building a large network, on a missing local checkpoint."""
    if checkpoint is not None and '://' not in checkpoint \
            and not osp.isfile(osp.expanduser(checkpoint)):
        raise FileNotFoundError(f'Teacher checkpoint not found: {checkpoint}')


def load_strict_checkpoint(model: nn.Module, checkpoint: Optional[str],
                           config: ConfigLike) -> None:
    """Load a teacher's weights; any missing, unexpected or mis-shaped key is an error.

    Args:
        model (nn.Module): The built network.
        checkpoint (str, optional): Checkpoint path (a URL would be downloaded
            by MMEngine). ``None`` keeps the freshly built (random) weights, with
            a warning.
        config (str | Config): The config the model was built from, for messages.
    """
    if checkpoint is None:
        print_log(
            f'Teacher {type(model).__name__} from {_describe(config)} has no '
            'checkpoint: its weights are random and so are its pseudo labels.',
            logger='current',
            level=logging.WARNING)
        return
    check_checkpoint(checkpoint)
    try:
        load_checkpoint(
            model, checkpoint, map_location='cpu', strict=True, logger='current')
    except RuntimeError as err:
        # MMEngine's message lists the offending keys but not the file.
        raise RuntimeError(
            f'Teacher checkpoint {checkpoint} does not fit the '
            f'{type(model).__name__} built from {_describe(config)}: {err}') from err


def check_frames(frames: Tensor) -> None:
    """Reject anything but a ``(B, 3, H, W)`` batch of frames."""
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError('Teachers take RGB frames of shape (B, 3, H, W), got '
                         f'{tuple(frames.shape)}')


def resize_frames(frames: Tensor, size: Optional[Tuple[int, int]]) -> Tensor:
    """Resize ``(B, 3, H, W)`` frames to ``size`` (h, w); ``None`` keeps them."""
    if size is None or tuple(frames.shape[-2:]) == tuple(size):
        return frames
    # Antialiasing matters when shrinking video frames to a classifier's input.
    return torch.nn.functional.interpolate(
        frames.float(),
        size=tuple(size),
        mode='bilinear',
        align_corners=False,
        antialias=True)


def _describe(config: ConfigLike) -> str:
    return config if isinstance(config, str) else 'the given config'
