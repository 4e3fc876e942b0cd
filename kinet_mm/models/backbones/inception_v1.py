"""Inception-v1 (GoogLeNet) with batch normalisation, the network I3D inflates."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.batch_norm import eval_batch_norms
from .stage_adapters import BaseStageAdapter, register_stage_adapter

#: GoogLeNet's inception widths (Szegedy et al., CVPR 2015, Table 1): ``#1x1``,
#: ``#3x3 reduce``, ``#3x3``, ``#5x5 reduce``, ``#5x5``, ``pool proj``.
INCEPTION_WIDTHS = OrderedDict(
    mixed_3b=(64, 96, 128, 16, 32, 32),
    mixed_3c=(128, 128, 192, 32, 96, 64),
    mixed_4b=(192, 96, 208, 16, 48, 64),
    mixed_4c=(160, 112, 224, 24, 64, 64),
    mixed_4d=(128, 128, 256, 24, 64, 64),
    mixed_4e=(112, 144, 288, 32, 64, 64),
    mixed_4f=(256, 160, 320, 32, 128, 128),
    mixed_5b=(256, 160, 320, 32, 128, 128),
    mixed_5c=(384, 192, 384, 48, 128, 128),
)

#: ``InceptionV1(pool_mode=...)``: MMAction2's padded pools, torchvision's.
POOL_MODES = ('pad', 'ceil')

#: Stages after the stem: each starts with the max-pool that halves the map
#: (named as in TF-slim's ``MaxPool_3a/4a/5a``) and holds its mixed blocks.
STAGES = OrderedDict(
    mixed_3=('pool3a', 'mixed_3b', 'mixed_3c'),
    mixed_4=('pool4a', 'mixed_4b', 'mixed_4c', 'mixed_4d', 'mixed_4e', 'mixed_4f'),
    mixed_5=('pool5a', 'mixed_5b', 'mixed_5c'),
)


class InceptionModule(BaseModule):
    """One inception module: four parallel branches, concatenated on channels.

    ``branch0``: 1x1 conv; ``branch1``: 1x1 -> 3x3; ``branch2``: 1x1 -> KxK;
    ``branch3``: 3x3 max-pool (stride 1) -> 1x1. Every conv is followed by BN and
    ReLU (ConvModule).

    Args:
        in_channels (int): Input channels.
        widths (Sequence[int]): The six widths of :data:`INCEPTION_WIDTHS`.
        branch2_kernel_size (int): ``K``. 5 in GoogLeNet; 3 in TF-slim's
            Inception-v1, the network I3D inflates (Figure 3 of the I3D paper
            draws two 3x3x3 branches).
        conv_cfg, norm_cfg, act_cfg (dict): Layers of every ConvModule.
    """

    def __init__(self, in_channels: int, widths: Sequence[int],
                 branch2_kernel_size: int, conv_cfg: Optional[Dict], norm_cfg: Dict,
                 act_cfg: Dict) -> None:
        super().__init__()
        b0, b1_reduce, b1, b2_reduce, b2, b3 = widths
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=False)
        self.branch0 = ConvModule(in_channels, b0, 1, **layer)
        self.branch1 = nn.Sequential(
            ConvModule(in_channels, b1_reduce, 1, **layer),
            ConvModule(b1_reduce, b1, 3, padding=1, **layer))
        self.branch2 = nn.Sequential(
            ConvModule(in_channels, b2_reduce, 1, **layer),
            ConvModule(
                b2_reduce,
                b2,
                branch2_kernel_size,
                padding=branch2_kernel_size // 2,
                **layer))
        self.branch3 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), ConvModule(in_channels, b3, 1,
                                                             **layer))
        self.out_channels = b0 + b1 + b2 + b3

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C_in, [T,] H, W)`` -> ``(N, out_channels, [T,] H, W)``."""
        return torch.cat(
            [self.branch0(x),
             self.branch1(x),
             self.branch2(x),
             self.branch3(x)], dim=1)


@MODELS.register_module()
class InceptionV1(BaseModule):
    """Inception-v1 (GoogLeNet topology) with BN after every convolution.

    conv 7x7/2 (64) - maxpool 3x3/2 - conv 1x1 (64) - conv 3x3 (192) -
    maxpool 3x3/2 - mixed 3b, 3c - maxpool 3x3/2 - mixed 4b..4f -
    maxpool 2x2/2 - mixed 5b, 5c, i.e. the TF-slim ``inception_v1`` that I3D
    inflates (section 2.4 and Figure 3 of the I3D paper): no LRN, no auxiliary
    classifiers, and no classifier (the recognizer's head pools and classifies).
    This is not BN-Inception (Inception-v2), whose mixed blocks use double 3x3
    convolutions and stride-2 inception modules.

    The layers are named as TF-slim's (``conv1a`` = ``Conv2d_1a_7x7``,
    ``pool2a``, ``conv2b``, ``conv2c``, ``pool3a``, ``mixed_3b``, ...); the
    stem is ``conv1a`` .. ``conv2c`` (stride 4) and :data:`STAGES` groups the
    rest into three stages at strides 8, 16, 32. The forward pass only calls the
    modules, so the same code runs the inflated 3D network
    (:class:`I3DInceptionV1`). By default the stride-2 max-pools pad
    symmetrically (``(k - 1) // 2``) and round down, MMAction2's convention;
    ``pool_mode='ceil'`` gives torchvision GoogLeNet's pools instead (no
    padding, ``ceil_mode=True``; TF-slim's ``SAME`` pooling on even-sized maps),
    the pooling its converted ImageNet weights were trained with. The output
    sizes agree at 224x224, but every window of the three 3x3 pools is shifted
    by one pixel between the two modes.

    Args:
        in_channels (int): Input channels (3 for RGB). Defaults to 3.
        branch2_kernel_size (int): Kernel of the inception modules' second
            reducing branch: 3 (TF-slim, I3D; the default) or 5 (GoogLeNet).
        pool_mode (str): The stride-2 max-pools (``pool2a`` .. ``pool5a``):
            ``'pad'`` (the default): padding ``(k - 1) // 2``, rounding down;
            ``'ceil'``: no padding, rounding up, as torchvision's GoogLeNet
            (use it with weights converted from torchvision,
            :mod:`kinet_mm.converters.googlenet`).
        conv_cfg (dict, optional): Conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_eval (bool): Keep BN layers in eval mode while training (frozen
            statistics). Defaults to False.
        init_cfg (dict, optional): Initialization config, e.g.
            ``dict(type='Pretrained', checkpoint=...)``. Defaults to None
            (ConvModule's Kaiming init).
    """

    def __init__(self,
                 in_channels: int = 3,
                 branch2_kernel_size: int = 3,
                 pool_mode: str = 'pad',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN', requires_grad=True),
                 act_cfg: Dict = dict(type='ReLU', inplace=True),
                 norm_eval: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if branch2_kernel_size not in (3, 5):
            raise ValueError('branch2_kernel_size must be 3 (TF-slim/I3D) or 5 '
                             f'(GoogLeNet), got {branch2_kernel_size}')
        if pool_mode not in POOL_MODES:
            raise ValueError(f'pool_mode must be one of {POOL_MODES}, got '
                             f'{pool_mode!r}')
        self.pool_mode = pool_mode
        self.norm_eval = norm_eval
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=False)
        self.conv1a = ConvModule(in_channels, 64, 7, stride=2, padding=3, **layer)
        self.pool2a = self._pool(3)
        self.conv2b = ConvModule(64, 64, 1, **layer)
        self.conv2c = ConvModule(64, 192, 3, padding=1, **layer)
        self.stem_names = ('conv1a', 'pool2a', 'conv2b', 'conv2c')
        pools = dict(pool3a=3, pool4a=3, pool5a=2)
        channels = 192
        for stage in STAGES.values():
            for name in stage:
                if name in pools:
                    self.add_module(name, self._pool(pools[name]))
                    continue
                block = InceptionModule(channels, INCEPTION_WIDTHS[name],
                                        branch2_kernel_size, conv_cfg, norm_cfg,
                                        act_cfg)
                self.add_module(name, block)
                channels = block.out_channels
        self.feat_dim = channels

    def _pool(self, kernel: int) -> nn.MaxPool2d:
        """A stride-2 max-pool of ``kernel`` in :attr:`pool_mode`."""
        if self.pool_mode == 'ceil':
            return nn.MaxPool2d(kernel, stride=2, ceil_mode=True)
        return nn.MaxPool2d(kernel, stride=2, padding=(kernel - 1) // 2)

    def stages(self) -> 'OrderedDict[str, list]':
        """Stage name -> its blocks (a max-pool, then mixed blocks)."""
        return OrderedDict((stage, [getattr(self, name) for name in names])
                           for stage, names in STAGES.items())

    def stem(self, x: Tensor) -> Tensor:
        """conv1a .. conv2c: ``(N, 3, [T,] H, W)`` -> ``(N, 192, [T',] H/4, W/4)``."""
        for name in self.stem_names:
            x = getattr(self, name)(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Features of the last mixed block.

        Args:
            x (Tensor): ``(N, 3, H, W)`` frames (or ``(N, 3, T, H, W)`` clips
                once inflated).

        Returns:
            Tensor: ``(N, 1024, H / 32, W / 32)`` (``(N, 1024, T', H / 32,
            W / 32)`` once inflated).
        """
        x = self.stem(x)
        for blocks in self.stages().values():
            for block in blocks:
                x = block(x)
        return x

    def train(self, mode: bool = True) -> 'InceptionV1':
        """Set train mode; with ``norm_eval`` the BN layers stay in eval mode."""
        super().train(mode)
        if mode and self.norm_eval:
            eval_batch_norms(self)
        return self


@register_stage_adapter(InceptionV1)
class InceptionV1StageAdapter(BaseStageAdapter):
    """How :class:`KINetBackbone` splits :class:`InceptionV1`: the stem is
    conv1a..conv2c; stages ``mixed_3``/``mixed_4``/``mixed_5`` (strides 8, 16,
    32, KINet's res3/res4/res5 counterparts) are their first max-pool followed
    by their mixed blocks, so block ``-1`` is the last mixed block."""

    #: 32 -> 1x1 after the four halvings and pool5a's 2x2 window.
    probe_size = 32

    def stem(self, net: InceptionV1, x: Tensor) -> Tensor:
        return net.stem(x)

    def stages(self, net: InceptionV1) -> 'OrderedDict[str, list]':
        return net.stages()
