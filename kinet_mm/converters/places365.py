"""Places365 scene classifiers (CSAILVision/places365) to MMPretrain ResNets.

Two sources, one target family (``mmpretrain.ImageClassifier`` with a ResNet
backbone and a ``LinearClsHead``):

* the paper's teacher, ResNet-152 fine-tuned on Places365, published only as
  Caffe (``resnet152_places365.caffemodel``): Caffe layer names, a separate
  ``BatchNorm`` (mean and variance stored multiplied by a factor blob) and
  ``Scale`` (gamma, beta) per convolution, stride on the first 1x1 convolution
  of a block (``style='caffe'``);
* the PyTorch ResNet-18/50 (``resnet{18,50}_places365.pth.tar``): torchvision
  key names under DataParallel's ``module.`` prefix and a 365-way ``fc``.
"""
from collections import OrderedDict
from typing import Dict, List, Sequence

import torch
from torch import Tensor

from .key_accounting import ConversionError, KeyAccountant, strip_prefix
from .rename import apply_rules

BN_BUFFERS = ('weight', 'bias', 'running_mean', 'running_var')


def caffe_block_names(stage: int, num_blocks: int,
                      layer_names: Sequence[str]) -> List[str]:
    """Caffe names of the blocks of ResNet stage ``stage`` (2 = res2 ... 5).

    Kaiming He's prototxts name the blocks of a stage ``a, b, c, ...`` when it
    is short and ``a, b1, b2, ...`` when it is long (ResNet-101/152's res3 and
    res4); which one a file uses is read from its layer names.
    """
    if num_blocks > 1 and f'res{stage}b1_branch2a' in layer_names:
        return ['a'] + [f'b{i}' for i in range(1, num_blocks)]
    if num_blocks > 26:
        raise ConversionError(f'res{stage} has {num_blocks} blocks: too many '
                              'for letter names, and no res{stage}b1 layer')
    return [chr(ord('a') + i) for i in range(num_blocks)]


def _put_caffe_bn(acc: KeyAccountant, bn: str, scale: str, target: str) -> None:
    """Caffe ``BatchNorm`` + ``Scale`` layers into one PyTorch BatchNorm2d.

    Caffe keeps running sums: ``mean = blobs[0] / blobs[2]``,
    ``var = blobs[1] / blobs[2]`` (a zero factor means zero statistics).
    """
    mean, var, factor = (acc.take(f'{bn}/{i}') for i in range(3))
    factor = float(factor.reshape(-1)[0])
    inv = 0.0 if factor == 0 else 1.0 / factor
    acc.put(f'{target}.running_mean', mean.reshape(-1) * inv)
    acc.put(f'{target}.running_var', var.reshape(-1) * inv)
    acc.put(f'{target}.weight', acc.take(f'{scale}/0').reshape(-1))
    acc.put(f'{target}.bias', acc.take(f'{scale}/1').reshape(-1))
    acc.put(f'{target}.num_batches_tracked', torch.tensor(0))


def map_caffe_resnet(layers: 'OrderedDict[str, List[Tensor]]',
                     stage_blocks: Sequence[int], fc_name: str,
                     source_name: str) -> KeyAccountant:
    """Map a Caffe ResNet's layers onto MMPretrain ``ResNet`` + ``LinearClsHead``.

    Args:
        layers: ``read_caffemodel`` output, layer name -> blobs.
        stage_blocks (Sequence[int]): Blocks per stage of the target
            (``(3, 8, 36, 3)`` for ResNet-152).
        fc_name (str): The classifier layer (``'fc365'``).
        source_name (str): The file, for messages.

    Returns:
        KeyAccountant: filled; call ``finish`` with the target's state dict.
    """
    flat = OrderedDict((f'{name}/{i}', blob) for name, blobs in layers.items()
                       for i, blob in enumerate(blobs))
    acc = KeyAccountant(flat, source_name)
    acc.put('backbone.conv1.weight', acc.take('conv1/0'))
    _put_caffe_bn(acc, 'bn_conv1', 'scale_conv1', 'backbone.bn1')
    names = list(layers)
    for s, num_blocks in enumerate(stage_blocks):
        stage = s + 2
        for b, block in enumerate(caffe_block_names(stage, num_blocks, names)):
            src = f'{stage}{block}'
            dst = f'backbone.layer{s + 1}.{b}'
            if b == 0:  # the projection shortcut
                acc.put(f'{dst}.downsample.0.weight', acc.take(f'res{src}_branch1/0'))
                _put_caffe_bn(acc, f'bn{src}_branch1', f'scale{src}_branch1',
                              f'{dst}.downsample.1')
            for i, branch in enumerate('abc', start=1):
                acc.put(f'{dst}.conv{i}.weight',
                        acc.take(f'res{src}_branch2{branch}/0'))
                _put_caffe_bn(acc, f'bn{src}_branch2{branch}',
                              f'scale{src}_branch2{branch}', f'{dst}.bn{i}')
    acc.put('head.fc.weight', acc.take(f'{fc_name}/0'))
    acc.put('head.fc.bias', acc.take(f'{fc_name}/1').reshape(-1))
    return acc


def map_torchvision_resnet(state_dict: Dict[str, Tensor],
                           source_name: str) -> KeyAccountant:
    """Map a torchvision ResNet state dict (``module.`` prefixes allowed) onto
    MMPretrain ``ResNet`` + ``LinearClsHead``: the module names are the same
    apart from the ``backbone.`` / ``head.`` prefixes."""
    acc = KeyAccountant(strip_prefix(state_dict, 'module.'), source_name)
    apply_rules(acc, [
        (r'fc\.(weight|bias)', r'head.fc.\1'),
        (r'((?:conv1|bn1|layer[1-4])\..+)', r'backbone.\1'),
    ])
    return acc
