"""A frozen teacher's features standing in for an auxiliary branch (Table 4)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmaction.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class TeacherFeatureBranch(BaseModule):
    """The paper's "fixed auxiliary branches" ablation (Table 4).

    Instead of a learnable copy of the high-level ResNet stages, an auxiliary
    branch is the frozen teacher itself: its backbone maps (``extract_stages``)
    are projected by a learnable 1x1 ConvModule to the channels of the student's
    stage and used wherever the learnable branch's map would be (CBI, AKG).

    Args:
        teacher (dict): Config of a teacher with ``extract_stages`` (e.g.
            ``MMSegHumanTeacher``, ``MMPretrainSceneTeacher``).
        stage_indices (Sequence[int]): Which of the teacher's maps stands in for
            each branch-specific student stage (e.g. res4, res5).
        in_channels (Sequence[int]): Channels of those teacher maps.
        out_channels (Sequence[int]): Channels of the student stages; filled in
            by :class:`KINetBackbone`.
        student_mean (Sequence[float]): The student's normalisation mean, to
            recover raw frames. Defaults to ImageNet's on the 0-255 scale.
        student_std (Sequence[float]): The student's normalisation std.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 teacher: Dict,
                 stage_indices: Sequence[int],
                 in_channels: Sequence[int],
                 out_channels: Sequence[int] = (),
                 student_mean: Sequence[float] = (123.675, 116.28, 103.53),
                 student_std: Sequence[float] = (58.395, 57.12, 57.375),
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
        self.register_buffer('student_mean',
                             torch.tensor(student_mean).view(1, 3, 1, 1), False)
        self.register_buffer('student_std',
                             torch.tensor(student_std).view(1, 3, 1, 1), False)

    def forward(self, frames: Tensor) -> List[Tensor]:
        """Adapted teacher maps, one per branch-specific student stage.

        Args:
            frames (Tensor): Student-normalised frames ``(N * num_segs, 3, H, W)``.

        Returns:
            list[Tensor]: ``(N * num_segs, C_stage, h, w)`` each, at the teacher's
            resolution (the backbone resizes them to the student's).
        """
        raw = frames * self.student_std + self.student_mean
        maps = self.teacher.extract_stages(raw)
        return [adapter(maps[i]) for adapter, i in zip(self.adapters,
                                                          self.stage_indices)]

