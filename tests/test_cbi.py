"""Cross Branch Integration: shapes, the paper's formula, and its initialisation."""
import pytest
import torch

import kinet_mm  # noqa: F401
from kinet_mm.models.common import CrossBranchIntegration

SHAPE = (4, 6, 5, 5)  # (N * num_segs, C, H, W)


def maps(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(SHAPE, generator=gen) for _ in range(3)]


def random_cbi(**kwargs):
    cbi = CrossBranchIntegration(SHAPE[1], **kwargs)
    cbi.init_weights()
    torch.nn.init.normal_(cbi.fuse.weight)
    for norm in cbi.gate_norms:  # non-trivial eval-mode statistics
        norm.running_mean.uniform_(0, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.weight.data.uniform_(0.5, 2)
        norm.bias.data.uniform_(-1, 1)
    return cbi.eval()


@torch.no_grad()
def test_output_matches_formula():
    cbi = random_cbi()
    x, human, scene = maps()

    def gate(norm, aux):
        product = x * aux
        normed = (product - norm.running_mean.view(
            1, -1, 1, 1)) / torch.sqrt(norm.running_var.view(1, -1, 1, 1) + norm.eps)
        normed = normed * norm.weight.view(1, -1, 1, 1) + norm.bias.view(1, -1, 1, 1)
        return torch.relu(x + normed)

    stacked = torch.cat(
        [x, gate(cbi.gate_norms[0], human),
         gate(cbi.gate_norms[1], scene)], dim=1)
    expected = torch.einsum('nchw,oc->nohw', stacked, cbi.fuse.weight[:, :, 0, 0])
    out = cbi(x, [human, scene])
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_zeroing_auxiliary_inputs_changes_output():
    cbi = random_cbi()
    x, human, scene = maps()
    out = cbi(x, [human, scene])
    assert not torch.allclose(out, cbi(x, [torch.zeros_like(human), scene]))
    assert not torch.allclose(out, cbi(x, [human, torch.zeros_like(scene)]))


def test_identity_init_passes_action_through_and_still_learns_from_aux():
    cbi = CrossBranchIntegration(SHAPE[1])
    cbi.init_weights()
    x, human, scene = [m.requires_grad_() for m in maps()]
    out = cbi(x, [human, scene])
    torch.testing.assert_close(out, x)
    out.sum().backward()
    aux_weights = cbi.fuse.weight.grad[:, SHAPE[1]:]
    assert aux_weights.abs().sum() > 0  # the auxiliary slices move at step one


def test_any_number_of_aux_maps_and_shape_errors():
    cbi = CrossBranchIntegration(SHAPE[1], num_aux=1)
    x, human, _ = maps()
    assert cbi(x, [human]).shape == x.shape
    with pytest.raises(ValueError, match='expects 1 auxiliary'):
        cbi(x, [human, human])
    with pytest.raises(ValueError, match='does not match'):
        cbi(x, [human[:, :3]])
