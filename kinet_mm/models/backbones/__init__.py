from .aux_branches import BaseAuxBranch, StageCopyBranch
from .efficientnet_adapter import MMPretrainEfficientNetStageAdapter
from .efficientnet_lite import EfficientNetLite, EfficientNetLiteStageAdapter
from .kinet_backbone import KINetBackbone
from .stage_adapters import (BaseStageAdapter, ResNetStageAdapter,
                             register_stage_adapter, stage_adapter_for)
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'BaseStageAdapter', 'EfficientNetLite',
           'EfficientNetLiteStageAdapter', 'KINetBackbone',
           'MMPretrainEfficientNetStageAdapter', 'ResNetStageAdapter',
           'StageCopyBranch', 'TeacherFeatureBranch', 'register_stage_adapter',
           'stage_adapter_for']
