"""KINetBackbone: trunk/branch split, shared initial weights, CBI placement.

The tests parametrised by ``family`` run on every backbone family in
``fixtures.backbones.FAMILIES``; the rest pin ResNet-specific numbers.
"""
import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import pytest
import torch
from fixtures.backbones import FAMILIES, final_map

import kinet_mm  # noqa: F401
from kinet_mm.models.backbones import (BaseStageAdapter, KINetBackbone,
                                       TeacherFeatureBranch)

RESNET18 = FAMILIES['mmaction-resnet18']['backbone']


def build(**kwargs):
    backbone = KINetBackbone(backbone=RESNET18, **kwargs)
    backbone.init_weights()
    return backbone


def build_family(family, **kwargs):
    spec = FAMILIES[family]
    kwargs = dict(
        dict(
            backbone=spec['backbone'],
            branch_from=spec['branch_from'],
            cbi_positions=spec['cbi_positions']), **kwargs)
    torch.manual_seed(0)
    backbone = KINetBackbone(**kwargs)
    backbone.init_weights()
    return backbone, torch.rand(2, 3, spec['size'], spec['size'])


def mix_cbis(backbone):
    """Leave the CBIs' identity init: the auxiliary maps must matter."""
    for cbi in backbone.cbis.values():
        torch.nn.init.normal_(cbi.fuse.weight, std=0.05)


@pytest.mark.parametrize('family', FAMILIES)
def test_adapter_walks_the_network_as_its_own_forward(family):
    backbone, frames = build_family(family)
    backbone.eval()
    net, adapter = backbone.net, backbone.adapter
    with torch.no_grad():
        x = adapter.stem(net, frames)
        for blocks in adapter.stages(net).values():
            for block in blocks:
                x = block(x)
        torch.testing.assert_close(x, final_map(net(frames)))
    assert backbone.feat_dim == x.shape[1]


@pytest.mark.parametrize('family', FAMILIES)
def test_branches_start_from_the_same_weights_and_outputs(family):
    backbone, frames = build_family(family, cbi_positions=())
    backbone.eval()
    for name in ('human', 'scene'):
        branch = backbone.aux_branches[name]
        assert branch.stage_names == list(backbone.branch_stages)
        for stage in backbone.branch_stages:
            for copied, block in zip(getattr(branch, stage), backbone._blocks[stage]):
                copy, original = copied.state_dict(), block.state_dict()
                assert copy.keys() == original.keys()
                assert all(torch.equal(copy[k], original[k]) for k in copy)
    action, human, scene = backbone(frames)
    torch.testing.assert_close(action, human)
    torch.testing.assert_close(action, scene)


@pytest.mark.parametrize('family', FAMILIES)
def test_kinet_starts_as_its_tsn_twin(family):
    """Equal branches and identity-initialised CBIs: after init_weights the
    action map is the wrapped network's own, CBIs included."""
    backbone, frames = build_family(family)
    assert len(backbone.cbis) == len(FAMILIES[family]['cbi_positions'])
    backbone.eval()
    with torch.no_grad():
        torch.testing.assert_close(backbone(frames)[0], final_map(backbone.net(frames)))


@pytest.mark.parametrize('family', FAMILIES)
def test_branches_do_not_share_parameters_with_the_trunk_or_each_other(family):
    backbone, _ = build_family(family)
    action = {
        id(p)
        for stage in backbone.branch_stages
        for block in backbone._blocks[stage]
        for p in block.parameters()
    }
    seen = set(action)
    for branch in backbone.aux_branches.values():
        params = {id(p) for p in branch.parameters()}
        assert params and seen.isdisjoint(params)
        seen |= params
    trunk = {id(p) for p in backbone.net.parameters()} - action
    assert trunk and trunk.isdisjoint(seen - action)


@pytest.mark.parametrize('family', FAMILIES)
def test_gradients_reach_every_branch(family):
    backbone, frames = build_family(family)
    backbone.train()
    mix_cbis(backbone)
    outputs = backbone(frames)
    sum(o.mean() for o in outputs).backward()
    for name, param in backbone.named_parameters():
        assert param.grad is not None, name
    assert len(backbone.cbis) == len(FAMILIES[family]['cbi_positions'])


@pytest.mark.parametrize('family', FAMILIES)
def test_cbi_placements_are_checked_against_the_family_stages(family):
    spec = FAMILIES[family]
    backbone, _ = build_family(family, cbi_positions=())
    stages, first = backbone.stage_names, backbone.branch_stages[0]
    with pytest.raises(ValueError, match=f'the stages of .* are .*{stages[-1]}'):
        build_family(family, cbi_positions=(('no_such_stage', -1), ))
    with pytest.raises(ValueError, match=f'needs per-branch {stages[0]}'):
        build_family(family, cbi_positions=((stages[0], -1), ))
    blocks = len(backbone._blocks[first])
    with pytest.raises(ValueError, match=f'{first} has {blocks} blocks'):
        build_family(family, cbi_positions=((first, blocks), ))
    with pytest.raises(ValueError, match='branch_from must be one of'):
        build_family(family, branch_from=stages[0])
    assert spec['branch_from'] in stages


@pytest.mark.parametrize('family', FAMILIES)
def test_pretrained_weights_reach_the_network_and_every_branch(family, tmp_path):
    spec = FAMILIES[family]
    torch.manual_seed(1)
    reference = KINetBackbone(
        backbone=spec['backbone'], cbi_positions=(),
        branch_from=spec['branch_from']).net
    state = {
        k: v + torch.rand_like(v) if v.is_floating_point() else v
        for k, v in reference.state_dict().items()
    }
    torch.save(state, tmp_path / 'pretrained.pth')
    backbone, _ = build_family(
        family,
        backbone=dict(
            spec['backbone'],
            init_cfg=dict(
                type='Pretrained', checkpoint=str(tmp_path / 'pretrained.pth'))))
    loaded = backbone.net.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    for branch in backbone.aux_branches.values():
        for stage in backbone.branch_stages:
            for copied, block in zip(getattr(branch, stage), backbone._blocks[stage]):
                for key, value in copied.state_dict().items():
                    assert torch.equal(value, block.state_dict()[key]), key


@pytest.mark.parametrize('family', FAMILIES)
def test_partial_bn_freezes_every_norm_but_the_trunks_first(family):
    backbone, frames = build_family(family, partial_bn=True)
    backbone.train()
    norms = [
        m for m in backbone.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    first = norms[0]
    assert any(first is m for m in backbone.net.modules())
    before = {id(m): (m.running_mean.clone(), m.weight.detach().clone()) for m in norms}
    optimizer = torch.optim.SGD([p for p in backbone.parameters() if p.requires_grad],
                                lr=0.1)
    sum(o.mean() for o in backbone(frames)).backward()
    optimizer.step()
    for norm in norms:
        mean, weight = before[id(norm)]
        moved = not torch.equal(norm.running_mean, mean)
        assert moved == (norm is first)
        assert (not torch.equal(norm.weight, weight)) == (norm is first)


def test_resnet_split_names_the_paper_stages():
    backbone = build()
    assert backbone.stage_names == ('res2', 'res3', 'res4', 'res5')
    assert backbone.trunk_stages == ('res2', 'res3')
    assert backbone.branch_stages == ('res4', 'res5')
    assert backbone.block_channels == dict(
        res2=[64, 64], res3=[128, 128], res4=[256, 256], res5=[512, 512])
    assert sorted(backbone.state_dict())[0].startswith('aux_branches.human.res4.0.')
    frames = torch.rand(2, 3, 64, 64)
    assert backbone.eval()(frames)[0].shape == (2, 512, 2, 2)


def test_cbi_modules_follow_positions_and_mix_branches():
    backbone = build(cbi_positions=(('res4', 0), ('res4', -1), ('res5', -1)))
    assert sorted(backbone.cbis) == ['res4_0', 'res4_1', 'res5_1']
    assert backbone.cbis['res5_1'].in_channels == 512
    assert backbone.cbis['res4_0'].in_channels == 256
    mix_cbis(backbone)
    backbone.eval()
    frames = torch.rand(2, 3, 64, 64)
    action, human, _ = backbone(frames)
    with torch.no_grad():
        for param in backbone.aux_branches['human'].parameters():
            param.mul_(0.5)
    action_after, human_after, _ = backbone(frames)
    assert not torch.allclose(human, human_after)
    assert not torch.allclose(action, action_after)  # human reached the action map


@pytest.mark.parametrize('kwargs, message', [
    (dict(aux_branches=(), cbi_positions=(('res4', -1), )), 'auxiliary branch'),
    (dict(fixed_branches=dict(face={})), 'not among aux_branches'),
])
def test_invalid_configs_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KINetBackbone(backbone=RESNET18, **kwargs)


def test_a_backbone_without_adapter_names_the_fix():
    with pytest.raises(TypeError, match='register_stage_adapter'):
        KINetBackbone(backbone=dict(type='C3D', _scope_='mmaction'))
    assert BaseStageAdapter.probe_size > 0


def test_norm_eval_applies_to_auxiliary_branches():
    backbone = KINetBackbone(backbone=dict(RESNET18, norm_eval=True)).train()
    norms = [
        m for m in backbone.aux_branches.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    assert norms and not any(m.training for m in norms)


def test_teacher_feature_branch_stands_in_through_the_same_interface():
    """Table 4: a frozen teacher's maps, adapted, resized, read by the CBIs."""
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    fixed = dict(
        type='TeacherFeatureBranch',
        teacher=dict(type='_TestBrightnessHumanTeacher'),
        stage_indices=(0, 1),
        in_channels=(1, 1),
        mean=mean,
        std=std)
    backbone = build(fixed_branches=dict(human=fixed)).eval()
    branch = backbone.aux_branches['human']
    assert isinstance(branch, TeacherFeatureBranch)
    mix_cbis(backbone)
    frames = torch.rand(2, 3, 64, 64)
    action, human, scene = backbone(frames)
    # Its res5 map: the teacher's stride-32 map of the un-normalised frames,
    # adapted to 512 channels, at the action map's 2x2.
    raw = frames * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)
    teacher_map = branch.teacher.extract_stages(raw)[1]
    torch.testing.assert_close(human, branch.adapters[1](teacher_map))
    assert human.shape == action.shape == scene.shape == (2, 512, 2, 2)
    with torch.no_grad():
        branch.adapters[0].conv.weight.mul_(2)  # only the res4 tap reads it
    action_after, human_after, _ = backbone(frames)
    torch.testing.assert_close(human_after, human)
    assert not torch.allclose(action_after, action)  # the res4 CBI read it
    # Teacher stages are frozen; the adapters learn.
    assert not any(p.requires_grad for p in branch.teacher.parameters())
    assert all(p.requires_grad for p in branch.adapters.parameters())
