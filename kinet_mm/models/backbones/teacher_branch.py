"""A frozen teacher's features standing in for an auxiliary branch (Table 4)."""
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from torch import Tensor

from ...utils.frames import unnormalize
from .aux_branches import BaseAuxBranch, Tap


@MODELS.register_module()
class TeacherFeatureBranch(BaseAuxBranch):
    """The paper's "fixed auxiliary branches" ablation (Table 4).

    Instead of a learnable copy of the high-level stages, an auxiliary branch
    is the frozen teacher itself: its backbone maps (``extract_stages``) are
    projected by a learnable 1x1 ConvModule to the channels of the student's
    stage and stand for every block of that stage, wherever the learnable
    branch's map would be read (CBI, AKG). The backbone resizes them to the
    student's maps.

    Args:
        teacher (dict): Config of a teacher with ``extract_stages`` (e.g.
            ``MMSegHumanTeacher``, ``MMPretrainSceneTeacher``).
        stage_indices (Sequence[int]): Which of the teacher's maps stands in for
            each branch-specific student stage (e.g. res4, res5).
        in_channels (Sequence[int]): Channels of those teacher maps.
        mean (Sequence[float]): The student's input normalisation mean (its
            ``data_preprocessor``'s), to give the teacher 0-255 RGB frames.
        std (Sequence[float]): The student's normalisation std.
        out_channels (Sequence[int]): Channels of the student stages; filled in
            by :class:`KINetBackbone`.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 teacher: Dict,
                 stage_indices: Sequence[int],
                 in_channels: Sequence[int],
                 mean: Sequence[float],
                 std: Sequence[float],
                 out_channels: Sequence[int] = (),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not len(stage_indices) == len(in_channels) == len(out_channels):
            raise ValueError(
                f'TeacherFeatureBranch: {len(stage_indices)} stage_indices, '
                f'{len(in_channels)} in_channels and {len(out_channels)} '
                'out_channels (one per branch-specific student stage) must match')
        self.teacher = MODELS.build(teacher)
        self.stage_indices = list(stage_indices)
        self.adapters = nn.ModuleList(
            ConvModule(cin, cout, 1, norm_cfg=dict(type='BN'))
            for cin, cout in zip(in_channels, out_channels))
        self.mean, self.std = tuple(mean), tuple(std)

    def forward(self, trunk: Tensor, frames: Tensor,
                taps: Sequence[Tap]) -> List[Tensor]:
        """Adapted teacher maps ``(N * num_segs, C_stage, h, w)``, one per tap,
        at the teacher's resolution; the trunk's map is not used."""
        maps = self.teacher.extract_stages(unnormalize(frames, self.mean, self.std))
        adapted = {
            stage: self.adapters[stage](maps[self.stage_indices[stage]])
            for stage in sorted({stage
                                 for stage, _ in taps})
        }
        return [adapted[stage] for stage, _ in taps]
