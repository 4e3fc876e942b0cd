"""KINet's backbone: a shared low-level trunk and three high-level branches."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleDict
from torch import Tensor

from ..utils.batch_norm import first_batch_norm, freeze_batch_norms
from .aux_branches import StageCopyBranch
from .stage_adapters import stage_adapter_for


@MODELS.register_module()
class KINetBackbone(BaseModule):
    """Split any staged 2D backbone into a trunk and parallel branches.

    The wrapped network (MMAction2's ``ResNet``, MMPretrain backbones, ...) is
    read through its family's stage adapter
    (:mod:`kinet_mm.models.backbones.stage_adapters`): a stem and named stages
    of blocks. The stem and the stages before ``branch_from`` form the shared
    trunk. The remaining stages are the **action** branch; every auxiliary
    branch (``human``, ``scene``) is a :class:`BaseAuxBranch`: by default a
    :class:`StageCopyBranch`, a learnable copy of those stages, or, for the
    Table 4 ablation, a :class:`TeacherFeatureBranch`. After
    :meth:`init_weights` (which runs the wrapped network's own initialisation,
    so ``pretrained``/``init_cfg`` work as in TSN) the copies are loaded with the
    action branch's weights, so all branches start from the same weights.

    Cross Branch Integration modules (:mod:`kinet_mm.models.common.cbi`) sit
    after chosen blocks and rewrite the action map with the auxiliary maps at
    the same position.

    Args:
        backbone (dict): Config of a 2D backbone with a registered stage adapter.
        branch_from (str): First branch-specific stage; any stage but the first
            (ResNet: ``'res3'``..``'res5'``). Defaults to ``'res4'`` (the paper
            puts CBIs in res4 and res5).
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
        partial_bn (bool): Freeze every BatchNorm (statistics and affine
            parameters) of the trunk, all branches and the CBIs except the first
            one of the trunk, as TSN and the paper's UCF-101 fine-tuning do
            (MMAction2 ResNet's ``partial_bn`` rule over all branches; KINet
            freezes its heads' BatchNorms too). Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 backbone: Dict,
                 branch_from: str = 'res4',
                 aux_branches: Sequence[str] = ('human', 'scene'),
                 cbi: Optional[Dict] = dict(type='CrossBranchIntegration'),
                 cbi_positions: Sequence[Tuple[str,
                                               int]] = (('res4', -1), ('res5', -1)),
                 fixed_branches: Optional[Dict] = None,
                 partial_bn: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.net = MODELS.build(backbone)
        self.adapter = stage_adapter_for(self.net)
        # Plain attribute: the blocks are registered inside self.net already.
        self._blocks: Dict[str, List[nn.Module]] = self.adapter.stages(self.net)
        self.stage_names = tuple(self._blocks)
        if branch_from not in self.stage_names[1:]:
            raise ValueError(f'branch_from must be one of {self.stage_names[1:]} '
                             f'(stages of {type(self.net).__name__} after the '
                             f'first), got {branch_from!r}')
        first = self.stage_names.index(branch_from)
        self.trunk_stages = self.stage_names[:first]
        self.branch_stages = self.stage_names[first:]
        self.block_channels = self._probe_channels()
        self.partial_bn = partial_bn
        self.aux_names = tuple(aux_branches)
        fixed_branches = fixed_branches or {}
        unknown = set(fixed_branches) - set(self.aux_names)
        if unknown:
            raise ValueError(f'fixed_branches {sorted(unknown)} are not among '
                             f'aux_branches {self.aux_names}')
        stage_channels = [
            self.block_channels[stage][-1] for stage in self.branch_stages
        ]
        # MMEngine's ModuleDict: BaseModule.init_weights skips a torch
        # container's children, so the CBIs' identity init would never run.
        self.aux_branches = ModuleDict()
        for name in self.aux_names:
            if name in fixed_branches:
                branch = MODELS.build(
                    dict(fixed_branches[name], out_channels=stage_channels))
            else:
                branch = StageCopyBranch(
                    self._branch_blocks(), norm_eval=self.adapter.norm_eval(self.net))
            self.aux_branches[name] = branch
        self.cbis = ModuleDict()
        positions = []
        for stage, block in cbi_positions:
            index = self._resolve_position(stage, block)
            if cbi is None or not self.aux_names:
                raise ValueError('cbi_positions need a cbi config and at least '
                                 'one auxiliary branch')
            self.cbis[f'{stage}_{index}'] = MODELS.build(
                dict(
                    cbi,
                    in_channels=self.block_channels[stage][index],
                    num_aux=len(self.aux_names)))
            positions.append((self.branch_stages.index(stage), index))
        # Where the auxiliary maps are read: after each CBI's block, and the end.
        last = (len(self.branch_stages) - 1,
                len(self._blocks[self.branch_stages[-1]]) - 1)
        self.taps = sorted(set(positions) | {last})

    @property
    def branch_names(self) -> Tuple[str, ...]:
        """``('action', *aux_branches)``, the order of :meth:`forward`'s output."""
        return ('action', ) + self.aux_names

    @property
    def feat_dim(self) -> int:
        """Channels of every branch's output map."""
        return self.block_channels[self.stage_names[-1]][-1]

    @property
    def last_action_layer(self) -> str:
        """Name (``.``-separated) of the module giving the action map: the CBI
        after the last block if there is one, else that block."""
        stage = self.branch_stages[-1]
        last = len(self._blocks[stage]) - 1
        if f'{stage}_{last}' in self.cbis:
            return f'cbis.{stage}_{last}'
        block = self._blocks[stage][last]
        return next(f'net.{name}' for name, module in self.net.named_modules()
                    if module is block)

    def _probe_channels(self) -> Dict[str, List[int]]:
        """Output channels of every block, from one small forward pass."""
        size = self.adapter.probe_size
        in_channels = self.adapter.input_channels(self.net)
        training = self.net.training
        self.net.eval()
        channels = {}
        with torch.no_grad():
            x = self.adapter.stem(self.net, torch.zeros(1, in_channels, size, size))
            for stage, blocks in self._blocks.items():
                channels[stage] = []
                for block in blocks:
                    x = block(x)
                    channels[stage].append(x.shape[1])
        self.net.train(training)
        return channels

    def _resolve_position(self, stage: str, block: int) -> int:
        if stage not in self.stage_names:
            raise ValueError(f'unknown CBI stage {stage!r}; the stages of '
                             f'{type(self.net).__name__} are {self.stage_names}')
        if stage not in self.branch_stages:
            raise ValueError(f'CBI at {stage} needs per-branch {stage}: set '
                             f'branch_from to {stage} or earlier')
        num_blocks = len(self._blocks[stage])
        if not -num_blocks <= block < num_blocks:
            raise ValueError(f'{stage} has {num_blocks} blocks; no block {block}')
        return block % num_blocks

    def _branch_blocks(self) -> Dict[str, List[nn.Module]]:
        return {stage: self._blocks[stage] for stage in self.branch_stages}

    def init_weights(self) -> None:
        """Initialise the wrapped network as configured, then let each auxiliary
        branch start from the branch stages (learnable copies load their
        weights)."""
        super().init_weights()
        for branch in self.aux_branches.values():
            branch.init_from(self._branch_blocks())

    def train(self, mode: bool = True) -> 'KINetBackbone':
        """Set the mode; with ``partial_bn``, freeze every BatchNorm but the
        trunk's first (module order of the wrapped network comes first)."""
        super().train(mode)
        if mode and self.partial_bn:
            freeze_batch_norms(self, keep=first_batch_norm(self.net))
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Run the trunk once, every auxiliary branch on its output, and the
        action branch with the CBIs reading the auxiliary maps.

        Args:
            x (Tensor): Frames, ``(N * num_segs, 3, H, W)``.

        Returns:
            tuple[Tensor]: One map per branch in :attr:`branch_names` order,
            each ``(N * num_segs, feat_dim, h, w)`` (ResNet: ``H / 32``).
        """
        frames = x
        x = self.adapter.stem(self.net, x)
        for stage in self.trunk_stages:
            for block in self._blocks[stage]:
                x = block(x)
        aux = [branch(x, frames, self.taps) for branch in self.aux_branches.values()]
        action, tap = x, 0
        for position, stage in enumerate(self.branch_stages):
            for index, block in enumerate(self._blocks[stage]):
                action = block(action)
                if (position, index) != self.taps[tap]:
                    continue
                if f'{stage}_{index}' in self.cbis:
                    action = self.cbis[f'{stage}_{index}'](
                        action, [_resized(maps[tap], action) for maps in aux])
                tap += 1
        return (action, *[_resized(maps[-1], action) for maps in aux])


def _resized(aux: Tensor, action: Tensor) -> Tensor:
    """An auxiliary map at the action map's size (teacher maps may differ)."""
    if aux.shape[-2:] == action.shape[-2:]:
        return aux
    return F.interpolate(
        aux, size=action.shape[-2:], mode='bilinear', align_corners=False)
