"""Stage adapters: how :class:`KINetBackbone` walks one family of 2D backbones.

KINet splits a 2D network into a shared trunk and per-branch copies of its
high-level stages, and places CBIs after chosen blocks. All it needs from the
network is its *stem* and an ordered list of *named stages*, each a list of
blocks; an adapter says where those are in one family of backbones. A new family
is one small class::

    @register_stage_adapter(MyBackbone)
    class MyBackboneStageAdapter(BaseStageAdapter):
        def stem(self, net, x):
            return net.pool(net.conv(x))

        def stages(self, net):
            return OrderedDict(stage1=list(net.stage1), stage2=list(net.stage2))

The adapter is chosen from the built network's class (its MRO, so subclasses
such as MMPretrain's ``ResNetV1d`` use their parent's adapter).
"""
from collections import OrderedDict
from typing import Dict, List, Type

import torch.nn as nn
from mmaction.models.backbones import ResNet
from torch import Tensor

_ADAPTERS: Dict[type, Type['BaseStageAdapter']] = {}


class BaseStageAdapter:
    """The stem and named stages of one family of 2D backbones.

    Blocks are the modules registered inside the network (their weights stay
    where the network's own checkpoints put them) or thin ``nn.Module`` wrappers
    around them that keep no state of their own. Running :meth:`stem` and then
    every block of every stage must give the network's own final feature map.
    """

    #: Smallest square input the family accepts; :class:`KINetBackbone` runs
    #: one forward of this size at construction to count each block's channels.
    probe_size: int = 64

    def stem(self, net: nn.Module, x: Tensor) -> Tensor:
        """What runs before the first stage: ``(B, 3, H, W)`` -> a map."""
        raise NotImplementedError

    def stages(self, net: nn.Module) -> 'OrderedDict[str, List[nn.Module]]':
        """Stage name -> its blocks, in execution order."""
        raise NotImplementedError

    def input_channels(self, net: nn.Module) -> int:
        """Channels of the network's input (3 for RGB, e.g. 10 for stacked
        flow)."""
        return 3

    def norm_eval(self, net: nn.Module) -> bool:
        """Whether the network keeps its BatchNorms in eval mode while training
        (learnable branch copies follow it)."""
        return bool(getattr(net, 'norm_eval', False))


def register_stage_adapter(*backbone_classes: type):
    """Class decorator: use the adapter for these backbone classes."""

    def register(adapter: Type[BaseStageAdapter]) -> Type[BaseStageAdapter]:
        for cls in backbone_classes:
            _ADAPTERS[cls] = adapter
        return adapter

    return register


def stage_adapter_for(net: nn.Module) -> BaseStageAdapter:
    """The adapter of ``net``'s family (nearest class in its MRO)."""
    for cls in type(net).__mro__:
        if cls in _ADAPTERS:
            return _ADAPTERS[cls]()
    known = sorted(cls.__name__ for cls in _ADAPTERS)
    raise TypeError(
        f'KINetBackbone cannot split a {type(net).__name__}: no stage adapter '
        f'is registered for it (known: {known}). Write a BaseStageAdapter for it '
        'and decorate it with @register_stage_adapter '
        '(kinet_mm/models/backbones/stage_adapters.py).')


@register_stage_adapter(ResNet)
class ResNetStageAdapter(BaseStageAdapter):
    """MMAction2's ``ResNet``: stages ``res2``..``res5`` (the paper's names) are
    ``layer1``..``layer4``; blocks are the residual blocks."""

    def stem(self, net: ResNet, x: Tensor) -> Tensor:
        return net.maxpool(net.conv1(x))

    def input_channels(self, net: ResNet) -> int:
        return net.in_channels

    def stages(self, net: ResNet) -> 'OrderedDict[str, List[nn.Module]]':
        return OrderedDict((f'res{i + 2}', list(getattr(net, layer)))
                           for i, layer in enumerate(net.res_layers))
