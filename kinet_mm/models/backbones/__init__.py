from .aux_branches import BaseAuxBranch, StageCopyBranch
from .kinet_backbone import KINetBackbone
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'KINetBackbone', 'StageCopyBranch',
           'TeacherFeatureBranch']
