"""torchvision's ImageNet GoogLeNet -> kinet_mm's 2D :class:`InceptionV1`.

torchvision's ``googlenet`` (``googlenet-1378be20.pth``) is TF-slim's
Inception-v1 with BN ported to PyTorch: the same widths, ``1x1 -> 3x3`` in the
second reducing branch, a ``2x2`` pool before 5b, BN with ``eps=1e-3``. Its
weights are the ImageNet starting point that section 2.4 of the I3D paper
inflates: convert once, then give the file to ``I3DInceptionV1(pretrained=...)``
(or to a 2D ``InceptionV1``'s ``init_cfg``).

Two conventions come with the weights (``docs/i3d.md``): the stride-2 max-pools
of torchvision's network round up without padding, so the converted weights
are used with ``InceptionV1(pool_mode='ceil')`` (:data:`POOL_MODE`); and the
inputs are in ``[-1, 1]``: torchvision's ``transform_input`` maps
ImageNet-normalised inputs there, our data preprocessor does it with
``mean=127.5``, ``std=127.5``. With both, the converted network computes
torchvision's features (``tests/test_i3d.py``).
"""
import os
import os.path as osp
from collections import OrderedDict

import torch
from mmengine.logging import print_log
from torch import Tensor

from ..models.backbones.inception_v1 import INCEPTION_WIDTHS, InceptionV1
from ..utils.io import atomic_write
from .key_accounting import KeyAccountant, load_torch_state_dict
from .rename import apply_rules

#: torchvision's ``inception3a`` .. ``inception5b`` are mixed 3b .. 5c.
MIXED = dict(
    zip(('3a', '3b', '4a', '4b', '4c', '4d', '4e', '5a', '5b'), INCEPTION_WIDTHS))
#: BN of TF-slim's Inception-v1, kept by torchvision's port.
NORM_CFG = dict(type='BN', eps=1e-3, requires_grad=True)
#: torchvision's stride-2 max-pools: ``MaxPool2d(k, 2, ceil_mode=True)``.
POOL_MODE = 'ceil'

RULES = [
    (r'conv1\.(conv|bn)\.(.+)', r'conv1a.\1.\2'),
    (r'conv2\.(conv|bn)\.(.+)', r'conv2b.\1.\2'),
    (r'conv3\.(conv|bn)\.(.+)', r'conv2c.\1.\2'),
    # torchvision's branches 1..4 are ours 0..3; branch4.0 is the max-pool.
    (r'inception(\d[a-e])\.branch1\.(conv|bn)\.(.+)',
     lambda m: f'{MIXED[m[1]]}.branch0.{m[2]}.{m[3]}'),
    (r'inception(\d[a-e])\.branch([23])\.([01])\.(conv|bn)\.(.+)',
     lambda m: f'{MIXED[m[1]]}.branch{int(m[2]) - 1}.{m[3]}.{m[4]}.{m[5]}'),
    (r'inception(\d[a-e])\.branch4\.1\.(conv|bn)\.(.+)',
     lambda m: f'{MIXED[m[1]]}.branch3.1.{m[2]}.{m[3]}'),
]


def map_torchvision_googlenet(source, source_name: str) -> KeyAccountant:
    """Rename torchvision GoogLeNet keys to :class:`InceptionV1`'s; the ImageNet
    classifier and the auxiliary classifiers are discarded."""
    acc = KeyAccountant(source, source_name)
    acc.discard('fc.', 'the ImageNet classifier (the recognizer has its head)')
    for aux in ('aux1.', 'aux2.'):
        if any(key.startswith(aux) for key in source):
            acc.discard(aux, 'GoogLeNet auxiliary classifiers (not in I3D)')
    apply_rules(acc, RULES)
    return acc


def convert_torchvision_googlenet(src: str, dst: str) -> 'OrderedDict[str, Tensor]':
    """Convert a torchvision GoogLeNet state dict into an InceptionV1 checkpoint.

    Every source tensor is used or discarded for a stated reason and every
    InceptionV1 tensor is filled (strict key accounting); the result is loaded
    into ``InceptionV1(norm_cfg=NORM_CFG, pool_mode=POOL_MODE)`` before it is
    written, atomically, as ``{'meta': ..., 'state_dict': ...}``; the meta
    records both settings, which the model using the file must share.

    Args:
        src (str): torchvision's ``googlenet-*.pth`` (read weights-only).
        dst (str): Where to write the checkpoint.

    Returns:
        OrderedDict[str, Tensor]: The converted state dict.
    """
    source, _ = load_torch_state_dict(src)
    acc = map_torchvision_googlenet(source, osp.basename(src))
    model = InceptionV1(norm_cfg=NORM_CFG, pool_mode=POOL_MODE)
    state_dict = acc.finish(model.state_dict())
    model.load_state_dict(state_dict, strict=True)
    meta = dict(
        source=osp.basename(src),
        converter='kinet_mm.converters',
        accounting=acc.summary(),
        norm_cfg=NORM_CFG,
        pool_mode=POOL_MODE)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    atomic_write(dst, lambda f: torch.save(dict(meta=meta, state_dict=state_dict), f))
    print_log(f'{src} -> {dst}: {acc.summary()}', logger='current')
    return state_dict
