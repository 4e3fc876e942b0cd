"""BN-Inception: the TSN/Caffe layer list, freezing options, pretrained loading,
conversion of Caffe-named weights."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule

import kinet_mm  # noqa: F401
from kinet_mm.converters import ConversionError
from kinet_mm.converters.bn_inception import map_bninception
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
    biases = sum(m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d))
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
    assert not any(bn.training or bn.weight.requires_grad or bn.bias.requires_grad
                   for bn in rest)
    with pytest.raises(ValueError, match='frozen_stages'):
        BNInception(frozen_stages=4)


def test_pretrained_argument_loads_a_checkpoint(net, tmp_path):
    # (init_cfg=dict(type='Pretrained', ...) through KINetBackbone: the
    # per-family tests of tests/test_kinet_backbone.py.)
    expected = {
        k: v + torch.rand_like(v) if v.is_floating_point() else v
        for k, v in net.state_dict().items()
    }
    path = tmp_path / 'bninception.pth'
    torch.save(dict(state_dict=expected), path)
    loaded = BNInception(pretrained=str(path))
    loaded.init_weights()
    loaded = loaded.state_dict()
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)


def caffe_checkpoint(net):
    """Random weights in the Caffe model's layout (``pretrainedmodels``): its
    layer names, enumerated here in the prototxt's order, with conv biases."""
    names = ['conv1_7x7_s2', 'conv2_3x3_reduce', 'conv2_3x3']
    for stage, modules in (('3', 'abc'), ('4', 'abcde'), ('5', 'ab')):
        for module in modules:
            strided = f'{stage}{module}' in ('3c', '4e')
            names += [
                f'inception_{stage}{module}_{branch}'
                for branch in ('1x1', '3x3_reduce', '3x3', 'double_3x3_reduce',
                               'double_3x3_1', 'double_3x3_2', 'pool_proj')
                if not (strided and branch in ('1x1', 'pool_proj'))
            ]
    convs = [m.conv for m in net.modules() if isinstance(m, ConvModule)]
    assert len(convs) == len(names)
    state = {}
    for name, conv in zip(names, convs):
        channels = conv.out_channels
        state[f'{name}.weight'] = torch.randn(conv.weight.shape) * 0.1
        state[f'{name}.bias'] = torch.randn(channels)
        state[f'{name}_bn.weight'] = torch.rand(channels) + 0.5
        state[f'{name}_bn.bias'] = torch.randn(channels)
        state[f'{name}_bn.running_mean'] = torch.randn(channels)
        state[f'{name}_bn.running_var'] = torch.rand(channels) + 0.5
    state['last_linear.weight'] = torch.randn(1000, 1024)
    state['last_linear.bias'] = torch.randn(1000)
    return state


def caffe_layer(state, name, x, stride=1, padding=0):
    """Conv with bias, BN, ReLU of Caffe layer ``name``, as Caffe runs it."""
    y = F.conv2d(x, state[f'{name}.weight'], state[f'{name}.bias'], stride, padding)
    y = F.batch_norm(y, state[f'{name}_bn.running_mean'],
                     state[f'{name}_bn.running_var'], state[f'{name}_bn.weight'],
                     state[f'{name}_bn.bias'])
    return F.relu(y)


def test_caffe_weights_convert_exactly(net):
    state = caffe_checkpoint(net)
    converted = BNInception().eval()
    converted.load_state_dict(
        map_bninception(state, 'bn_inception.pth').finish(converted.state_dict()))
    rgb = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        # conv1 reads RGB where Caffe read BGR; the conv bias is in BN's mean.
        # (Tolerance: float32 sums in another order, outputs of order 1-10.)
        torch.testing.assert_close(
            converted.stem.conv1(rgb),
            caffe_layer(state, 'conv1_7x7_s2', rgb.flip(1), 2, 3),
            rtol=1e-4,
            atol=1e-4)
        x = torch.randn(1, 256, 6, 6)
        torch.testing.assert_close(
            converted.inception4[4].branch3x3dbl[2](x),
            caffe_layer(state, 'inception_4e_double_3x3_2', x, 2, 1),
            rtol=1e-4,
            atol=1e-4)
    # Strict accounting: a tensor with no place, a tensor missing.
    state['extra.weight'] = torch.zeros(1)
    with pytest.raises(
            ConversionError, match='1 source keys never used:\n    extra.weight'):
        map_bninception(state, 'bn_inception.pth').finish(converted.state_dict())
    del state['extra.weight'], state['inception_5b_pool_proj_bn.running_var']
    with pytest.raises(
            ConversionError,
            match="'inception_5b_pool_proj_bn.running_var' is missing"):
        map_bninception(state, 'bn_inception.pth')
