from .formatting import PackKINetInputs
from .pseudo_labels import LoadPseudoLabels

__all__ = ['LoadPseudoLabels', 'PackKINetInputs']
