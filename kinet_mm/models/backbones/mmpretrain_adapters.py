"""Stage adapters for MMPretrain backbones (``InceptionV3``, ``ResNet`` family).

Each adapter replays the backbone's own ``forward`` up to its last feature
map: the stem, then the stages block by block, so :class:`KINetBackbone` can
split it. MMPretrain's classification tail (``InceptionV3``'s pooling, dropout
and ``fc``) is never run.
"""
from collections import OrderedDict
from typing import List

import torch.nn as nn
from mmpretrain.models.backbones import InceptionV3
from mmpretrain.models.backbones import ResNet as MMPretrainResNet
from torch import Tensor

from .stage_adapters import BaseStageAdapter, register_stage_adapter


@register_stage_adapter(InceptionV3)
class InceptionV3StageAdapter(BaseStageAdapter):
    """``mmpretrain.models.InceptionV3`` (Szegedy et al., 2016).

    The stem is everything before ``Mixed_5b`` (``Conv2d_1a_3x3`` ..
    ``maxpool2``); the stages are ``mixed5`` (``Mixed_5b/5c/5d``, 35x35 at
    299 input, 288 channels), ``mixed6`` (``Mixed_6a`` .. ``Mixed_6e``, 17x17,
    768) and ``mixed7`` (``Mixed_7a/7b/7c``, 8x8, 2048). ``AuxLogits`` (fed by
    ``Mixed_6e`` in training) is not part of any stage.

    The unpadded stride-2 convolutions and pools need at least a 75x75 input
    (``Mixed_7a`` then sees 3x3 and outputs 1x1), hence ``probe_size``.
    """

    probe_size = 75
    stem_layers = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1',
                   'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'maxpool2')
    stage_layers = OrderedDict(
        mixed5=('Mixed_5b', 'Mixed_5c', 'Mixed_5d'),
        mixed6=('Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e'),
        mixed7=('Mixed_7a', 'Mixed_7b', 'Mixed_7c'))

    def input_channels(self, net: InceptionV3) -> int:
        # 3, or 2L for kinet_mm's flow InceptionV3(in_channels=2L).
        return net.Conv2d_1a_3x3.conv.in_channels

    def stem(self, net: InceptionV3, x: Tensor) -> Tensor:
        for name in self.stem_layers:
            x = getattr(net, name)(x)
        return x

    def stages(self, net: InceptionV3) -> 'OrderedDict[str, List[nn.Module]]':
        return OrderedDict((stage, [getattr(net, name) for name in layers])
                           for stage, layers in self.stage_layers.items())


@register_stage_adapter(MMPretrainResNet)
class MMPretrainResNetStageAdapter(BaseStageAdapter):
    """``mmpretrain.models.ResNet`` and its subclasses (``ResNetV1c``,
    ``ResNetV1d``, ``ResNeXt``, ``SEResNet``, ``ResNet_CIFAR``, ``RegNet``...).

    Stages ``res2`` .. ``res5`` are ``res_layers`` (``layer1`` .. ``layer4``),
    the names MMAction2's ResNet gets, so ResNet configs' ``branch_from`` and
    ``cbi_positions`` carry over. The stem is ``stem`` (``deep_stem``: V1c,
    V1d) or ``conv1``/``norm1``/``relu``, then ``maxpool`` where the family
    has one (``ResNet_CIFAR`` and ``RegNet`` have none).
    """

    def stem(self, net: MMPretrainResNet, x: Tensor) -> Tensor:
        if net.deep_stem:
            x = net.stem(x)
        else:
            x = net.relu(net.norm1(net.conv1(x)))
        maxpool = getattr(net, 'maxpool', None)
        return x if maxpool is None else maxpool(x)

    def stages(self, net: MMPretrainResNet) -> 'OrderedDict[str, List[nn.Module]]':
        return OrderedDict((f'res{i + 2}', list(getattr(net, layer)))
                           for i, layer in enumerate(net.res_layers))
