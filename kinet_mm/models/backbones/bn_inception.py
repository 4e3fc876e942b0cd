"""BN-Inception (Ioffe & Szegedy, 2015), TSN's 2D backbone, and its stages.

The layer list is the one of the Caffe ``bn_inception`` prototxt that TSN
trained with (and ``pretrainedmodels.bninception`` ports): Figure 5 of the
Batch Normalization paper's appendix, with the 5b pooling branch using max
pooling and the stride-2 modules (3c, 4e) passing the pooled input through.
It is *not* the GoogLeNet topology with BN that I3D inflates (different
widths, 5x5 convolutions instead of double 3x3, no stride-2 modules).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.batch_norm import eval_batch_norms, first_batch_norm, freeze_batch_norms
from .stage_adapters import BaseStageAdapter, register_stage_adapter

#: One inception module: ``(c1x1, (c3x3_reduce, c3x3), (cdbl_reduce, cdbl),
#: (pool, c_pool_proj), stride)``. ``c1x1 = 0``: no 1x1 branch; ``c_pool_proj
#: = 0``: the pooled input passes through (the stride-2 modules 3c and 4e).
BlockSpec = Tuple[int, Tuple[int, int], Tuple[int, int], Tuple[str, int], int]


class BNInceptionBlock(BaseModule):
    """One BN-Inception module: four parallel branches, concatenated.

    ``1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | pool (-> 1x1)``; every
    convolution is followed by BN and ReLU. With ``stride=2`` the 3x3 and the
    second double-3x3 convolutions stride, the pool is a 3x3/2 max pool and
    there is no 1x1 branch.

    Args:
        in_channels (int): Input channels.
        spec (tuple): :data:`BlockSpec` of the module.
        conv_cfg, norm_cfg, act_cfg (dict): As in :class:`mmcv.cnn.ConvModule`.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 spec: BlockSpec,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        c1x1, (c3_reduce, c3), (cd_reduce, cd), (pool, c_proj), stride = spec
        if pool not in ('avg', 'max'):
            raise ValueError(f'pool must be "avg" or "max", got {pool!r}')
        if stride == 2 and (c1x1 or c_proj or pool != 'max'):
            raise ValueError('a stride-2 BN-Inception module has no 1x1 '
                             'branch and passes its max-pooled input through')

        def conv(cin, cout, kernel, conv_stride=1):
            # No bias: the Caffe model's convolution bias in front of BN is
            # redundant (a converter folds it into BN's running mean).
            return ConvModule(
                cin,
                cout,
                kernel,
                stride=conv_stride,
                padding=kernel // 2,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        self.branch1x1 = conv(in_channels, c1x1, 1) if c1x1 else None
        self.branch3x3 = nn.Sequential(
            conv(in_channels, c3_reduce, 1), conv(c3_reduce, c3, 3, stride))
        self.branch3x3dbl = nn.Sequential(
            conv(in_channels, cd_reduce, 1), conv(cd_reduce, cd, 3),
            conv(cd, cd, 3, stride))
        # ceil_mode and count_include_pad are Caffe's pooling arithmetic: with
        # them a 3x3/2 max pool and a padded 3x3/2 convolution agree on even
        # map sizes (28 -> 14 at 224 input, 4e's 14 -> 7).
        if pool == 'max':
            pooling = nn.MaxPool2d(3, stride, padding=int(stride == 1), ceil_mode=True)
        else:
            pooling = nn.AvgPool2d(
                3, 1, padding=1, ceil_mode=True, count_include_pad=True)
        layers = [pooling] + ([conv(in_channels, c_proj, 1)] if c_proj else [])
        self.branch_pool = nn.Sequential(*layers)
        self.out_channels = c1x1 + c3 + cd + (c_proj or in_channels)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C_in, H, W)`` -> ``(N, out_channels, H / stride, W / stride)``."""
        outs = [] if self.branch1x1 is None else [self.branch1x1(x)]
        outs += [self.branch3x3(x), self.branch3x3dbl(x), self.branch_pool(x)]
        return torch.cat(outs, dim=1)


@MODELS.register_module()
class BNInception(BaseModule):
    """BN-Inception (`Batch Normalization: Accelerating Deep Network Training
    by Reducing Internal Covariate Shift <https://arxiv.org/abs/1502.03167>`_),
    the backbone of TSN.

    ``stem``: conv1 7x7/2 (64), 3x3/2 max pool, conv2 1x1 (64) + 3x3 (192),
    3x3/2 max pool; then the stages ``inception3`` (3a, 3b, 3c/2),
    ``inception4`` (4a..4d, 4e/2) and ``inception5`` (5a, 5b). A
    ``(N, 3, 224, 224)`` input gives ``(N, 1024, 7, 7)``; 10.26M parameters.

    Args:
        pretrained (str, optional): Checkpoint of this backbone's weights,
            loaded by :meth:`init_weights` (the same as ``init_cfg=dict(
            type='Pretrained', checkpoint=pretrained)``). Defaults to None.
        frozen_stages (int): Stages to freeze (BN in eval mode, parameters
            without gradients): 0 the stem, ``i`` the stem and the first ``i``
            inception stages; -1 none. Defaults to -1.
        norm_eval (bool): Keep every BN in eval mode while training.
            Defaults to False.
        partial_bn (bool): TSN's partial BN: every BN but the first in eval
            mode with frozen affine parameters. Defaults to False.
        conv_cfg, norm_cfg, act_cfg (dict): As in :class:`mmcv.cnn.ConvModule`.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Kaiming for convolutions and 1 for BN scales.
    """

    #: Stage name -> its modules' :data:`BlockSpec`, from the prototxt.
    arch: Dict[str, Sequence[BlockSpec]] = OrderedDict(
        inception3=(
            (64, (64, 64), (64, 96), ('avg', 32), 1),  # 3a: 192 -> 256
            (64, (64, 96), (64, 96), ('avg', 64), 1),  # 3b: -> 320
            (0, (128, 160), (64, 96), ('max', 0), 2),  # 3c: -> 576, /2
        ),
        inception4=(
            (224, (64, 96), (96, 128), ('avg', 128), 1),  # 4a: -> 576
            (192, (96, 128), (96, 128), ('avg', 128), 1),  # 4b: -> 576
            (160, (128, 160), (128, 160), ('avg', 128), 1),  # 4c: -> 608
            (96, (128, 192), (160, 192), ('avg', 128), 1),  # 4d: -> 608
            (0, (128, 192), (192, 256), ('max', 0), 2),  # 4e: -> 1056, /2
        ),
        inception5=(
            (352, (192, 320), (160, 224), ('avg', 128), 1),  # 5a: -> 1024
            (352, (192, 320), (192, 224), ('max', 128), 1),  # 5b: -> 1024
        ))

    def __init__(
        self,
        pretrained: Optional[str] = None,
        frozen_stages: int = -1,
        norm_eval: bool = False,
        partial_bn: bool = False,
        conv_cfg: Optional[Dict] = None,
        norm_cfg: Dict = dict(type='BN', requires_grad=True),
        act_cfg: Dict = dict(type='ReLU', inplace=True),
        init_cfg: Optional[Dict] = [
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', layer='BatchNorm2d', val=1.)
        ]
    ) -> None:
        if pretrained is not None:
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        if not -1 <= frozen_stages <= len(self.arch):
            raise ValueError(f'frozen_stages must be in [-1, {len(self.arch)}]'
                             f', got {frozen_stages}')
        self.pretrained = pretrained
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stem = nn.Sequential(
            OrderedDict(
                conv1=ConvModule(3, 64, 7, stride=2, padding=3, **layer),
                pool1=nn.MaxPool2d(3, 2, ceil_mode=True),
                conv2_reduce=ConvModule(64, 64, 1, **layer),
                conv2=ConvModule(64, 192, 3, padding=1, **layer),
                pool2=nn.MaxPool2d(3, 2, ceil_mode=True)))
        channels = 192
        for name, specs in self.arch.items():
            blocks = []
            for spec in specs:
                blocks.append(BNInceptionBlock(channels, spec, **layer))
                channels = blocks[-1].out_channels
            self.add_module(name, nn.Sequential(*blocks))
        self.feat_dim = channels

    @property
    def stage_names(self) -> List[str]:
        """``['inception3', 'inception4', 'inception5']``."""
        return list(self.arch)

    def forward(self, x: Tensor) -> Tensor:
        """``(N * num_segs, 3, H, W)`` -> ``(N * num_segs, 1024, H/32, W/32)``
        (224 -> 7)."""
        x = self.stem(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x

    def _freeze_stages(self) -> None:
        frozen = [self.stem] if self.frozen_stages >= 0 else []
        frozen += [
            getattr(self, name)
            for name in self.stage_names[:max(self.frozen_stages, 0)]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def _partial_bn(self) -> None:
        MMLogger.get_current_instance().info(
            'Freezing BatchNorm2D except the first one.')
        freeze_batch_norms(self, keep=first_batch_norm(self))

    def train(self, mode: bool = True) -> 'BNInception':
        """Train mode, then frozen stages, ``norm_eval`` and partial BN
        (as MMAction2's ``ResNet``)."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            eval_batch_norms(self)
        if mode and self.partial_bn:
            self._partial_bn()
        return self


@register_stage_adapter(BNInception)
class BNInceptionStageAdapter(BaseStageAdapter):
    """:class:`BNInception` for :class:`KINetBackbone`: the stem, then stages
    ``inception3`` (3a-3c), ``inception4`` (4a-4e), ``inception5`` (5a, 5b),
    whose blocks are the inception modules (e.g. ``('inception4', -1)`` is
    after 4e).

    64 is the smallest convenient probe: maps 16 -> 8 after the stem, 4 after
    3c and 2 after 4e stay even, so the strided convolutions and Caffe's
    ceil-mode pools agree in size.
    """

    probe_size = 64

    def stem(self, net: BNInception, x: Tensor) -> Tensor:
        return net.stem(x)

    def stages(self, net: BNInception) -> 'OrderedDict[str, List[nn.Module]]':
        return OrderedDict((name, list(getattr(net, name))) for name in net.stage_names)
