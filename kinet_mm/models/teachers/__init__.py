from . import caffe_resnet, densenet_stride8, psp_upsample_head  # noqa: F401
from .base import BaseTeacher
from .efficientnet_teacher import EfficientNetLiteSceneTeacher
from .mediapipe_pose_teacher import MediaPipePoseTeacher
from .mediapipe_teacher import MediaPipeHumanTeacher
from .mmpretrain_teacher import MMPretrainSceneTeacher
from .mmseg_teacher import MMSegHumanTeacher
from .openmmlab_teacher import OpenMMLabTeacher

__all__ = [
    'BaseTeacher', 'MMSegHumanTeacher', 'MMPretrainSceneTeacher',
    'MediaPipeHumanTeacher', 'MediaPipePoseTeacher', 'EfficientNetLiteSceneTeacher',
    'OpenMMLabTeacher'
]
