"""Convert the paper's published teacher weights into kinet_mm teacher checkpoints.

Each function reads one published file, maps it onto the network that the
teacher config builds (strict key accounting, :mod:`.key_accounting`), loads
the result into that network as a last check, and writes an MMEngine
checkpoint ``{'meta': ..., 'state_dict': ...}`` atomically.
"""
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS
from torch import Tensor, nn

from ..models.teachers.utils import (build_in_scope, load_teacher_config,
                                     read_normalization)
from ..utils.io import atomic_write
from .caffe import read_caffemodel, read_mean_binaryproto
from .key_accounting import ConversionError, KeyAccountant, load_torch_state_dict
from .lip_pspnet import map_lip_pspnet
from .places365 import map_caffe_resnet, map_torchvision_resnet

#: Default teacher configs, found wherever kinet_mm is installed.
LIP_CONFIG = 'kinet_mm::teachers/pspnet_densenet121_lip.py'
PLACES365_CAFFE_CONFIG = 'kinet_mm::teachers/resnet152_places365.py'
PLACES365_PYTORCH_CONFIG = 'kinet_mm::teachers/resnet18_places365.py'


def build_target(config: str,
                 registry,
                 cfg_options: Optional[Dict] = None) -> nn.Module:
    """The randomly initialised teacher network that ``config`` describes."""
    return build_in_scope(load_teacher_config(config, cfg_options).model, registry)


def _finish_and_save(acc: KeyAccountant, model: nn.Module, dst: str,
                     meta: Dict) -> 'OrderedDict[str, Tensor]':
    state_dict = acc.finish(model.state_dict())
    # Redundant after finish(), but cheap: the file must load strictly.
    model.load_state_dict(state_dict, strict=True)
    meta = dict(meta, converter='kinet_mm.converters', accounting=acc.summary())
    dirname = osp.dirname(osp.abspath(dst))
    os.makedirs(dirname, exist_ok=True)
    atomic_write(dst, lambda f: torch.save(dict(meta=meta, state_dict=state_dict), f))
    print_log(f'{meta["source"]} -> {dst}: {acc.summary()}', logger='current')
    return state_dict


def _convert_state_dict(src: str, dst: str, config: str, registry, mapping,
                        cfg_options: Optional[Dict], meta: Dict):
    """Load a published state dict, map it with ``mapping``, account, save."""
    source, _ = load_torch_state_dict(src)
    model = build_target(config, registry, cfg_options)
    acc = mapping(source, osp.basename(src))
    return _finish_and_save(acc, model, dst,
                            dict(meta, source=osp.basename(src), config=config))


def convert_lip_pspnet(
        src: str,
        dst: str,
        config: str = LIP_CONFIG,
        cfg_options: Optional[Dict] = None) -> 'OrderedDict[str, Tensor]':
    """Single-Human-Parsing-LIP's ``PSPNet_last`` -> MMSeg checkpoint.

    Args:
        src (str): The published state dict.
        dst (str): The checkpoint to write.
        config (str): The teacher config the checkpoint is for.
        cfg_options (dict, optional): Overrides of ``config``.
    """
    return _convert_state_dict(src, dst, config, MMSEG_MODELS, map_lip_pspnet,
                               cfg_options, dict(dataset='LIP', classes=20))


def convert_places365_pytorch(
        src: str,
        dst: str,
        config: str = PLACES365_PYTORCH_CONFIG,
        cfg_options: Optional[Dict] = None) -> 'OrderedDict[str, Tensor]':
    """CSAILVision's ``resnet{18,50}_places365.pth.tar`` -> MMPretrain checkpoint.

    Arguments as :func:`convert_lip_pspnet`.
    """
    return _convert_state_dict(src, dst, config, MMPRETRAIN_MODELS,
                               map_torchvision_resnet, cfg_options,
                               dict(dataset='Places365', classes=365))


def check_caffe_mean(mean_file: str,
                     config: str,
                     cfg_options: Optional[Dict] = None,
                     tolerance: float = 0.5) -> Sequence[float]:
    """Compare the config's mean with the Caffe mean image; error if they differ.

    Returns:
        list[float]: The file's per-channel mean (BGR).
    """
    file_mean = read_mean_binaryproto(mean_file)
    mean, _, rgb = read_normalization(load_teacher_config(config, cfg_options))
    config_bgr = list(mean) if not rgb else list(mean)[::-1]
    if any(abs(a - b) > tolerance for a, b in zip(file_mean, config_bgr)):
        values = ', '.join(f'{v:.3f}' for v in file_mean)
        raise ConversionError(
            f'{config}: data_preprocessor.mean {config_bgr} (BGR) is not the '
            f'per-channel mean of {mean_file} ({values}). Set '
            f'data_preprocessor.mean=[{values}] in the config.')
    return file_mean


def convert_places365_caffe(src: str,
                            dst: str,
                            config: str = PLACES365_CAFFE_CONFIG,
                            cfg_options: Optional[Dict] = None,
                            mean_file: Optional[str] = None,
                            fc_name: str = 'fc365') -> 'OrderedDict[str, Tensor]':
    """CSAILVision's ``resnet152_places365.caffemodel`` -> MMPretrain checkpoint.

    Args:
        src, dst, config, cfg_options: as :func:`convert_lip_pspnet`.
        mean_file (str, optional): ``places365CNN_mean.binaryproto``; when
            given, the config's mean must match its per-channel mean.
    """
    meta = dict(
        source=osp.basename(src), config=config, dataset='Places365', classes=365)
    if mean_file is not None:
        meta['mean_bgr'] = check_caffe_mean(mean_file, config, cfg_options)
    else:
        print_log(
            'No --mean-file: the config\'s mean is not checked against '
            'places365CNN_mean.binaryproto.',
            logger='current',
            level=logging.WARNING)
    model = build_target(config, MMPRETRAIN_MODELS, cfg_options)
    layers = read_caffemodel(src)
    acc = map_caffe_resnet(layers, model.backbone.stage_blocks, fc_name,
                           osp.basename(src))
    return _finish_and_save(acc, model, dst, meta)
