"""I3D's head as the paper draws it: predictions convolutional in time, averaged."""
from typing import Tuple

import torch.nn.functional as F
from mmaction.models.heads import I3DHead
from mmaction.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class I3DConvHead(I3DHead):
    """Average-pool ``2x7x7`` (stride 1), classify every position, average.

    Figure 3 of the I3D paper ends with a ``2x7x7`` average pool and a
    ``1x1x1`` conv whose predictions "are obtained convolutionally in time and
    averaged". MMAction2's :class:`I3DHead` instead averages the whole map and
    classifies once. The classifier is linear, so the two differ only in how the
    positions are weighted: a stride-1 window of 2 over ``T'`` positions counts
    the first and last position once and the others twice, i.e.
    ``I3DConvHead(x) = fc(sum_t w_t x_t)`` with ``w = (1, 2, ..., 2, 1) /
    (2 (T' - 1))``, while ``I3DHead`` uses ``w_t = 1 / T'`` (spatially the same
    holds with a 7x7 window when the map is larger than 7x7, e.g. 256-pixel
    test crops). At 64x224x224 (``T' = 8``) the end positions get half weight.

    The pooling window is clipped to the map, so short test clips and small
    crops still give one prediction per position. The 1x1x1 conv is
    ``I3DHead``'s ``fc_cls`` applied at every position, so its weights,
    initialisation and checkpoints are ``I3DHead``'s.

    Args:
        pool_size (tuple[int]): ``(t, h, w)`` average-pool window.
            Defaults to ``(2, 7, 7)``.
        kwargs: :class:`I3DHead`'s arguments (``num_classes``,
            ``in_channels``, ``dropout_ratio``, ...).
    """

    def __init__(self, pool_size: Tuple[int, int, int] = (2, 7, 7), **kwargs) -> None:
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)

    def forward(self, x: Tensor, **kwargs) -> Tensor:
        """Score clips.

        Args:
            x (Tensor): Backbone map, ``(N * num_clips, C, T', H', W')``.

        Returns:
            Tensor: ``(N * num_clips, num_classes)``, the mean of the
            per-position predictions.
        """
        window = tuple(min(k, s) for k, s in zip(self.pool_size, x.shape[2:]))
        x = F.avg_pool3d(x, window, stride=1)
        if self.dropout is not None:
            x = self.dropout(x)
        # fc over channels at every (t, h, w) == a 1x1x1 conv.
        scores = self.fc_cls(x.flatten(2).transpose(1, 2))
        return scores.mean(dim=1)
