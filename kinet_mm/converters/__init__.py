"""Converters from published weights: the paper's teachers (docs/teachers.md)
and TSN's ImageNet BN-Inception."""
from .bn_inception import convert_bninception
from .key_accounting import ConversionError, KeyAccountant
from .teacher_checkpoints import (convert_lip_pspnet, convert_places365_caffe,
                                  convert_places365_pytorch)

__all__ = [
    'ConversionError', 'KeyAccountant', 'convert_bninception',
    'convert_lip_pspnet',
    'convert_places365_caffe', 'convert_places365_pytorch'
]
