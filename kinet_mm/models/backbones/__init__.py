from .aux_branches import BaseAuxBranch, StageCopyBranch
from .kinet_backbone import KINetBackbone
from .stage_adapters import (BaseStageAdapter, ResNetStageAdapter,
                             register_stage_adapter, stage_adapter_for)
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'BaseStageAdapter', 'KINetBackbone',
           'ResNetStageAdapter', 'StageCopyBranch', 'TeacherFeatureBranch',
           'register_stage_adapter', 'stage_adapter_for']
