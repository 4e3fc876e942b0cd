"""DenseNet that keeps 1/8 resolution, the backbone of the LIP human parser."""
from typing import Sequence

from mmpretrain.models.backbones import DenseNet
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class DenseNetStride8(DenseNet):
    """MMPretrain's DenseNet with per-transition strides and no final norm.

    The PSPNet of Single-Human-Parsing-LIP (KINet's human parsing teacher) uses
    DenseNet-121 as a segmentation backbone at output stride 8: only the first
    transition pools with stride 2, the second and third pool with a 1x1 window
    (an identity), and the last dense block's output goes to the PSP head with
    no BatchNorm + ReLU after it.

    Args:
        transition_strides (Sequence[int]): Pooling stride of each transition
            between dense blocks, 2 (average pooling 2x2) or 1 (none).
            Defaults to ``(2, 1, 1)``: 1024 channels at 1/8 for DenseNet-121.
        final_norm (bool): Keep MMPretrain's BatchNorm + ReLU after the last
            dense block. Defaults to False.
        **kwargs: :class:`mmpretrain.models.DenseNet`'s arguments (``arch``,
            ``out_indices``, ``norm_cfg``, ...).
    """

    def __init__(self,
                 transition_strides: Sequence[int] = (2, 1, 1),
                 final_norm: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if len(transition_strides
               ) != self.num_stages - 1 or not set(transition_strides) <= {1, 2}:
            raise ValueError(
                f'DenseNetStride8: transition_strides={transition_strides} '
                f'needs {self.num_stages - 1} entries, each 1 or 2')
        for transition, stride in zip(self.transitions, transition_strides):
            if stride == 1:
                transition.pool = nn.Identity()
        if not final_norm:
            self.transitions[-1] = nn.Identity()
