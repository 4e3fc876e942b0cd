from .early_recognition_metric import EarlyRecognitionMetric

__all__ = ['EarlyRecognitionMetric']
