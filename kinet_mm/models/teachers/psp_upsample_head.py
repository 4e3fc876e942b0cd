"""The PSP decode head of the LIP human parser (Single-Human-Parsing-LIP)."""
from typing import List, Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class PSPUpsampleHead(BaseDecodeHead):
    """Pyramid pooling, then learned x2 upsampling stages back to full size.

    Differs from MMSeg's :class:`PSPHead` in what the LIP checkpoint holds:
    each pyramid branch is a bare 1x1 convolution (no norm, no activation), the
    bottleneck is a 1x1 convolution with bias + ReLU, and instead of one
    classifier at 1/8 three stages each upsample x2 (bilinear) then apply
    3x3 convolution + BN + PReLU, so the classifier (``conv_seg``) runs at the
    input resolution.

    Args:
        pool_scales (Sequence[int]): Output sizes of the pyramid's adaptive
            average poolings. Defaults to ``(1, 2, 3, 6)``.
        psp_channels (int): Channels after the bottleneck. Defaults to 1024.
        psp_dropout_ratio (float): Dropout after the bottleneck. Defaults to 0.3.
        up_channels (Sequence[int]): Output channels of the upsampling stages;
            ``channels`` must equal the last. Defaults to ``(256, 64, 64)``.
        dropout_ratio (float): Dropout after each upsampling stage (the one
            after the last is ``conv_seg``'s). Defaults to 0.15.
        **kwargs: :class:`BaseDecodeHead`'s arguments (``in_channels``,
            ``channels``, ``num_classes``, ``norm_cfg``, ``align_corners``...).
    """

    def __init__(self,
                 pool_scales: Sequence[int] = (1, 2, 3, 6),
                 psp_channels: int = 1024,
                 psp_dropout_ratio: float = 0.3,
                 up_channels: Sequence[int] = (256, 64, 64),
                 dropout_ratio: float = 0.15,
                 **kwargs) -> None:
        super().__init__(dropout_ratio=dropout_ratio, **kwargs)
        if self.channels != up_channels[-1]:
            raise ValueError(
                f'PSPUpsampleHead: channels={self.channels} must equal the last '
                f'of up_channels={tuple(up_channels)} (conv_seg reads it)')
        c = self.in_channels
        self.psp_stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(scale), nn.Conv2d(c, c, 1, bias=False))
            for scale in pool_scales)
        self.bottleneck = ConvModule(
            c * (len(pool_scales) + 1),
            psp_channels,
            1,
            bias=True,
            norm_cfg=None,
            act_cfg=dict(type='ReLU'))
        self.psp_dropout = nn.Dropout2d(psp_dropout_ratio)
        ins = [psp_channels] + list(up_channels[:-1])
        # The checkpoint has a bias on these convolutions although a BN follows.
        self.up_stages = nn.ModuleList(
            ConvModule(
                cin,
                cout,
                3,
                padding=1,
                bias=True,
                norm_cfg=self.norm_cfg,
                act_cfg=dict(type='PReLU')) for cin, cout in zip(ins, up_channels))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Segmentation logits.

        Args:
            inputs (list[Tensor]): Backbone maps; ``in_index`` picks the
                ``(B, in_channels, h, w)`` one.

        Returns:
            Tensor: ``(B, num_classes, 8h, 8w)`` logits (input resolution for
            a stride-8 backbone).
        """
        x = self._transform_inputs(inputs)
        size = x.shape[2:]
        priors = [
            resize(
                stage(x), size=size, mode='bilinear', align_corners=self.align_corners)
            for stage in self.psp_stages
        ]
        x = self.psp_dropout(self.bottleneck(torch.cat(priors + [x], dim=1)))
        for i, stage in enumerate(self.up_stages):
            x = resize(
                x,
                size=(2 * x.shape[2], 2 * x.shape[3]),
                mode='bilinear',
                align_corners=self.align_corners)
            x = stage(x)
            if i < len(self.up_stages) - 1 and self.dropout is not None:
                x = self.dropout(x)
        return self.cls_seg(x)
