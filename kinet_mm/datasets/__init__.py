from .transforms import *  # noqa: F401,F403
from .checked_dataset import CheckedRawframeDataset, CheckedVideoDataset  # noqa: F401
