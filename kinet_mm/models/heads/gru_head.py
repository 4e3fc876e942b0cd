"""A recurrent classifier that predicts at every progression level."""
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class GRUHead(BaseModule):
    """One-layer GRU over a sequence of segment features, logits at every step.

    Early recognition (``../shared/papers/early_recognition_kd.txt``, Sec. 2.1):

    * student: ``bidirectional=False``, ``hidden_channels=512``. Its output at
      step ``n`` depends on ``x_1 .. x_n`` only, so it can answer after any
      observed prefix.
    * teacher: ``bidirectional=True``, ``hidden_channels=256`` per direction.
      Its output at step ``n`` also sees ``x_{n+1} .. x_N`` (the future); it is
      trained on fully observed sequences and then frozen.

    Args:
        num_classes (int): Number of action classes ``K``.
        in_channels (int): Feature size ``C`` of one segment.
        hidden_channels (int): GRU hidden size (per direction). Defaults to 512.
        bidirectional (bool): BiGRU (teacher) or GRU (student). Defaults to
            False.
        dropout_ratio (float): Dropout on the hidden states before the
            classifier. Defaults to 0.
        norm_cfg (dict, optional): Normalisation of the input features over
            the batch and levels, e.g. ``dict(type='BN1d')``. Not in the paper
            (TSM features are well scaled); features of random-weight
            backbones share one dominant direction (cosine ~0.998 between
            videos on the real clips) that saturates the GRU without it.
            Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation of the
            classifier; the GRU keeps PyTorch's initialisation. Defaults to
            ``Normal(std=0.01)`` on ``fc_cls``.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        hidden_channels: int = 512,
        bidirectional: bool = False,
        dropout_ratio: float = 0.,
        norm_cfg: Optional[Dict] = None,
        init_cfg: Optional[Union[Dict, List[Dict]]] = dict(
            type='Normal', layer='Linear', std=0.01)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.bidirectional = bidirectional
        self.norm = build_norm_layer(norm_cfg, in_channels)[1] \
            if norm_cfg is not None else None
        self.gru = nn.GRU(
            in_channels,
            hidden_channels,
            num_layers=1,
            batch_first=True,
            bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        num_directions = 2 if bidirectional else 1
        self.fc_cls = nn.Linear(hidden_channels * num_directions, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Logits at every step.

        Args:
            x (Tensor): ``(B, N, C)`` features of the ``N`` progression levels.

        Returns:
            Tensor: ``(B, N, num_classes)`` logits; row ``n`` is ``S(x_n)``
            (or ``T(x_n)`` for the teacher).
        """
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise ValueError(f'GRUHead expects (batch, num_levels, {self.in_channels}) '
                             f'features, got shape {tuple(x.shape)}; check in_channels '
                             "against the feature cache's meta.json (feature_dim).")
        if self.norm is not None:
            x = self.norm(x.flatten(0, 1)).reshape(x.shape)
        hidden, _ = self.gru(x)
        if self.dropout is not None:
            hidden = self.dropout(hidden)
        return self.fc_cls(hidden)
