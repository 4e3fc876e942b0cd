from .base import BaseTeacher
from .efficientnet_teacher import EfficientNetLiteSceneTeacher
from .mediapipe_teacher import MediaPipeHumanTeacher
from .mmpretrain_teacher import MMPretrainSceneTeacher
from .mmseg_teacher import MMSegHumanTeacher

__all__ = [
    'BaseTeacher', 'MMSegHumanTeacher', 'MMPretrainSceneTeacher',
    'MediaPipeHumanTeacher', 'EfficientNetLiteSceneTeacher'
]
