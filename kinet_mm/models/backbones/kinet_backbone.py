"""KINet's backbone: a shared low-level trunk and three high-level branches."""
from typing import Dict, Optional, Sequence, Tuple

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmaction.registry import MODELS
from torch import Tensor

from .aux_branches import StageCopyBranch

#: Paper stage names (res2..res5) for the ResNet's ``layer1..layer4``.
STAGE_NAMES = ('res2', 'res3', 'res4', 'res5')


@MODELS.register_module()
class KINetBackbone(BaseModule):
    """Split a standard MMAction2 ResNet into a trunk and parallel branches.

    The stem and the stages before ``branch_from`` form the shared trunk. The
    remaining stages of the wrapped ResNet are the **action** branch; every
    auxiliary branch (``human``, ``scene``) is a :class:`BaseAuxBranch`: by
    default a :class:`StageCopyBranch`, a learnable copy of those stages, or,
    for the Table 4 ablation, a :class:`TeacherFeatureBranch`. After
    :meth:`init_weights` (which runs the ResNet's own initialisation, so
    ``pretrained='torchvision://resnet50'`` works as in TSN) the copies are loaded
    with the action branch's weights, so all branches start from the same weights.

    Cross Branch Integration modules (:mod:`kinet_mm.models.common.cbi`) sit
    after chosen residual blocks and rewrite the action map with the auxiliary
    maps at the same position.

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
        self.aux_branches = nn.ModuleDict()
        for name in self.aux_names:
            if name in fixed_branches:
                branch = MODELS.build(
                    dict(fixed_branches[name], out_channels=stage_channels))
            else:
                branch = StageCopyBranch(self._branch_stages(),
                                         norm_eval=self.resnet.norm_eval)
            self.aux_branches[name] = branch
        self.cbis = nn.ModuleDict()
        positions = []
        for stage, block in cbi_positions:
            layer, index = self._resolve_position(stage, block)
            if cbi is None or not self.aux_names:
                raise ValueError('cbi_positions need a cbi config and at least '
                                 'one auxiliary branch')
            channels = self._block_out_channels(getattr(self.resnet, layer)[index])
            self.cbis[f'{layer}_{index}'] = MODELS.build(
                dict(cbi, in_channels=channels, num_aux=len(self.aux_names)))
            positions.append((self.branch_layers.index(layer), index))
        # Where the auxiliary maps are read: after each CBI's block, and the end.
        last = (len(self.branch_layers) - 1,
                len(getattr(self.resnet, self.branch_layers[-1])) - 1)
        self.taps = sorted(set(positions) | {last})

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

    def _branch_stages(self) -> Dict[str, nn.Module]:
        return {layer: getattr(self.resnet, layer) for layer in self.branch_layers}

    def init_weights(self) -> None:
        """Initialise the ResNet as configured, then let each auxiliary branch
        start from its branch stages (learnable copies load their weights)."""
        super().init_weights()
        for branch in self.aux_branches.values():
            branch.init_from(self._branch_stages())

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Run the trunk once, every auxiliary branch on its output, and the
        action branch with the CBIs reading the auxiliary maps.

        Args:
            x (Tensor): Frames, ``(N * num_segs, 3, H, W)``.

        Returns:
            tuple[Tensor]: One map per branch in :attr:`branch_names` order,
            each ``(N * num_segs, feat_dim, H / 32, W / 32)``.
        """
        frames = x
        x = self.resnet.maxpool(self.resnet.conv1(x))
        for layer in self.trunk_layers:
            x = getattr(self.resnet, layer)(x)
        aux = [branch(x, frames, self.taps) for branch in self.aux_branches.values()]
        action, tap = x, 0
        for stage, layer in enumerate(self.branch_layers):
            for index, block in enumerate(getattr(self.resnet, layer)):
                action = block(action)
                if (stage, index) != self.taps[tap]:
                    continue
                if f'{layer}_{index}' in self.cbis:
                    action = self.cbis[f'{layer}_{index}'](
                        action, [_resized(maps[tap], action) for maps in aux])
                tap += 1
        return (action, *[_resized(maps[-1], action) for maps in aux])


def _resized(aux: Tensor, action: Tensor) -> Tensor:
    """An auxiliary map at the action map's size (teacher maps may differ)."""
    if aux.shape[-2:] == action.shape[-2:]:
        return aux
    return F.interpolate(aux, size=action.shape[-2:], mode='bilinear',
                         align_corners=False)
