from .base import BaseTeacher
from .efficientnet_teacher import EfficientNetLiteSceneTeacher
from .mediapipe_teacher import MediaPipeHumanTeacher
from .mmpretrain_teacher import MMPretrainSceneTeacher
from .mmseg_teacher import MMSegHumanTeacher
from .openmmlab_teacher import OpenMMLabTeacher

__all__ = [
    'BaseTeacher', 'MMSegHumanTeacher', 'MMPretrainSceneTeacher',
    'MediaPipeHumanTeacher', 'EfficientNetLiteSceneTeacher', 'OpenMMLabTeacher'
]
