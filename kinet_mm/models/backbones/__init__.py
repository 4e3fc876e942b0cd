from .kinet_backbone import KINetBackbone

__all__ = ['KINetBackbone']
