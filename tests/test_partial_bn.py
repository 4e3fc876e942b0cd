"""Partial BN for UCF-101 fine-tuning (paper section 4.2: "all but the first
batch normalization layer frozen"), over the trunk, every branch and the CBIs,
checked through a KINet training step on each backbone family."""
import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import pytest
import torch
from fixtures.backbones import FAMILIES
from fixtures.knowledge import human_task
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper
from torch.nn.modules.batchnorm import _BatchNorm

from kinet_mm.models.backbones import KINetBackbone

#: The trunk's first BatchNorm of each family (the one partial BN trains).
STEM_NORM = {
    'mmaction-resnet18': 'backbone.net.conv1.bn',
    'mmaction-mobilenetv2': 'backbone.net.conv1.bn'
}
NUM_SEGS = 3


def build_kinet(family):
    spec = FAMILIES[family]
    backbone = dict(
        type='KINetBackbone',
        backbone=spec['backbone'],
        branch_from=spec['branch_from'],
        cbi_positions=spec['cbi_positions'],
        partial_bn=True)
    torch.manual_seed(0)
    feat_dim = MODELS.build(backbone).feat_dim
    # The human decoder has a BatchNorm of its own, outside the backbone.
    model = MODELS.build(
        dict(
            type='KINet',
            backbone=backbone,
            cls_head=dict(type='AKGHead', num_classes=5, in_channels=feat_dim),
            knowledge=dict(
                human=human_task(feat_dim, channels=4),
                scene=dict(type='SceneKnowledge')),  # a branch without a head
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCHW')))
    model.init_weights()
    size = spec['size']
    data = dict(
        inputs=[
            torch.randint(0, 256, (NUM_SEGS, 3, size, size), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[ActionDataSample().set_gt_label(label) for label in (1, 3)])
    return model, data


def norms_moved_by_a_step(model, data):
    """Names of the BatchNorms whose statistics or affine parameters changed
    in one ``train_step`` (as MMEngine's train loop runs it)."""
    model.train()
    norms = {name: m for name, m in model.named_modules() if isinstance(m, _BatchNorm)}
    before = {
        name: {
            k: v.clone()
            for k, v in m.state_dict().items()
        }
        for name, m in norms.items()
    }
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(data, optim)
    return {
        name
        for name, m in norms.items()
        if any(not torch.equal(v, before[name][k]) for k, v in m.state_dict().items())
    }, norms


@pytest.mark.parametrize('family', STEM_NORM)
def test_a_training_step_moves_only_the_trunks_first_norm(family):
    model, data = build_kinet(family)
    moved, norms = norms_moved_by_a_step(model, data)
    assert moved == {STEM_NORM[family]}
    # The frozen ones span the trunk, the action branch, both auxiliary
    # branches and the CBIs; they stay in eval mode without gradients.
    for part in ('backbone.net.', 'backbone.aux_branches.human.',
                 'backbone.aux_branches.scene.', 'backbone.cbis.',
                 'knowledge.human.head.'):
        frozen = [
            m for name, m in norms.items()
            if name.startswith(part) and name != STEM_NORM[family]
        ]
        assert frozen, part
        assert not any(m.training or p.requires_grad for m in frozen
                       for p in m.parameters()), part


def test_the_check_fails_if_an_auxiliary_branch_norm_stays_trainable(monkeypatch):
    """A partial BN that forgets one auxiliary branch's BN is caught."""
    train = KINetBackbone.train

    def leaky_train(self, mode=True):
        train(self, mode)
        leaked = next(m for m in self.aux_branches['scene'].modules()
                      if isinstance(m, _BatchNorm))
        leaked.train(mode)
        leaked.requires_grad_(True)
        return self

    monkeypatch.setattr(KINetBackbone, 'train', leaky_train)
    model, data = build_kinet('mmaction-resnet18')
    moved, _ = norms_moved_by_a_step(model, data)
    assert moved == {
        STEM_NORM['mmaction-resnet18'], 'backbone.aux_branches.scene.res4.0.conv1.bn'
    }
