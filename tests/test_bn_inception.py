"""BN-Inception: the TSN/Caffe layer list, freezing options, pretrained loading."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

import kinet_mm  # noqa: F401
from kinet_mm.models.backbones.bn_inception import BNInception

# Output channels and map size (224 input) after each inception module, as
# the Caffe prototxt's concat layers give them (3a .. 5b).
PROTOTXT_OUTPUTS = [('inception3', 256, 28), ('inception3', 320, 28),
                    ('inception3', 576, 14), ('inception4', 576, 14),
                    ('inception4', 576, 14), ('inception4', 608, 14),
                    ('inception4', 608, 14), ('inception4', 1056, 7),
                    ('inception5', 1024, 7), ('inception5', 1024, 7)]


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return MODELS.build(dict(type='BNInception')).eval()


def test_modules_match_the_prototxt(net):
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        x = net.stem(x)
        assert x.shape == (1, 192, 28, 28)
        outputs = []
        for name in net.stage_names:
            for block in getattr(net, name):
                x = block(x)
                outputs.append((name, x.shape[1], x.shape[-1]))
    assert outputs == PROTOTXT_OUTPUTS
    assert net.feat_dim == 1024
    # 4e reduces and doubles with strided 3x3s and passes its input through a
    # 3x3/2 max pool; 5b pools with max, 5a with average (the prototxt's).
    e4 = net.inception4[-1]
    assert e4.branch1x1 is None and len(e4.branch_pool) == 1
    assert e4.branch3x3[1].conv.stride == (2, 2)
    assert e4.branch3x3dbl[2].conv.weight.shape == (256, 256, 3, 3)
    assert isinstance(net.inception5[0].branch_pool[0], nn.AvgPool2d)
    assert isinstance(net.inception5[1].branch_pool[0], nn.MaxPool2d)
    assert net.inception5[1].branch1x1.conv.weight.shape == (352, 1024, 1, 1)


def test_parameter_count(net):
    # Without the classifier; the Caffe model's 10.27M also counts conv biases
    # in front of BN (one per output channel), which this backbone drops.
    biases = sum(m.out_channels for m in net.modules()
                 if isinstance(m, nn.Conv2d))
    assert sum(p.numel() for p in net.parameters()) + biases == 10_270_240


def _bns(module):
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


def test_frozen_stages_norm_eval_and_partial_bn():
    net = BNInception(frozen_stages=1).train()
    for part in (net.stem, net.inception3):
        assert not any(p.requires_grad for p in part.parameters())
        assert not any(bn.training for bn in _bns(part))
    assert all(p.requires_grad for p in net.inception4.parameters())
    assert all(bn.training for bn in _bns(net.inception4))

    net = BNInception(norm_eval=True).train()
    assert not any(bn.training for bn in _bns(net))
    assert all(p.requires_grad for p in net.parameters())

    net = BNInception(partial_bn=True).train()
    first, *rest = _bns(net)
    assert first is net.stem.conv1.bn and first.training
    assert first.weight.requires_grad
    assert not any(bn.training or bn.weight.requires_grad or
                   bn.bias.requires_grad for bn in rest)
    with pytest.raises(ValueError, match='frozen_stages'):
        BNInception(frozen_stages=4)


def test_pretrained_argument_loads_a_checkpoint(net, tmp_path):
    # (init_cfg=dict(type='Pretrained', ...) through KINetBackbone: the
    # per-family tests of tests/test_kinet_backbone.py.)
    expected = {k: v + torch.rand_like(v) if v.is_floating_point() else v
                for k, v in net.state_dict().items()}
    path = tmp_path / 'bninception.pth'
    torch.save(dict(state_dict=expected), path)
    loaded = BNInception(pretrained=str(path))
    loaded.init_weights()
    loaded = loaded.state_dict()
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)
