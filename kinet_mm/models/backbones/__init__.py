from .kinet_backbone import KINetBackbone
from .teacher_branch import TeacherFeatureBranch

__all__ = ['KINetBackbone', 'TeacherFeatureBranch']
