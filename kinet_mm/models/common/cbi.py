"""Cross Branch Integration (CBI), section 3.3 and Figure 3 of the KINet paper."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class CrossBranchIntegration(BaseModule):
    """Mix auxiliary feature maps into the action branch.

    For every auxiliary map ``x_aux`` the action map ``x`` is gated by element-wise
    multiplication and passed through a residual-like path::

        m_aux = ReLU(x + BN(x * x_aux))

    then ``[x, m_aux_1, ..., m_aux_k]`` are concatenated on channels and a 1x1 conv
    brings them back to ``C`` channels, so a CBI can sit after any residual block.

    Args:
        in_channels (int): Channels ``C`` of every input map (and of the output).
        num_aux (int): Number of auxiliary branches. Defaults to 2.
        norm_cfg (dict): Norm layer of the gating path. Defaults to BN.
        identity_init (bool): Initialise the 1x1 conv to pass the action map
            through unchanged (weights ``[I, 0, ..., 0]``), so inserting CBIs into an
            ImageNet-pretrained network leaves its output untouched at step 0; the
            auxiliary slices get gradients from the first step. Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 num_aux: int = 2,
                 norm_cfg: Dict = dict(type='BN', requires_grad=True),
                 identity_init: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_aux < 1:
            raise ValueError(f'CBI needs at least one auxiliary map, got {num_aux}')
        self.in_channels = in_channels
        self.num_aux = num_aux
        self.identity_init = identity_init
        self.gate_norms = nn.ModuleList(
            build_norm_layer(norm_cfg, in_channels)[1] for _ in range(num_aux))
        self.relu = nn.ReLU(inplace=True)
        self.fuse = nn.Conv2d(
            in_channels * (num_aux + 1), in_channels, kernel_size=1, bias=False)

    def init_weights(self) -> None:
        """Identity-initialise the fusing conv unless ``init_cfg`` says otherwise."""
        super().init_weights()
        if self.identity_init and self.init_cfg is None:
            with torch.no_grad():
                self.fuse.weight.zero_()
                eye = torch.eye(self.in_channels).view(self.in_channels,
                                                       self.in_channels, 1, 1)
                self.fuse.weight[:, :self.in_channels] = eye

    def forward(self, x: Tensor, aux_feats: Sequence[Tensor]) -> Tensor:
        """Integrate auxiliary maps into the action map.

        Args:
            x (Tensor): Action map, ``(N * num_segs, C, H, W)``.
            aux_feats (Sequence[Tensor]): ``num_aux`` maps, each of ``x``'s shape.

        Returns:
            Tensor: ``(N * num_segs, C, H, W)``.
        """
        if len(aux_feats) != self.num_aux:
            raise ValueError(f'CBI expects {self.num_aux} auxiliary maps, '
                             f'got {len(aux_feats)}')
        for aux in aux_feats:
            if aux.shape != x.shape:
                raise ValueError(f'CBI: auxiliary map of shape {tuple(aux.shape)} '
                                 f'does not match the action map {tuple(x.shape)}')
        gated = [
            self.relu(x + norm(x * aux))
            for norm, aux in zip(self.gate_norms, aux_feats)
        ]
        return self.fuse(torch.cat([x, *gated], dim=1))
