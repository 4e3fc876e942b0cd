from .checkpoint_filter_hook import CheckpointFilterHook

__all__ = ['CheckpointFilterHook']
