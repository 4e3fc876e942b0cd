"""KINet's backbone: a shared low-level trunk and three high-level branches."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmaction.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

#: Paper stage names (res2..res5) for the ResNet's ``layer1..layer4``.
STAGE_NAMES = ('res2', 'res3', 'res4', 'res5')


@MODELS.register_module()
class KINetBackbone(BaseModule):
    """Split a standard MMAction2 ResNet into a trunk and parallel branches.

    The stem and the stages before ``branch_from`` form the shared trunk. The
    remaining stages of the wrapped ResNet are the **action** branch; every
    auxiliary branch (``human``, ``scene``) owns a deep copy of them. After
    :meth:`init_weights` (which runs the ResNet's own initialisation, so
    ``pretrained='torchvision://resnet50'`` works as in TSN) the copies are loaded
    with the action branch's weights, so all branches start from the same weights.

    Cross Branch Integration modules sit after chosen residual blocks of the
    branches and rewrite the action map with the auxiliary maps.

    Args:
        backbone (dict): Config of an MMAction2 ``ResNet``.
        branch_from (str): First branch-specific stage, ``'res3'``..``'res5'``.
            Defaults to ``'res4'`` (the paper puts CBIs in res4 and res5).
        aux_branches (Sequence[str]): Names of the auxiliary branches.
            Defaults to ``('human', 'scene')``.
        cbi (dict, optional): Config of the CBI module; its ``in_channels`` and
            ``num_aux`` are filled in. Defaults to ``CrossBranchIntegration``.
        cbi_positions (Sequence[tuple]): ``(stage, block)`` pairs: a CBI after
            block ``block`` (Python index, ``-1`` = last) of stage ``stage``.
            Defaults to ``(('res4', -1), ('res5', -1))``, the paper's choice.
        fixed_branches (dict, optional): ``{name: TeacherFeatureBranch config}``
            for auxiliary branches replaced by a frozen teacher's features (the
            paper's Table 4 ablation); their ``out_channels`` are filled in.
            Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 backbone: Dict,
                 branch_from: str = 'res4',
                 aux_branches: Sequence[str] = ('human', 'scene'),
                 cbi: Optional[Dict] = dict(type='CrossBranchIntegration'),
                 cbi_positions: Sequence[Tuple[str, int]] = (('res4', -1),
                                                             ('res5', -1)),
                 fixed_branches: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.resnet = MODELS.build(backbone)
        if branch_from not in STAGE_NAMES[1:]:
            raise ValueError(f'branch_from must be one of {STAGE_NAMES[1:]}, '
                             f'got {branch_from!r}')
        first = STAGE_NAMES.index(branch_from)
        self.trunk_layers = self.resnet.res_layers[:first]
        self.branch_layers = self.resnet.res_layers[first:]
        self.aux_names = tuple(aux_branches)
        fixed_branches = fixed_branches or {}
        unknown = set(fixed_branches) - set(self.aux_names)
        if unknown:
            raise ValueError(f'fixed_branches {sorted(unknown)} are not among '
                             f'aux_branches {self.aux_names}')
        stage_channels = [self._block_out_channels(getattr(self.resnet, layer)[-1])
                          for layer in self.branch_layers]
        self.fixed_branches = nn.ModuleDict({
            name: MODELS.build(dict(cfg, out_channels=stage_channels))
            for name, cfg in fixed_branches.items()
        })
        self.aux_branches = nn.ModuleDict({
            name: nn.ModuleDict({
                layer: copy.deepcopy(getattr(self.resnet, layer))
                for layer in self.branch_layers
            })
            for name in self.aux_names if name not in self.fixed_branches
        })
        self.cbis = nn.ModuleDict()
        for stage, block in cbi_positions:
            layer, index = self._resolve_position(stage, block)
            if cbi is None or not self.aux_names:
                raise ValueError('cbi_positions need a cbi config and at least '
                                 'one auxiliary branch')
            channels = self._block_out_channels(getattr(self.resnet, layer)[index])
            self.cbis[f'{layer}_{index}'] = MODELS.build(
                dict(cbi, in_channels=channels, num_aux=len(self.aux_names)))

    @property
    def branch_names(self) -> Tuple[str, ...]:
        """``('action', *aux_branches)``, the order of :meth:`forward`'s output."""
        return ('action', ) + self.aux_names

    @property
    def feat_dim(self) -> int:
        """Channels of every branch's output map."""
        return self.resnet.feat_dim

    def _resolve_position(self, stage: str, block: int) -> Tuple[str, int]:
        if stage not in STAGE_NAMES:
            raise ValueError(f'unknown CBI stage {stage!r}; use {STAGE_NAMES}')
        layer = f'layer{STAGE_NAMES.index(stage) + 1}'
        if layer not in self.branch_layers:
            raise ValueError(f'CBI at {stage} needs per-branch {stage}: set '
                             f'branch_from to {stage} or earlier')
        num_blocks = len(getattr(self.resnet, layer))
        if not -num_blocks <= block < num_blocks:
            raise ValueError(f'{stage} has {num_blocks} blocks; no block {block}')
        return layer, block % num_blocks

    @staticmethod
    def _block_out_channels(block: nn.Module) -> int:
        last_conv = getattr(block, 'conv3', None) or block.conv2
        return last_conv.conv.out_channels

    def init_weights(self) -> None:
        """Initialise the ResNet as configured, then copy its branch stages."""
        super().init_weights()
        for branch in self.aux_branches.values():  # fixed branches keep theirs
            for layer, module in branch.items():
                module.load_state_dict(getattr(self.resnet, layer).state_dict())

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Run the trunk once and every branch on its output.

        Args:
            x (Tensor): Frames, ``(N * num_segs, 3, H, W)``.

        Returns:
            tuple[Tensor]: One map per branch in :attr:`branch_names` order,
            each ``(N * num_segs, feat_dim, H / 32, W / 32)``.
        """
        fixed_maps = {name: branch(x) for name, branch in self.fixed_branches.items()}
        x = self.resnet.maxpool(self.resnet.conv1(x))
        for layer in self.trunk_layers:
            x = getattr(self.resnet, layer)(x)
        action, aux = x, [x] * len(self.aux_names)
        for stage, layer in enumerate(self.branch_layers):
            for index, block in enumerate(getattr(self.resnet, layer)):
                action = block(action)
                aux = [
                    self._aux_block(name, layer, index, feat, fixed_maps, stage,
                                    action.shape[-2:])
                    for name, feat in zip(self.aux_names, aux)
                ]
                if f'{layer}_{index}' in self.cbis:
                    action = self.cbis[f'{layer}_{index}'](action, aux)
        return (action, *aux)

    def _aux_block(self, name: str, layer: str, index: int, feat: Tensor,
                   fixed_maps: Dict[str, list], stage: int,
                   size: torch.Size) -> Tensor:
        """Advance one auxiliary branch by one residual block."""
        if name not in self.fixed_branches:
            return self.aux_branches[name][layer][index](feat)
        if index:  # a teacher map stands for its whole stage
            return feat
        return F.interpolate(fixed_maps[name][stage], size=size, mode='bilinear',
                             align_corners=False)

    def train(self, mode: bool = True) -> 'KINetBackbone':
        """Apply the ResNet's ``norm_eval``/frozen stages to every branch."""
        super().train(mode)  # the ResNet applies them to its own stages
        if mode and self.resnet.norm_eval:
            for module in self.aux_branches.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
