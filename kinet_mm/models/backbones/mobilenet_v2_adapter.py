"""Stage adapter of MMAction2's 2D ``MobileNetV2`` for :class:`KINetBackbone`."""
from collections import OrderedDict
from typing import List

import torch.nn as nn
from mmaction.models.backbones import MobileNetV2
from torch import Tensor

from .stage_adapters import BaseStageAdapter, register_stage_adapter


@register_stage_adapter(MobileNetV2)
class MobileNetV2StageAdapter(BaseStageAdapter):
    """MMAction2's ``MobileNetV2``: the stem is ``conv1``; the stages are its
    own ``layers`` (``layer1``..``layer7`` of inverted residual blocks, then
    ``conv2``, the 1x1 convolution to 1280 channels, a one-block stage as in
    MMAction2's ``frozen_stages``), so ``branch_from='layer6'`` branches the
    last three."""

    def stem(self, net: MobileNetV2, x: Tensor) -> Tensor:
        return net.conv1(x)

    def stages(self, net: MobileNetV2) -> 'OrderedDict[str, List[nn.Module]]':
        stages = OrderedDict()
        for name in net.layers:
            module = getattr(net, name)
            stages[name] = list(module) if isinstance(module, nn.Sequential) \
                else [module]
        return stages
