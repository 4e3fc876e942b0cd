"""KINetBackbone: trunk/branch split, shared initial weights, CBI placement."""
import pytest
import torch

import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)

import kinet_mm  # noqa: F401
from kinet_mm.models.backbones import KINetBackbone, TeacherFeatureBranch

RESNET18 = dict(type='ResNet', depth=18, pretrained=None, norm_eval=False)


def build(**kwargs):
    backbone = KINetBackbone(backbone=RESNET18, **kwargs)
    backbone.init_weights()
    return backbone


def test_branches_start_from_the_same_weights_and_outputs():
    backbone = build(cbi_positions=()).eval()
    for name in ('human', 'scene'):
        for layer in ('layer3', 'layer4'):
            copy = getattr(backbone.aux_branches[name], layer).state_dict()
            original = getattr(backbone.resnet, layer).state_dict()
            assert copy.keys() == original.keys()
            assert all(torch.equal(copy[k], original[k]) for k in copy)
    frames = torch.rand(2, 3, 64, 64)
    action, human, scene = backbone(frames)
    assert action.shape == (2, 512, 2, 2)
    torch.testing.assert_close(action, human)
    torch.testing.assert_close(action, scene)


def test_trunk_is_shared_and_branches_are_not():
    backbone = build()
    assert backbone.trunk_layers == ['layer1', 'layer2']
    assert backbone.branch_layers == ['layer3', 'layer4']
    trunk_params = {id(p) for layer in ('conv1', 'layer1', 'layer2')
                    for p in getattr(backbone.resnet, layer).parameters()}
    for branch in backbone.aux_branches.values():
        assert trunk_params.isdisjoint(id(p) for p in branch.parameters())
        assert {id(p) for p in branch.layer3.parameters()}.isdisjoint(
            id(p) for p in backbone.resnet.layer3.parameters())


def test_cbi_modules_follow_positions_and_mix_branches():
    backbone = build(cbi_positions=(('res4', 0), ('res4', -1), ('res5', -1)))
    assert sorted(backbone.cbis) == ['layer3_0', 'layer3_1', 'layer4_1']
    assert backbone.cbis['layer4_1'].in_channels == 512
    for cbi in backbone.cbis.values():  # leave identity init: aux must matter
        torch.nn.init.normal_(cbi.fuse.weight, std=0.05)
    backbone.eval()
    frames = torch.rand(2, 3, 64, 64)
    action, human, _ = backbone(frames)
    with torch.no_grad():
        for param in backbone.aux_branches['human'].parameters():
            param.mul_(0.5)
    action_after, human_after, _ = backbone(frames)
    assert not torch.allclose(human, human_after)
    assert not torch.allclose(action, action_after)  # human reached the action map


def test_gradients_reach_every_branch():
    backbone = build().train()
    outputs = backbone(torch.rand(2, 3, 64, 64))
    sum(o.mean() for o in outputs).backward()
    for name, param in backbone.named_parameters():
        assert param.grad is not None, name


@pytest.mark.parametrize('kwargs, message', [
    (dict(branch_from='res2'), 'branch_from'),
    (dict(cbi_positions=(('res3', -1), )), 'needs per-branch res3'),
    (dict(cbi_positions=(('res4', 5), )), 'has 2 blocks'),
    (dict(aux_branches=(), cbi_positions=(('res4', -1), )), 'auxiliary branch'),
])
def test_invalid_configs_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KINetBackbone(backbone=RESNET18, **kwargs)


def test_norm_eval_applies_to_auxiliary_branches():
    backbone = KINetBackbone(backbone=dict(RESNET18, norm_eval=True)).train()
    norms = [m for m in backbone.aux_branches.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)


def test_teacher_feature_branch_stands_in_through_the_same_interface():
    """Table 4: a frozen teacher's maps, adapted, resized, read by the CBIs."""
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    fixed = dict(type='TeacherFeatureBranch',
                 teacher=dict(type='_TestBrightnessHumanTeacher'),
                 stage_indices=(0, 1), in_channels=(1, 1), mean=mean, std=std)
    backbone = build(fixed_branches=dict(human=fixed)).eval()
    branch = backbone.aux_branches['human']
    assert isinstance(branch, TeacherFeatureBranch)
    for cbi in backbone.cbis.values():  # leave identity init: aux must matter
        torch.nn.init.normal_(cbi.fuse.weight, std=0.05)
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
