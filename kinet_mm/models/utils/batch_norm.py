"""BatchNorm modes while training: ``norm_eval`` and TSN's partial BN.

Called from a module's ``train()``, after the mode is set.
"""
from typing import Optional

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


def eval_batch_norms(module: nn.Module) -> None:
    """Put every BatchNorm inside ``module`` in eval mode (``norm_eval``)."""
    for norm in module.modules():
        if isinstance(norm, _BatchNorm):
            norm.eval()


def freeze_batch_norms(*modules: nn.Module, keep: Optional[nn.Module] = None) -> None:
    """Put every BatchNorm inside ``modules`` except ``keep`` in eval mode and
    stop its affine parameters' gradients (MMAction2 ResNet's
    ``partial_bn``)."""
    for module in modules:
        for norm in module.modules():
            if isinstance(norm, _BatchNorm) and norm is not keep:
                norm.eval()
                for param in norm.parameters():
                    param.requires_grad = False


def first_batch_norm(module: nn.Module) -> Optional[nn.Module]:
    """The first BatchNorm of ``module`` in module order, or None."""
    return next((m for m in module.modules() if isinstance(m, _BatchNorm)), None)
