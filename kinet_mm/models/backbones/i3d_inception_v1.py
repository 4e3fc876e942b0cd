"""Inflated Inception-v1, the I3D backbone (Carreira & Zisserman, CVPR 2017)."""
from typing import Dict, Optional

from mmaction.registry import MODELS

from ..utils.inflation import inflate_module, load_inflated_checkpoint
from .inception_v1 import InceptionV1

#: Figure 3 of the I3D paper, where it departs from cubic inflation: the first
#: two max-pools do not pool in time (``1x3x3``, temporal stride 1). Everything
#: else is ``NxNxN`` with the spatial stride in time too: conv1a ``7x7x7`` stride
#: 2, pool4a ``3x3x3`` stride 2, pool5a ``2x2x2`` stride 2.
I3D_TEMPORAL = {'pool2a': (1, 1), 'pool3a': (1, 1)}


@MODELS.register_module()
class I3DInceptionV1(InceptionV1):
    """Inflated Inception-v1 (I3D), section 2.4 and Figure 3 of the I3D paper.

    :class:`InceptionV1` built in 2D, then inflated by
    :func:`~kinet_mm.models.utils.inflation.inflate_module` with
    :data:`I3D_TEMPORAL`. A ``(N, 3, 64, 224, 224)`` clip gives a
    ``(N, 1024, 8, 7, 7)`` map; the paper's ``2x7x7`` average pool and
    temporally convolutional predictions are the head's
    (:class:`~kinet_mm.models.heads.I3DConvHead`).

    Initialisation, as MMAction2's ``ResNet3d``: with ``pretrained`` a
    checkpoint path, ``pretrained2d=True`` bootstraps the weights from a 2D
    :class:`InceptionV1` checkpoint (kernels repeated in time and divided by
    their temporal size; BN copied), ``pretrained2d=False`` loads a 3D one.

    Args:
        pretrained (str, optional): Checkpoint to start from. Defaults to None.
        pretrained2d (bool): Whether ``pretrained`` is a 2D checkpoint to
            inflate. Defaults to True.
        pretrained_prefix (str, optional): Prefix of the backbone's keys in
            ``pretrained`` (e.g. ``'backbone.'`` for a recognizer checkpoint).
            Defaults to None.
        temporal (dict): ``{layer: (kernel_t, stride_t)}`` departures from cubic
            inflation. Defaults to :data:`I3D_TEMPORAL`.
        kwargs: :class:`InceptionV1`'s arguments (``in_channels=2`` for flow,
            ``norm_eval``, ``norm_cfg``, ``init_cfg``, ...).
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 pretrained2d: bool = True,
                 pretrained_prefix: Optional[str] = None,
                 temporal: Dict = I3D_TEMPORAL,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if pretrained is not None and kwargs.get('init_cfg') is not None:
            raise ValueError('I3DInceptionV1: give either `pretrained` or '
                             '`init_cfg`, not both')
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.pretrained_prefix = pretrained_prefix
        inflate_module(self, temporal)

    def init_weights(self) -> None:
        """Default (or ``init_cfg``) initialisation, then ``pretrained``."""
        super().init_weights()
        if self.pretrained is None:
            return
        if self.pretrained2d:
            load_inflated_checkpoint(self, self.pretrained, self.pretrained_prefix)
        else:
            from mmengine.runner.checkpoint import load_checkpoint
            load_checkpoint(
                self,
                self.pretrained,
                strict=True,
                revise_keys=[(f'^{self.pretrained_prefix}',
                              '')] if self.pretrained_prefix else [(r'^module\.', '')])
