from .frames import preprocessed_to_rgb, unnormalize
from .io import TMP_PREFIX, atomic_write

__all__ = ['TMP_PREFIX', 'atomic_write', 'preprocessed_to_rgb', 'unnormalize']
