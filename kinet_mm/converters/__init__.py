"""Converters from the paper's published teacher weights (docs/teachers.md)
and from RGB to flow checkpoints (cross-modality initialisation)."""
from .cross_modality import convert_rgb_to_flow, cross_modality_weight
from .key_accounting import ConversionError, KeyAccountant
from .teacher_checkpoints import (convert_lip_pspnet, convert_places365_caffe,
                                  convert_places365_pytorch)

__all__ = [
    'ConversionError', 'KeyAccountant', 'convert_lip_pspnet',
    'convert_rgb_to_flow', 'cross_modality_weight',
    'convert_places365_caffe', 'convert_places365_pytorch'
]
