"""Converters from the paper's published teacher weights (docs/teachers.md)."""
from .key_accounting import ConversionError, KeyAccountant
from .teacher_checkpoints import (convert_lip_pspnet, convert_places365_caffe,
                                  convert_places365_pytorch)

__all__ = [
    'ConversionError', 'KeyAccountant', 'convert_lip_pspnet',
    'convert_places365_caffe', 'convert_places365_pytorch'
]
