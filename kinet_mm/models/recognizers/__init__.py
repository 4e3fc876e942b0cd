from .kinet import KINet
from .kinet3d import KINet3D

__all__ = ['KINet', 'KINet3D']
from .early_recognizer import EarlyRecognizer  # noqa: F401
