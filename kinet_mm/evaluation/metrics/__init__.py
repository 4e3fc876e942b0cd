from .early_recognition_metric import EarlyRecognitionMetric
from .knowledge_agreement import KnowledgeAgreementMetric

__all__ = ['EarlyRecognitionMetric', 'KnowledgeAgreementMetric']
