from .aux_branches import BaseAuxBranch, StageCopyBranch
from .efficientnet_adapter import MMPretrainEfficientNetStageAdapter
from .efficientnet_lite import EfficientNetLite, EfficientNetLiteStageAdapter
from .kinet_backbone import KINetBackbone
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'EfficientNetLite', 'EfficientNetLiteStageAdapter',
           'KINetBackbone', 'MMPretrainEfficientNetStageAdapter',
           'StageCopyBranch', 'TeacherFeatureBranch']
