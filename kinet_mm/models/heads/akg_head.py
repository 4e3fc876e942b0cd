"""Action Knowledge Graph (AKG) head, sections 3.3-3.4 of the KINet paper."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads.base import AvgConsensus, BaseHead
from mmaction.registry import MODELS
from mmengine.model.weight_init import normal_init
from torch import Tensor

RELATIONS = ('dot', 'embedded_dot', 'concat')


@MODELS.register_module()
class AKGHead(BaseHead):
    """Fuse the branches with a one-layer GCN over segment nodes, then classify.

    Each branch map is average-pooled to ``num_segs`` vectors of size ``d``; the
    ``B = num_branches`` groups give ``B * num_segs`` nodes ``X`` (action nodes
    first). The graph is ``G = softmax_b(f(x_a, x_b))`` (eq. 4) with the relation
    ``f`` one of

    - ``'dot'``: ``x_a . x_b`` (eq. 1),
    - ``'embedded_dot'``: ``theta(x_a) . phi(x_b)`` (eq. 2),
    - ``'concat'``: ``ReLU(w . [theta(x_a), phi(x_b)])`` (eq. 3),

    and the GCN layer is ``Z = ReLU(I_mask * G X W)`` (eq. 5), where ``I_mask``
    zeroes the edges between different auxiliary branches. Only the action nodes
    of ``Z`` are classified; the per-segment scores are averaged (TSN consensus).

    With a ``window_size`` (the recognizer passes ``test_cfg.window_size``), a
    clip of more segments is scored by sliding a window of ``window_size``
    segments (stride 1) over the pooled vectors and averaging the window scores
    (the paper's test protocol: 3 of 25). Pooling and ``X W`` run once per
    frame; only the small graphs run per window.

    Args:
        num_classes (int): Number of action classes.
        in_channels (int): Channels ``d`` of the branch maps.
        num_branches (int): Branch maps per input, action first. Defaults to 3.
        relation (str): ``'dot'``, ``'embedded_dot'`` or ``'concat'``.
            Defaults to ``'dot'`` (the paper's choice).
        embed_channels (int): Width of ``theta``/``phi``. Defaults to 512.
        loss_cls (dict): Action loss. Defaults to ``CrossEntropyLoss``.
        dropout_ratio (float): Dropout before the classifier. Defaults to 0.4.
        init_std (float): Std of the classifier's init. Defaults to 0.01.
        identity_init (bool): Start the GCN weight ``W`` of eq. 5 as the
            identity, so at step 0 ``Z = ReLU(G X)`` is a graph-weighted average
            of the (ImageNet) segment vectors rather than a random projection of
            them; as with the CBI's identity init, KINet then starts from its
            TSN twin's features (the paper does not state an init). False
            keeps ``nn.Linear``'s default. Defaults to True.
        kwargs: Passed to :class:`mmaction.models.heads.BaseHead`.
    """

    #: The recognizer passes every branch map (not just the action map).
    fuses_branches = True

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_branches: int = 3,
                 relation: str = 'dot',
                 embed_channels: int = 512,
                 loss_cls: Dict = dict(type='CrossEntropyLoss'),
                 dropout_ratio: float = 0.4,
                 init_std: float = 0.01,
                 identity_init: bool = True,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if relation not in RELATIONS:
            raise ValueError(f'relation must be one of {RELATIONS}, got {relation!r}')
        self.num_branches = num_branches
        self.relation = relation
        self.init_std = init_std
        self.identity_init = identity_init
        if relation != 'dot':
            self.theta = nn.Linear(in_channels, embed_channels)
            self.phi = nn.Linear(in_channels, embed_channels)
        if relation == 'concat':
            self.concat_proj = nn.Linear(2 * embed_channels, 1)
        self.gcn_weight = nn.Linear(in_channels, in_channels, bias=False)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.consensus = AvgConsensus(dim=1)

    def init_weights(self) -> None:
        """Initialise the classifier as TSNHead does, ``W`` as configured."""
        super().init_weights()
        normal_init(self.fc_cls, std=self.init_std)
        if self.identity_init:
            nn.init.eye_(self.gcn_weight.weight)

    def edge_mask(self, num_segs: int, device=None) -> Tensor:
        """``I_mask``: 0 between nodes of two different auxiliary branches, else 1.

        Returns:
            Tensor: ``(num_branches * num_segs, num_branches * num_segs)``.
        """
        branch = torch.arange(
            self.num_branches, device=device).repeat_interleave(num_segs)
        cross_aux = (branch[:, None] != branch[None, :]) & (branch[:, None] > 0) & (
            branch[None, :] > 0)
        return (~cross_aux).float()

    def relation_scores(self, queries: Tensor, keys: Tensor) -> Tensor:
        """``f(x_a, x_b)`` for every query ``a`` and key ``b``.

        Args:
            queries (Tensor): ``(G, Q, d)`` node vectors.
            keys (Tensor): ``(G, K, d)`` node vectors.

        Returns:
            Tensor: ``(G, Q, K)`` relation scores.
        """
        if self.relation == 'dot':
            return queries @ keys.transpose(1, 2)
        theta, phi = self.theta(queries), self.phi(keys)
        if self.relation == 'embedded_dot':
            return theta @ phi.transpose(1, 2)
        # w . [theta_a, phi_b] = w_theta . theta_a + w_phi . phi_b
        w_theta, w_phi = self.concat_proj.weight.chunk(2, dim=1)
        scores = (theta @ w_theta.t()) + (phi @ w_phi.t()).transpose(1, 2)
        return F.relu(scores + self.concat_proj.bias)

    def graph(self, nodes: Tensor) -> Tensor:
        """The masked, normalised graph ``I_mask * G`` of eq. 5.

        Args:
            nodes (Tensor): ``(G, num_branches * num_segs, d)``, action first.

        Returns:
            Tensor: ``(G, N, N)``; row ``a`` holds the edges pointing to node a.
        """
        return self.graph_rows(nodes, nodes, nodes.shape[1] // self.num_branches)

    def graph_rows(self, queries: Tensor, nodes: Tensor, num_segs: int) -> Tensor:
        """Rows of the masked graph for the first ``Q`` nodes (eqs. 4-5).

        Args:
            queries (Tensor): ``(G, Q, d)``, the first ``Q`` of ``nodes``.
            nodes (Tensor): ``(G, num_branches * num_segs, d)``, action first.
            num_segs (int): Segments per branch.

        Returns:
            Tensor: ``(G, Q, num_branches * num_segs)``.
        """
        rows = self.relation_scores(queries, nodes).softmax(dim=-1)
        return rows * self.edge_mask(num_segs, nodes.device)[:queries.shape[1]]

    def pool(self, feats: Sequence[Tensor], num_segs: int) -> Tensor:
        """Average-pool each branch map into segment vectors.

        Args:
            feats (Sequence[Tensor]): ``num_branches`` maps,
                ``(N * num_segs, d, H, W)`` each.
            num_segs (int): Segments per view.

        Returns:
            Tensor: ``(N, num_branches, num_segs, d)``.
        """
        if len(feats) != self.num_branches:
            raise ValueError(f'AKGHead expects {self.num_branches} branch maps, '
                             f'got {len(feats)}')
        pooled = torch.stack([self.avg_pool(f).flatten(1) for f in feats], dim=1)
        return pooled.view(-1, num_segs, self.num_branches,
                           self.in_channels).transpose(1, 2)

    @staticmethod
    def windows(pooled: Tensor, size: Optional[int]) -> Tensor:
        """Cut ``(N, B, S, d)`` vectors into ``(N * W, B, size, d)`` windows of
        ``size`` segments, stride 1 (``None``: one window of all ``S``)."""
        if size is None or pooled.shape[2] <= size:
            return pooled
        # Slices, not Tensor.unfold: ONNX exports unfold only where the
        # segment axis has a known size, which the TF-style padding of
        # EfficientNet-Lite hides from the exporter's shape inference.
        windows = torch.stack([
            pooled[:, :, start:start + size]
            for start in range(pooled.shape[2] - size + 1)
        ],
                              dim=1)  # (N, W, B, size, d)
        return windows.flatten(0, 1)

    def forward(self,
                x: Sequence[Tensor],
                num_segs: int,
                window_size: Optional[int] = None,
                **kwargs) -> Tensor:
        """Score each view.

        Args:
            x (Sequence[Tensor]): Branch maps, ``(N * num_segs, d, H, W)`` each,
                action first.
            num_segs (int): Segments per view.
            window_size (int, optional): Segments per graph; ``None`` builds one
                graph over all segments of a view. Defaults to None.

        Returns:
            Tensor: ``(N, num_classes)`` class scores.
        """
        pooled = self.pool(x, num_segs)
        num_views = pooled.shape[0]
        # (G X) W = G (X W): project once per frame, not once per window.
        projected = self.windows(self.gcn_weight(pooled), window_size)
        nodes = self.windows(pooled, window_size)
        size = nodes.shape[2]
        nodes, projected = nodes.flatten(1, 2), projected.flatten(1, 2)
        # Only the action nodes are classified, so only their graph rows are built
        # (the mask never removes an edge that points to an action node).
        action_rows = self.graph_rows(nodes[:, :size], nodes, size)
        z_action = F.relu(action_rows @ projected)  # (G, size, d)
        scores = self.fc_cls(self.dropout(z_action))
        scores = scores.view(num_views, -1, self.num_classes)
        return self.consensus(scores).squeeze(1)
