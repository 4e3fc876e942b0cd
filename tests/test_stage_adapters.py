"""Stage adapters of MMPretrain's families, and KINet/TSN built from the
BN-Inception and Inception V3 configs.

BN-Inception also runs the per-family KINetBackbone tests
(``tests/fixtures/backbones.FAMILIES``). Inception V3 cannot join them: its
``forward`` returns class logits, so here the reference for its final feature
map is ``Mixed_7c``'s output, captured by a forward hook while the network runs
its own ``forward``. MMPretrain's ResNets name their stages as MMAction2's
(res2..res5), so the CBI checks of the ResNet family apply to them unchanged.
"""
import functools
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

import kinet_mm  # noqa: F401
from kinet_mm.analysis.inputs import synthetic_pseudo_labels
from kinet_mm.models.backbones import KINetBackbone, stage_adapter_for
from kinet_mm.models.knowledge import teacher_free

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
INCEPTION_V3 = dict(type='mmpretrain.InceptionV3', num_classes=10)
V3_SIZE = 75  # the smallest input Inception V3's unpadded strides accept


def walk(net, x):
    """The adapter's stem, then every block of every stage."""
    adapter = stage_adapter_for(net)
    x = adapter.stem(net, x)
    for blocks in adapter.stages(net).values():
        for block in blocks:
            x = block(x)
    return x


@pytest.mark.parametrize('backbone', ['ResNet', 'ResNetV1d', 'ResNet_CIFAR'])
def test_mmpretrain_resnet_stems_walk_as_the_forward(backbone):
    # Plain stem + max pool, deep stem + max pool (V1c, V1d), 3x3 stem
    # without max pool.
    torch.manual_seed(0)
    net = MODELS.build(dict(type=f'mmpretrain.{backbone}', depth=18))
    net.eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(walk(net, x), net(x)[-1], rtol=0, atol=0)
    assert list(stage_adapter_for(net).stages(net)) == ['res2', 'res3', 'res4', 'res5']


def test_kinet_backbone_on_mmpretrain_resnet(tmp_path):
    """Pretrained weights reach the net and both branch copies; gradients
    reach every branch and CBI."""
    cfg = dict(type='mmpretrain.ResNetV1d', depth=18)
    torch.manual_seed(0)
    state = {
        k: v * (1 + 0.1 * torch.rand_like(v)) if v.is_floating_point() else v
        for k, v in MODELS.build(cfg).state_dict().items()
    }
    torch.save(state, tmp_path / 'resnet.pth')
    backbone = KINetBackbone(
        backbone=dict(
            cfg,
            init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'resnet.pth'))),
        branch_from='res5',
        cbi_positions=(('res5', -1), ))
    backbone.init_weights()
    loaded = backbone.net.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    for branch in backbone.aux_branches.values():
        for copied, block in zip(branch.res5, backbone._blocks['res5']):
            copy_state = copied.state_dict()
            assert all(
                torch.equal(copy_state[k], v) for k, v in block.state_dict().items())
    torch.nn.init.normal_(backbone.cbis['res5_1'].fuse.weight, std=0.05)
    outputs = backbone(torch.rand(2, 3, 64, 64))
    sum(o.mean() for o in outputs).backward()
    for name, param in backbone.named_parameters():
        assert param.grad is not None, name


@pytest.fixture(scope='module')
def inception(tmp_path_factory):
    """KINet on Inception V3 initialised from a checkpoint file."""
    path = tmp_path_factory.mktemp('inception') / 'inception_v3.pth'
    torch.manual_seed(0)
    backbone = KINetBackbone(
        backbone=dict(
            INCEPTION_V3, init_cfg=dict(type='Pretrained', checkpoint=str(path))),
        branch_from='mixed6',
        cbi_positions=(('mixed6', 0), ))
    # The file: the built weights rescaled by U(1, 1.1) (no blow-up through
    # 40 layers), so that loading it shows.
    state = {
        k: v * (1 + 0.1 * torch.rand_like(v)) if v.is_floating_point() else v
        for k, v in backbone.net.state_dict().items()
    }
    torch.save(dict(state_dict=state), path)
    backbone.init_weights()
    return backbone, state


def test_inception_v3_walks_as_its_forward(inception):
    backbone, _ = inception
    net = backbone.net
    net.eval()
    captured = []
    hook = net.Mixed_7c.register_forward_hook(
        lambda module, args, out: captured.append(out))
    x = torch.rand(2, 3, V3_SIZE, V3_SIZE)
    with torch.no_grad():
        logits = net(x)[-1]
        walked = walk(net, x)
    hook.remove()
    assert logits.shape == (2, 10)  # the net's forward ends in its classifier
    torch.testing.assert_close(walked, captured[0], rtol=0, atol=0)
    # Channels of Mixed_5b..7c (torchvision's and MMPretrain's shape notes).
    assert backbone.block_channels == dict(
        mixed5=[256, 288, 288], mixed6=[768] * 5, mixed7=[1280, 2048, 2048])
    assert backbone.feat_dim == 2048
    assert backbone.trunk_stages == ('mixed5', )


def test_inception_v3_pretrained_weights_reach_every_branch(inception):
    backbone, state = inception
    loaded = backbone.net.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    for name in ('human', 'scene'):
        branch = backbone.aux_branches[name]
        assert branch.stage_names == ['mixed6', 'mixed7']
        for stage in branch.stage_names:
            for copied, block in zip(getattr(branch, stage), backbone._blocks[stage]):
                copy_state, original = copied.state_dict(), block.state_dict()
                assert copy_state.keys() == original.keys()
                assert all(torch.equal(copy_state[k], original[k]) for k in original)
    # CBIs start as the identity, so all three branches give the same map.
    backbone.eval()
    with torch.no_grad():
        action, human, scene = backbone(torch.rand(2, 3, V3_SIZE, V3_SIZE))
    assert action.shape == (2, 2048, 1, 1)
    torch.testing.assert_close(action, human)
    torch.testing.assert_close(action, scene)


@pytest.mark.parametrize('position, message', [
    (('Mixed_6e', -1), r"unknown CBI stage 'Mixed_6e'; the stages of "
     r"InceptionV3 are \('mixed5', 'mixed6', 'mixed7'\)"),
    (('mixed5', -1), 'CBI at mixed5 needs per-branch mixed5'),
])
def test_inception_v3_cbi_positions_are_checked(position, message):
    with pytest.raises(ValueError, match=message):
        KINetBackbone(
            backbone=INCEPTION_V3,
            branch_from='mixed6',
            aux_branches=(),
            cbi_positions=(position, ))


def one_step_and_predict(config, size, **backbone):
    """Build ``config``'s model (no teachers, no downloads), run one step of
    the config's optimizer (its gradient clipping keeps the step sane on a
    1x1 final map) on a 3-segment clip and predict it."""
    cfg = Config.fromfile(str(CONFIGS / config))
    cfg.model = teacher_free(cfg.model)
    cfg.model.backbone.update(backbone)
    cfg.model.test_cfg = dict(num_segs=3, window_size=3)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # no init_weights(): no ImageNet download
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    sample = ActionDataSample().set_gt_label(torch.tensor([7]))
    sample = synthetic_pseudo_labels(
        sample, model.knowledge, num_frames=3, size=(size, size))
    frames = [torch.randint(0, 256, (3, 3, size, size), dtype=torch.uint8)]
    data = model.data_preprocessor(dict(inputs=frames, data_samples=[sample]), True)
    losses = model(**data, mode='loss')
    optim_wrapper.backward(sum(v for k, v in losses.items() if k.startswith('loss')))
    # The wrapped net's own classifier (Inception V3's ``fc``) never runs.
    unreached = [
        name for name, p in model.named_parameters()
        if p.requires_grad and p.grad is None
    ]
    # The last trainable tensor of every part: trunk, action branch, the
    # other branches, CBIs, heads.
    blocks, stages = model.backbone._blocks, model.backbone.stage_names
    parts = [
        blocks[stages[0]][0], blocks[stages[-1]][-1],
        *model.backbone.aux_branches.values(), *model.backbone.cbis.values(),
        model.cls_head, *[task.head for task in model.knowledge.values()]
    ]
    watched = [[p for p in part.parameters() if p.requires_grad][-1] for part in parts]
    before = [p.detach().clone() for p in watched]
    optim_wrapper.step()  # the config's SGD with its gradient clipping
    moved = [not torch.equal(p, b) for p, b in zip(watched, before)]
    model.eval()
    data = model.data_preprocessor(
        dict(inputs=frames, data_samples=[ActionDataSample()]), False)
    with torch.no_grad():
        scores = model(**data, mode='predict')[0].pred_score
    return model, losses, unreached, moved, scores


@pytest.mark.parametrize(
    'config, size, channels, backbone',
    [
        # Branches from inception5 only, to keep the test fast (the config's
        # inception4 split: the per-family tests).
        ('kinet_imagenet-pretrained-bninception_8xb32-1x1x3-70e_kinetics400-rgb.py', 64,
         1024, dict(branch_from='inception5', cbi_positions=(('inception5', -1), ))),
        # Likewise from mixed7 (the config's mixed6 split: the fixture above).
        ('kinet_imagenet-pretrained-inception-v3_8xb32-1x1x3-70e_kinetics400-rgb.py',
         V3_SIZE, 2048, dict(branch_from='mixed7', cbi_positions=(('mixed7', -1), ))),
    ],
    ids=['bninception', 'inception-v3'])
def test_kinet_config_trains_one_step_and_predicts(config, size, channels, backbone):
    model, losses, unreached, moved, scores = one_step_and_predict(
        f'kinet/{config}', size, **backbone)
    expected = {'loss_cls', 'loss_human', 'loss_scene'}
    assert expected <= set(losses)
    assert all(torch.isfinite(losses[k]) for k in expected)
    assert model.backbone.feat_dim == channels
    assert model.backbone.branch_names == ('action', 'human', 'scene')
    assert unreached == ([] if channels == 1024 else
                         ['backbone.net.fc.weight', 'backbone.net.fc.bias'])
    assert all(moved)
    assert scores.shape == (400, )
    assert torch.isfinite(scores).all()
    assert torch.isclose(scores.sum(), torch.tensor(1.0))


@functools.lru_cache()
def kinet_r50_config():
    return Config.fromfile(
        str(CONFIGS / 'kinet' /
            'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'))


@pytest.mark.parametrize('backbone', ['bninception', 'inception-v3'])
def test_tsn_and_kinet_configs_differ_only_by_kinet(backbone):
    name = f'imagenet-pretrained-{backbone}_8xb32-1x1x3-70e_kinetics400-rgb.py'
    tsn = Config.fromfile(str(CONFIGS / 'tsn' / f'tsn_{name}'))
    kinet = Config.fromfile(str(CONFIGS / 'kinet' / f'kinet_{name}'))
    resnet = kinet_r50_config()
    for key in kinet.keys() - {'model'}:
        assert tsn[key] == kinet[key], key
    assert tsn.model.backbone.backbone == kinet.model.backbone.backbone
    assert tsn.model.knowledge == {}  # hence no auxiliary branch, head, teacher
    assert tsn.model.cls_head.type == 'TSNHead'
    assert tsn.model.cls_head.in_channels == kinet.model.cls_head.in_channels
    # And KINet on this backbone is KINet-R50 but for the backbone's parts
    # (BN-Inception's Caffe weights also want their own input normalisation).
    for key in kinet.model.keys() - {
            'backbone', 'cls_head', 'knowledge', 'data_preprocessor'
    }:
        assert kinet.model[key] == resnet.model[key], key
    for name, task in kinet.model.knowledge.items():
        r50_task = resnet.model.knowledge[name]
        assert task.head.in_channels == kinet.model.cls_head.in_channels
        assert {k: v for k, v in task.items() if k != 'head'} == \
            {k: v for k, v in r50_task.items() if k != 'head'}
    ours, r50 = ({
        k: v
        for k, v in cfg.model.data_preprocessor.items() if k not in ('mean', 'std')
    } for cfg in (kinet, resnet))
    assert ours == r50
    assert kinet.train_cfg == resnet.train_cfg
    assert kinet.optim_wrapper == resnet.optim_wrapper
    assert kinet.param_scheduler == resnet.param_scheduler
