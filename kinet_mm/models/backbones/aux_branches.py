"""Auxiliary branches of KINet's backbone: one interface, two kinds."""
import copy
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.batch_norm import eval_batch_norms

#: ``(stage, block)``: after block ``block`` of branch-specific stage ``stage``.
Tap = Tuple[int, int]


class BaseAuxBranch(BaseModule, metaclass=ABCMeta):
    """An auxiliary branch (human, scene) of :class:`KINetBackbone`.

    A branch reads the shared trunk's map (and, if it needs them, the input
    frames) and returns its own maps at the positions ``taps`` of the
    branch-specific stages: where a CBI reads them, and the end. Branches do
    not depend on the action branch, so the backbone runs each one in a single
    call; CBIs only read them.
    """

    @abstractmethod
    def forward(self, trunk: Tensor, frames: Tensor,
                taps: Sequence[Tap]) -> List[Tensor]:
        """The branch's maps at ``taps``.

        Args:
            trunk (Tensor): The trunk's output, ``(N * num_segs, C, h, w)``.
            frames (Tensor): The backbone's (normalised) input,
                ``(N * num_segs, 3, H, W)``.
            taps (Sequence[tuple]): Increasing ``(stage, block)`` positions.

        Returns:
            list[Tensor]: One ``(N * num_segs, C_stage, h_i, w_i)`` map per tap;
            the backbone resizes a map whose size differs from the action map's.
        """

    def init_from(self, stages: Dict[str, Sequence[nn.Module]]) -> None:
        """Called after the backbone's initialisation with the action branch's
        blocks by stage; a branch that starts from their weights copies them."""


class StageCopyBranch(BaseAuxBranch):
    """A learnable copy of the wrapped backbone's branch-specific stages.

    Each stage is an ``nn.Sequential`` of copied blocks named after the stage,
    so checkpoints hold ``aux_branches.<name>.<stage>.<block>...`` (ResNet:
    ``aux_branches.human.res4.0.conv1...``).

    Args:
        stages (dict): The action branch's blocks by stage name, in order.
        norm_eval (bool): Keep the BatchNorms in eval mode while training, as
            the wrapped backbone does with ``norm_eval``. Defaults to False.
    """

    def __init__(self,
                 stages: Dict[str, Sequence[nn.Module]],
                 norm_eval: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.stage_names = list(stages)
        for name, blocks in stages.items():
            self.add_module(name, nn.Sequential(*copy.deepcopy(list(blocks))))
        self.norm_eval = norm_eval

    def forward(self, trunk: Tensor, frames: Tensor,
                taps: Sequence[Tap]) -> List[Tensor]:
        wanted, maps, x = set(taps), [], trunk
        for stage, name in enumerate(self.stage_names):
            for block, layer in enumerate(getattr(self, name)):
                x = layer(x)
                if (stage, block) in wanted:
                    maps.append(x)
        return maps

    def init_from(self, stages: Dict[str, Sequence[nn.Module]]) -> None:
        """Start from the action branch's (e.g. ImageNet) weights."""
        for name, blocks in stages.items():
            for copied, block in zip(getattr(self, name), blocks):
                copied.load_state_dict(block.state_dict())

    def train(self, mode: bool = True) -> 'StageCopyBranch':
        super().train(mode)
        if mode and self.norm_eval:
            eval_batch_norms(self)
        return self
