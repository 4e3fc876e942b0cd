"""Converters from published weights: the paper's teachers (docs/teachers.md),
torchvision's GoogLeNet for I3D (docs/i3d.md), TSN's ImageNet BN-Inception
(configs/kinet/README.md); and from RGB to flow checkpoints (cross-modality
initialisation, docs/two_stream.md)."""
from .bn_inception import convert_bninception
from .cross_modality import convert_rgb_to_flow, cross_modality_weight
from .googlenet import convert_torchvision_googlenet
from .key_accounting import ConversionError, KeyAccountant
from .teacher_checkpoints import (convert_lip_pspnet, convert_places365_caffe,
                                  convert_places365_pytorch)

__all__ = [
    'ConversionError', 'KeyAccountant', 'convert_bninception', 'convert_lip_pspnet',
    'convert_places365_caffe', 'convert_places365_pytorch', 'convert_rgb_to_flow',
    'convert_torchvision_googlenet', 'cross_modality_weight'
]
