from .aux_branches import BaseAuxBranch, StageCopyBranch
from .bn_inception import BNInception, BNInceptionStageAdapter
from .efficientnet_adapter import MMPretrainEfficientNetStageAdapter
from .efficientnet_lite import EfficientNetLite, EfficientNetLiteStageAdapter
from .i3d_inception_v1 import I3DInceptionV1
from .inception_v1 import InceptionV1
from .inception_v3 import InceptionV3
from .kinet_backbone import KINetBackbone
from .kinet_backbone_3d import KINetBackbone3D
from .mmpretrain_adapters import InceptionV3StageAdapter, MMPretrainResNetStageAdapter
from .mobilenet_v2_adapter import MobileNetV2StageAdapter
from .stage_adapters import (BaseStageAdapter, ResNetStageAdapter,
                             register_stage_adapter, stage_adapter_for)
from .teacher_branch import TeacherFeatureBranch

__all__ = [
    'BaseAuxBranch', 'BaseStageAdapter', 'BNInception', 'BNInceptionStageAdapter',
    'EfficientNetLite', 'EfficientNetLiteStageAdapter', 'I3DInceptionV1', 'InceptionV1',
    'InceptionV3', 'InceptionV3StageAdapter', 'KINetBackbone', 'KINetBackbone3D',
    'MMPretrainEfficientNetStageAdapter', 'MMPretrainResNetStageAdapter',
    'MobileNetV2StageAdapter', 'ResNetStageAdapter', 'StageCopyBranch',
    'TeacherFeatureBranch', 'register_stage_adapter', 'stage_adapter_for'
]
