"""AKGHead against an independent, loop-based computation of eqs. 1-5."""
import math

import pytest
import torch

import kinet_mm  # noqa: F401
from kinet_mm.models.heads import AKGHead

DIM, NUM_CLASSES, SEGS = 8, 5, 3


def build_head(relation, **kwargs):
    # A random W (not the identity init) so the references check its use;
    # seeded, because ~0.3% of random Ws make ReLU(G X W) zero everywhere on
    # these non-negative maps (every column of X W negative), and a gradient
    # check then fails by chance (seen once in CI).
    torch.manual_seed(0)
    kwargs.setdefault('identity_init', False)
    head = AKGHead(
        NUM_CLASSES,
        DIM,
        relation=relation,
        embed_channels=4,
        dropout_ratio=0.0,
        **kwargs)
    head.init_weights()
    return head.eval()


def branch_maps(num_views, num_segs, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.rand(num_views * num_segs, DIM, 2, 2, generator=gen) for _ in range(3)
    ]


def relation_reference(head, xa, xb):
    """f(x_a, x_b) written out from the paper, one pair at a time."""
    if head.relation == 'dot':
        return float(xa @ xb)
    theta, phi = head.theta(xa), head.phi(xb)
    if head.relation == 'embedded_dot':
        return float(theta @ phi)
    value = head.concat_proj(torch.cat([theta, phi]))
    return float(torch.relu(value))


def graph_reference(head, nodes):
    """Masked, softmax-normalised graph of one view, by explicit loops."""
    count = nodes.shape[0]
    branch_of = [i // (count // 3) for i in range(count)]
    graph = torch.zeros(count, count)
    for a in range(count):
        scores = [relation_reference(head, nodes[a], nodes[b]) for b in range(count)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        for b in range(count):
            cross_aux = branch_of[a] > 0 and branch_of[b] > 0 and \
                branch_of[a] != branch_of[b]
            graph[a, b] = 0.0 if cross_aux else exps[b] / sum(exps)
    return graph


def nodes_of(maps, view, num_segs):
    """Action, human, scene segment vectors of one view, action first."""
    rows = slice(view * num_segs, (view + 1) * num_segs)
    return torch.cat([m[rows].mean(dim=(2, 3)) for m in maps])


@pytest.mark.parametrize('relation', ['dot', 'embedded_dot', 'concat'])
@torch.no_grad()
def test_graph_and_scores_match_reference(relation):
    head = build_head(relation)
    maps = branch_maps(num_views=2, num_segs=SEGS)
    pooled = head.pool(maps, SEGS).flatten(1, 2)
    graph = head.graph(pooled)
    for view in range(2):
        nodes = nodes_of(maps, view, SEGS)
        expected_graph = graph_reference(head, nodes)
        torch.testing.assert_close(graph[view], expected_graph, rtol=1e-5, atol=1e-6)
        z = torch.relu(expected_graph @ nodes @ head.gcn_weight.weight.t())
        expected = head.fc_cls(z[:SEGS]).mean(dim=0)  # action nodes only
        torch.testing.assert_close(
            head(maps, num_segs=SEGS)[view], expected, rtol=1e-5, atol=1e-6)
        using_all_nodes = head.fc_cls(z).mean(dim=0)
        assert not torch.allclose(using_all_nodes, expected)


@torch.no_grad()
def test_rows_are_softmax_normalised_before_the_mask():
    head = build_head('embedded_dot')
    pooled = head.pool(branch_maps(1, SEGS), SEGS).flatten(1, 2)
    graph = head.graph(pooled)[0]
    action_rows = graph[:SEGS].sum(dim=1)
    torch.testing.assert_close(action_rows, torch.ones(SEGS))
    unmasked = head.relation_scores(pooled, pooled).softmax(-1)[0]
    human_rows = graph[SEGS:2 * SEGS].sum(dim=1)
    removed = unmasked[SEGS:2 * SEGS, 2 * SEGS:].sum(dim=1)  # human -> scene
    torch.testing.assert_close(human_rows, 1 - removed)
    assert (graph[SEGS:2 * SEGS, 2 * SEGS:] == 0).all()
    assert (graph[2 * SEGS:, SEGS:2 * SEGS] == 0).all()


def test_edge_mask_layout():
    mask = build_head('dot').edge_mask(2)
    expected = torch.tensor([
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 0, 0],
        [1, 1, 0, 0, 1, 1],
        [1, 1, 0, 0, 1, 1],
    ],
                            dtype=torch.float)
    torch.testing.assert_close(mask, expected)


@pytest.mark.parametrize('relation', ['dot', 'concat'])
@torch.no_grad()
def test_sliding_window_equals_mean_of_window_scores(relation):
    num_segs, window = 7, 3
    head = build_head(relation)
    maps = branch_maps(num_views=2, num_segs=num_segs, seed=1)
    scores = head(maps, num_segs=num_segs, window_size=window)
    for view in range(2):
        per_window = []
        for start in range(num_segs - window + 1):
            rows = [view * num_segs + start + i for i in range(window)]
            per_window.append(head([m[rows] for m in maps], num_segs=window)[0])
        torch.testing.assert_close(
            scores[view], torch.stack(per_window).mean(0), rtol=1e-5, atol=1e-6)


def test_gradients_reach_every_branch_and_parameter():
    head = build_head('concat')
    head.train()
    maps = [m.requires_grad_() for m in branch_maps(2, SEGS)]
    head(maps, num_segs=SEGS).sum().backward()
    assert all(m.grad is not None and m.grad.abs().sum() > 0 for m in maps)
    for name, param in head.named_parameters():
        assert param.grad is not None, name


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match='relation'):
        AKGHead(NUM_CLASSES, DIM, relation='gaussian')
    with pytest.raises(ValueError, match='3 branch maps'):
        build_head('dot')(branch_maps(1, SEGS)[:2], num_segs=SEGS)


@pytest.mark.parametrize('relation', ['dot', 'embedded_dot', 'concat'])
def test_identity_init_starts_as_the_tsn_head(relation):
    """Equal branch maps (KINet's branches at step 0) and W = I: the AKG scores
    are the classifier on the pooled action map, as TSN's head computes."""
    head = build_head(relation, identity_init=True)
    assert torch.equal(head.gcn_weight.weight, torch.eye(DIM))
    action = torch.rand(2, DIM, 2, 2)  # 2 views of one segment
    scores = head([action, action.clone(), action.clone()], num_segs=1)
    torch.testing.assert_close(scores, head.fc_cls(action.mean(dim=(2, 3))))
