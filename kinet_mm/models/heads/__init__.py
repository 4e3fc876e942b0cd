from .akg_head import AKGHead
from .i3d_conv_head import I3DConvHead

__all__ = ['AKGHead', 'I3DConvHead']
from .gru_head import GRUHead  # noqa: F401
