"""Converters from published weights: the paper's teachers (docs/teachers.md),
torchvision's GoogLeNet for I3D (docs/i3d.md), TSN's ImageNet BN-Inception
(configs/kinet/README.md)."""
from .bn_inception import convert_bninception
from .googlenet import convert_torchvision_googlenet
from .key_accounting import ConversionError, KeyAccountant
from .teacher_checkpoints import (convert_lip_pspnet, convert_places365_caffe,
                                  convert_places365_pytorch)

__all__ = [
    'ConversionError', 'KeyAccountant', 'convert_bninception',
    'convert_lip_pspnet', 'convert_places365_caffe',
    'convert_places365_pytorch', 'convert_torchvision_googlenet'
]
