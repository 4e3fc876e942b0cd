from .io import TMP_PREFIX, atomic_write

__all__ = ['TMP_PREFIX', 'atomic_write']
