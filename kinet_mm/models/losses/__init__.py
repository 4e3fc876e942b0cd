from .early_recognition_loss import (SelfDistillationLoss, StepwiseCrossEntropyLoss,
                                     StepwiseKLDivLoss)

__all__ = ['StepwiseCrossEntropyLoss', 'StepwiseKLDivLoss', 'SelfDistillationLoss']
