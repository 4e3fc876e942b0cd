"""Deploying kinet_mm recognizers with MMDeploy (docs/deploy.md).

:mod:`.mmdeploy_compat` holds the shims that MMDeploy 1.3.1 needs with this
stack (applied on ``import kinet_mm``); :mod:`.backend` runs an exported model
(ONNX Runtime or TorchScript) through MMDeploy's backend model.
"""
from .mmdeploy_compat import ModelExportError, apply_mmdeploy_shims

__all__ = ['ModelExportError', 'apply_mmdeploy_shims']
