from .aux_branches import BaseAuxBranch, StageCopyBranch
from .i3d_inception_v1 import I3DInceptionV1
from .inception_v1 import InceptionV1
from .kinet_backbone import KINetBackbone
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'I3DInceptionV1', 'InceptionV1', 'KINetBackbone',
           'StageCopyBranch', 'TeacherFeatureBranch']
