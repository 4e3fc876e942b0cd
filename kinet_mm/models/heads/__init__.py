from .akg_head import AKGHead

__all__ = ['AKGHead']
