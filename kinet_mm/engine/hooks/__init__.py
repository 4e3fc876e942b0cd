from .checkpoint_filter_hook import CheckpointFilterHook
from .validate_before_train_hook import ValidateBeforeTrainHook

__all__ = ['CheckpointFilterHook', 'ValidateBeforeTrainHook']
