from .kinet import KINet

__all__ = ['KINet']
