from .aux_branches import BaseAuxBranch, StageCopyBranch
from .bn_inception import BNInception, BNInceptionStageAdapter
from .kinet_backbone import KINetBackbone
from .mmpretrain_adapters import (InceptionV3StageAdapter,
                                  MMPretrainResNetStageAdapter)
from .stage_adapters import (BaseStageAdapter, ResNetStageAdapter,
                             register_stage_adapter, stage_adapter_for)
from .teacher_branch import TeacherFeatureBranch

__all__ = [
    'BaseAuxBranch', 'BaseStageAdapter', 'BNInception',
    'BNInceptionStageAdapter', 'InceptionV3StageAdapter', 'KINetBackbone',
    'MMPretrainResNetStageAdapter', 'ResNetStageAdapter', 'StageCopyBranch',
    'TeacherFeatureBranch', 'register_stage_adapter', 'stage_adapter_for'
]
