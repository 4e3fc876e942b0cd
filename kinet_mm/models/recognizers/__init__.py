from .kinet import KINet

__all__ = ['KINet']
from .early_recognizer import EarlyRecognizer  # noqa: F401
