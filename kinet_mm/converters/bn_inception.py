"""TSN's ImageNet BN-Inception to :class:`~kinet_mm.models.backbones.BNInception`.

The source is the Caffe ``bn_inception`` model TSN trained from, in the
PyTorch port of ``pretrainedmodels.bninception`` (``bn_inception-52deb4733.pth``):
one module per Caffe layer (``conv1_7x7_s2``, ``inception_4e_double_3x3_2``,
...), each convolution with a bias and followed by ``<layer>_bn``, and a
1000-way ``last_linear`` (or ``fc``). Two exact rewrites fit it to our layout:

* a convolution bias ``b`` in front of BN moves into BN's running mean
  (``BN(conv(x) + b)`` with mean ``mu`` is ``BN(conv(x))`` with ``mu - b``);
* ``conv1``'s input channels are reversed: the Caffe model reads BGR frames
  minus ``[104, 117, 128]``, our configs feed RGB minus ``[128, 117, 104]``
  (std 1), the same numbers in RGB order.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict

import torch
from torch import Tensor

from ..models.backbones.bn_inception import BNInception
from .key_accounting import (ConversionError, KeyAccountant, load_torch_state_dict,
                             strip_prefix)
from .teacher_checkpoints import _finish_and_save

#: Caffe layer -> module of :class:`BNInception` (stem).
STEM_LAYERS = {
    'conv1_7x7_s2': 'stem.conv1',
    'conv2_3x3_reduce': 'stem.conv2_reduce',
    'conv2_3x3': 'stem.conv2'
}
#: Caffe layer suffix inside an inception module -> our branch convolution.
BRANCH_LAYERS = {
    '1x1': 'branch1x1',
    '3x3_reduce': 'branch3x3.0',
    '3x3': 'branch3x3.1',
    'double_3x3_reduce': 'branch3x3dbl.0',
    'double_3x3_1': 'branch3x3dbl.1',
    'double_3x3_2': 'branch3x3dbl.2',
    'pool_proj': 'branch_pool.1'
}
CLASSIFIERS = ('last_linear.', 'fc.')


def caffe_layer_target(layer: str) -> str:
    """``'inception_4e_3x3'`` -> ``'inception4.4.branch3x3.1'``."""
    if layer in STEM_LAYERS:
        return STEM_LAYERS[layer]
    match = re.fullmatch(r'inception_([345])([a-e])_(\w+)', layer)
    if match is None or match.group(3) not in BRANCH_LAYERS:
        raise ConversionError(f'{layer!r} is not a BN-Inception Caffe layer')
    stage, module, branch = match.groups()
    return f'inception{stage}.{ord(module) - ord("a")}.{BRANCH_LAYERS[branch]}'


def map_bninception(state_dict: Dict[str, Tensor], source_name: str) -> KeyAccountant:
    """Map a Caffe-named BN-Inception state dict onto :class:`BNInception`.

    Args:
        state_dict (dict): ``pretrainedmodels`` layout (``module.`` allowed).
        source_name (str): The file, for messages.

    Returns:
        KeyAccountant: filled; call ``finish`` with the target's state dict.
    """
    acc = KeyAccountant(strip_prefix(state_dict, 'module.'), source_name)
    convs = [
        key[:-len('.weight')] for key in acc.source
        if key.endswith('.weight') and not key.startswith(CLASSIFIERS)
        and f'{key[:-len(".weight")]}_bn.weight' in acc.source
    ]
    if not convs:
        raise ConversionError(f'{source_name}: no "<layer>.weight" with a '
                              '"<layer>_bn" BatchNorm: not a BN-Inception file')
    for layer in convs:
        target, bn = caffe_layer_target(layer), f'{layer}_bn'
        weight = acc.take(f'{layer}.weight')
        if layer == 'conv1_7x7_s2':
            weight = weight.flip(1)  # BGR -> RGB input channels
        acc.put(f'{target}.conv.weight', weight)
        bias = (
            acc.take(f'{layer}.bias')
            if acc.has(f'{layer}.bias') else torch.zeros(weight.shape[0]))
        acc.put(f'{target}.bn.weight', acc.take(f'{bn}.weight'))
        acc.put(f'{target}.bn.bias', acc.take(f'{bn}.bias'))
        acc.put(f'{target}.bn.running_mean', acc.take(f'{bn}.running_mean') - bias)
        acc.put(f'{target}.bn.running_var', acc.take(f'{bn}.running_var'))
        tracked = f'{bn}.num_batches_tracked'
        acc.put(f'{target}.bn.num_batches_tracked',
                acc.take(tracked) if acc.has(tracked) else torch.tensor(0))
    for prefix in CLASSIFIERS:
        if any(key.startswith(prefix) for key in acc.source):
            acc.discard(prefix, 'ImageNet classifier (a backbone has none)')
    return acc


def convert_bninception(src: str, dst: str) -> 'OrderedDict[str, Tensor]':
    """``bn_inception-52deb4733.pth`` (or any file in its layout) ->
    a :class:`BNInception` checkpoint for ``init_cfg=dict(type='Pretrained')``.

    Every source tensor is used or discarded (the classifier) and every target
    tensor written, else :class:`ConversionError` lists what does not fit.
    """
    source, _ = load_torch_state_dict(src)
    acc = map_bninception(source, osp.basename(src))
    return _finish_and_save(
        acc, BNInception(), dst,
        dict(
            source=osp.basename(src),
            dataset='ImageNet',
            input='RGB minus [128, 117, 104], std 1'))
