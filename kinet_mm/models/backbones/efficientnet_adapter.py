"""KINet stage adapter for MMPretrain's ``EfficientNet`` (B0..B8, L2, EdgeTPU)."""
from collections import OrderedDict
from typing import List

import torch.nn as nn
from mmpretrain.models.backbones import EfficientNet
from torch import Tensor

from .stage_adapters import BaseStageAdapter, register_stage_adapter


@register_stage_adapter(EfficientNet)
class MMPretrainEfficientNetStageAdapter(BaseStageAdapter):
    """Stages of ``mmpretrain.EfficientNet`` by resolution, named like ResNet's.

    MMPretrain builds ``layers`` as: ``[0]`` the stem conv (stride 2), ``[1]``
    the stride-2 blocks, ``[2]``..``[5]`` the blocks whose outputs are at
    strides 4, 8, 16 and 32 (``[4]`` holds both the 80- and 112-channel groups
    of B0, ``[5]`` the 192 and 320 ones), ``[6]`` the 1x1 conv to 1280
    channels. ``res<k>`` is the stage at stride ``2 ** k``, so KINet's defaults
    (``branch_from='res4'``, CBIs at the end of res4 and res5) carry over from
    ResNet. The final conv is res5's last block, so every branch owns one; the
    default ``out_indices=(6, )`` output is what the stages reproduce.
    """

    #: ``layers`` index of each named stage.
    stage_layers = OrderedDict(res2=2, res3=3, res4=4, res5=5)

    def stem(self, net: EfficientNet, x: Tensor) -> Tensor:
        return net.layers[1](net.layers[0](x))

    def stages(self, net: EfficientNet) -> 'OrderedDict[str, List[nn.Module]]':
        stages = OrderedDict((name, list(net.layers[index]))
                             for name, index in self.stage_layers.items())
        stages['res5'].append(net.layers[6])
        return stages
