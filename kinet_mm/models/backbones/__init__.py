from .aux_branches import BaseAuxBranch, StageCopyBranch
from .i3d_inception_v1 import I3DInceptionV1
from .inception_v1 import InceptionV1
from .kinet_backbone import KINetBackbone
from .kinet_backbone_3d import KINetBackbone3D
from .mobilenet_v2_adapter import MobileNetV2StageAdapter
from .stage_adapters import (BaseStageAdapter, ResNetStageAdapter,
                             register_stage_adapter, stage_adapter_for)
from .teacher_branch import TeacherFeatureBranch

__all__ = ['BaseAuxBranch', 'BaseStageAdapter', 'I3DInceptionV1',
           'InceptionV1', 'KINetBackbone', 'KINetBackbone3D',
           'MobileNetV2StageAdapter', 'ResNetStageAdapter', 'StageCopyBranch',
           'TeacherFeatureBranch', 'register_stage_adapter', 'stage_adapter_for']
