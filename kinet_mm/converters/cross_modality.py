"""Cross-modality initialisation: an RGB checkpoint made fit for a flow input.

TSN (Wang et al., ECCV 2016), section 3.2 "Cross Modality Pre-training": to
start a flow network from RGB (ImageNet) weights, "average the weights across
the RGB channels and replicate this average by the channel number of temporal
network input". For the first kernel ``W_rgb`` of shape ``(C_out, 3, *k)`` and
a flow input of ``C_in`` channels (``2 * L`` for ``L`` stacked flow frames in
TSN, 2 for I3D's flow stream)::

    W_flow[:, c] = (W_rgb[:, 0] + W_rgb[:, 1] + W_rgb[:, 2]) / 3,  c < C_in

MMAction2 has no equivalent: ``ResNet._load_conv_params`` and
``ResNet3d.inflate_weights`` skip a first conv whose ``in_channels`` is not 3
(they copy only equal shapes), which leaves it randomly initialised in
MMAction2's own TSN flow config.

Why a converted checkpoint rather than an ``init_cfg`` initialiser: MMEngine
runs a module's initialisers *before* its children's ``init_weights`` (only
``type='Pretrained'`` is deferred), recognizers take no ``init_cfg``, and
MMAction2's ``ResNet`` ignores ``init_cfg`` when it loads torchvision weights,
so an initialiser that writes the first conv is overwritten or never runs. A
converted checkpoint goes through every existing loading path unchanged:
``backbone.pretrained`` (torchvision layout), ``init_cfg=dict(type='Pretrained',
prefix='backbone.')``, ``load_from``, or a 2D-to-3D inflation.
"""
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

from ..utils.io import atomic_write


def cross_modality_weight(rgb_weight: Tensor,
                          in_channels: int,
                          time: Optional[int] = None) -> Tensor:
    """A flow kernel from an RGB kernel (TSN, section 3.2).

    Args:
        rgb_weight (Tensor): ``(C_out, C_rgb, *k)``, any number of kernel dims.
        in_channels (int): The flow input's channels ``C_in``.
        time (int, optional): If given, a 2D kernel ``(C_out, C_rgb, kh, kw)``
            is also inflated to ``(C_out, C_in, time, kh, kw)`` as I3D's
            bootstrapping does (section 2.4: repeated ``time`` times along
            time and divided by ``time``).

    Returns:
        Tensor: ``(C_out, in_channels, *k)`` (``time`` inserted after the
        channels if given).
    """
    weight = rgb_weight.mean(dim=1, keepdim=True)
    if time is not None:
        if weight.dim() != 4:
            raise ValueError(f'time={time} inflates a 2D kernel; got shape '
                             f'{tuple(rgb_weight.shape)}')
        weight = weight.unsqueeze(2).repeat(1, 1, time, 1, 1) / time
    shape = list(weight.shape)
    shape[1] = in_channels
    return weight.expand(shape).clone()


def first_rgb_conv_key(state_dict: dict, rgb_channels: int = 3) -> str:
    """Key of the first conv weight (in state-dict order) that reads
    ``rgb_channels`` input channels: the input layer."""
    for key, value in state_dict.items():
        if key.endswith('weight') and value.dim() >= 4 and \
                value.shape[1] == rgb_channels:
            return key
    raise KeyError(f'no conv weight with {rgb_channels} input channels')


def convert_rgb_to_flow(src: str,
                        dst: str,
                        in_channels: int,
                        key: Optional[str] = None,
                        time: Optional[int] = None) -> str:
    """Write ``dst``: the checkpoint ``src`` with its input conv ``key``
    replaced by :func:`cross_modality_weight`; every other tensor unchanged.

    Args:
        src (str): RGB checkpoint: a path or an MMEngine URL scheme
            (``torchvision://resnet50``, ``https://...``); loaded weights-only.
        dst (str): Output ``.pth``; ``{'state_dict': ..., 'meta': ...}``,
            readable by MMAction2's torchvision loader and by ``Pretrained``.
        in_channels (int): Flow input channels (``2 * clip_len``).
        key (str, optional): The input conv's weight; default: the first conv
            weight with 3 input channels.
        time (int, optional): Inflate a 2D kernel to this temporal size.

    Returns:
        str: The converted key.
    """
    ckpt = _load_checkpoint(src, map_location='cpu')
    state_dict = dict(ckpt.get('state_dict', ckpt))
    key = key or first_rgb_conv_key(state_dict)
    if key not in state_dict:
        convs = [
            k for k, v in state_dict.items() if k.endswith('weight') and v.dim() >= 4
        ][:3]
        raise KeyError(f'{src} has no "{key}" (--key); its first conv weights '
                       f'are {convs}')
    rgb = state_dict[key]
    state_dict[key] = cross_modality_weight(rgb, in_channels, time)
    meta = dict(
        cross_modality=dict(
            src=src,
            key=key,
            in_channels=in_channels,
            time=time,
            rule='TSN sec. 3.2: mean over RGB channels, replicated'))
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    atomic_write(dst, lambda f: torch.save(dict(state_dict=state_dict, meta=meta), f))
    print_log(
        f'{key}: {tuple(rgb.shape)} -> '
        f'{tuple(state_dict[key].shape)}; wrote {dst}',
        logger='current')
    return key
