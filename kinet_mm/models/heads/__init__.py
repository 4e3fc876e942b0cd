from .akg_head import AKGHead

__all__ = ['AKGHead']
from .gru_head import GRUHead  # noqa: F401
