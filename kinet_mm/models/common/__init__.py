from .cbi import CrossBranchIntegration

__all__ = ['CrossBranchIntegration']
