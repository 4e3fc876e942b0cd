"""KINet recognizer: loss terms and weights, teachers, predict-mode behaviour."""
import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import pytest
import torch
import torch.nn.functional as F
from fixtures.knowledge import human_task, knowledge, scene_task
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

import kinet_mm  # noqa: F401

SCENE_IDX, SCENE_PROB = 'pseudo_scene_topk_idx', 'pseudo_scene_topk_prob'

NUM_CLASSES, SEGS, SIZE = 4, 3, 64


def model_cfg(**overrides):
    cfg = dict(
        type='KINet',
        backbone=dict(
            type='KINetBackbone',
            backbone=dict(type='ResNet', depth=18, pretrained=None)),
        cls_head=dict(
            type='AKGHead',
            num_classes=NUM_CLASSES,
            in_channels=512,
            average_clips='prob'),
        knowledge=knowledge(512),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            format_shape='NCHW'))
    cfg.update(overrides)
    return cfg


def build(**overrides):
    model = MODELS.build(model_cfg(**overrides))
    model.init_weights()
    return model


def batch(num_videos=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (SEGS, 3, SIZE, SIZE), generator=gen, dtype=torch.uint8)
        for _ in range(num_videos)
    ]
    samples = [
        ActionDataSample().set_gt_label(torch.tensor([i % NUM_CLASSES]))
        for i in range(num_videos)
    ]
    return dict(inputs=inputs, data_samples=samples)


def test_loss_terms_are_logged_separately_and_weighted():
    model = build().eval()  # no dropout: the reference below must see the same net
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_human', 'loss_scene', 'top1_acc'} <= set(losses)

    # Independent computation of the two auxiliary terms, unweighted.
    feats, _ = model.extract_feat(data['inputs'])
    frames = data['inputs'].flatten(0, 1) * model.data_preprocessor.std + \
        model.data_preprocessor.mean
    gray = frames.mean(dim=1)
    mask = (gray > gray.mean(dim=(1, 2), keepdim=True)).float()
    mask = F.interpolate(mask[:, None], size=(SIZE // 8, SIZE // 8))[:, 0].long()
    logits = model.knowledge['human'].head([feats[1]])
    logits = F.interpolate(logits, size=mask.shape[-2:], mode='bilinear')
    human = F.cross_entropy(logits, mask)
    scene_label = frames.mean(dim=(2, 3)).argmax(dim=1)
    scene = F.cross_entropy(model.knowledge['scene'].head((feats[2].mean((2, 3)), )),
                            scene_label)
    torch.testing.assert_close(losses['loss_human'], 0.01 * human)
    torch.testing.assert_close(losses['loss_scene'], 0.01 * scene)


def test_loss_weights_come_from_config():
    model = build(
        knowledge=knowledge(
            512,
            human=human_task(512, loss_weight=0.5),
            scene=scene_task(512, loss_weight=0.0)))
    data = model.data_preprocessor(batch(), training=True)
    base = build()
    base.load_state_dict(model.state_dict())
    weighted = model.eval()(**data, mode='loss')
    reference = base.eval()(**data, mode='loss')
    torch.testing.assert_close(weighted['loss_human'], 50 * reference['loss_human'])
    assert weighted['loss_scene'] == 0


def test_teachers_get_no_gradient_and_stay_in_eval_mode():
    model = build()
    model.train()
    teacher = model.knowledge['human'].teacher
    assert not teacher.training and not teacher.norm.training
    stats = teacher.norm.running_mean.clone()
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(p.grad is None and not p.requires_grad
               for task in model.knowledge.values() for p in task.teacher.parameters())
    torch.testing.assert_close(teacher.norm.running_mean, stats)
    assert model.backbone.aux_branches['human'].res4[0].conv1.conv.weight.grad \
        is not None


def test_predict_never_runs_aux_heads_or_teachers():
    model = build().eval()
    called = []
    for name, module in [(f'{name}.{part}', getattr(task, part))
                         for name, task in model.knowledge.items()
                         for part in ('head', 'teacher')]:
        module.register_forward_hook(lambda *args, name=name: called.append(name))
    data = model.data_preprocessor(batch(), training=False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert called == []
    assert results[0].pred_score.shape == (NUM_CLASSES, )


def test_cached_pseudo_labels_are_used_without_teachers():
    model = build(
        pseudo_label_source='cache',
        knowledge=knowledge(512, scene=scene_task(512, target='soft')))
    raw = batch()
    for sample in raw['data_samples']:
        sample.pseudo_human_mask = torch.ones(
            SEGS, SIZE // 8, SIZE // 8, dtype=torch.uint8)
        sample.pseudo_scene_topk_idx = torch.tensor([[2, 0]] * SEGS)
        sample.pseudo_scene_topk_prob = torch.tensor([[0.6, 0.2]] * SEGS)
    data = model.data_preprocessor(raw, training=True)
    targets = model.pseudo_labels(data['inputs'], data['data_samples'])
    assert targets['human'].shape == (2 * SEGS, SIZE // 8, SIZE // 8)
    assert (targets['human'] == 1).all()
    torch.testing.assert_close(targets['scene'][0], torch.tensor([0.25, 0.0, 0.75]))
    assert torch.isfinite(model(**data, mode='loss')['loss_scene'])


def test_missing_pseudo_labels_name_the_fix():
    with pytest.raises(ValueError, match="teacher for knowledge task 'scene'"):
        build(knowledge=knowledge(512, scene=scene_task(512, teacher=None)))
    model = build(pseudo_label_source='cache')
    assert all(task.teacher is None for task in model.knowledge.values())
    data = model.data_preprocessor(batch(), training=True)
    with pytest.raises(KeyError, match='LoadPseudoLabels'):
        model(**data, mode='loss')


def test_branches_and_nodes_are_derived_from_the_tasks():
    """One task dict decides the backbone's branches, the CBI inputs and the
    AKG's node groups; contradicting them by hand names the fix."""
    model = build(knowledge=knowledge(512, human=None))
    assert model.backbone.branch_names == ('action', 'scene')
    assert all(cbi.num_aux == 1 for cbi in model.backbone.cbis.values())
    assert model.cls_head.num_branches == 2
    data = model.data_preprocessor(batch(), training=True)
    assert set(model(**data, mode='loss')) >= {'loss_cls', 'loss_scene'}
    backbone = dict(model_cfg()['backbone'], aux_branches=('scene', ))
    with pytest.raises(ValueError, match='derived from model.knowledge'):
        build(backbone=backbone)
    with pytest.raises(ValueError, match='num_branches=3 but the model has 2'):
        build(
            knowledge=knowledge(512, human=None),
            cls_head=dict(model_cfg()['cls_head'], num_branches=3))
    with pytest.raises(ValueError, match="no longer takes \\['human_head'\\]"):
        build(human_head=dict(type='FCNHead'))


def test_test_protocol_runs_backbone_once_per_frame():
    model = build(test_cfg=dict(num_segs=5, window_size=SEGS, max_testing_views=4))
    model.eval()
    seen = []
    model.backbone.register_forward_hook(lambda m, args, out: seen.append(len(args[0])))
    views, num_segs = 2, 5
    raw = dict(
        inputs=[
            torch.randint(0, 256, (views * num_segs, 3, 32, 32), dtype=torch.uint8)
        ],
        data_samples=[ActionDataSample()])
    data = model.data_preprocessor(raw, training=False)
    with torch.no_grad():
        scores = model(**data, mode='predict')[0].pred_score
    assert sum(seen) == views * num_segs and max(seen) <= 4
    assert torch.isclose(scores.sum(), torch.tensor(1.0))  # average_clips='prob'


def test_init_weights_reaches_modules_inside_containers():
    """CBIs and auxiliary heads sit in dicts: their own init must still run."""
    model = build()
    for cbi in model.backbone.cbis.values():
        channels = cbi.in_channels
        fuse = cbi.fuse.weight[:, :, 0, 0]
        assert torch.equal(fuse[:, :channels], torch.eye(channels))
        assert not fuse[:, channels:].any()
    assert not model.knowledge['scene'].head.fc.bias.any()  # MMPretrain's Normal init


def test_an_input_shorter_than_a_test_view_is_one_view():
    """Validation with TSN's 3-segment pipeline under the 25-segment test_cfg."""
    model = build(test_cfg=dict(num_segs=25, window_size=SEGS)).eval()
    reference = build(test_cfg=dict(num_segs=SEGS)).eval()
    reference.load_state_dict(model.state_dict())
    raw = dict(
        inputs=[torch.randint(0, 256, (SEGS, 3, 32, 32), dtype=torch.uint8)],
        data_samples=[ActionDataSample()])
    data = model.data_preprocessor(raw, training=False)
    with torch.no_grad():
        scores = model(**data, mode='predict')[0].pred_score
        expected = reference(**data, mode='predict')[0].pred_score
    torch.testing.assert_close(scores, expected)
    model.test_cfg['num_segs'] = 2
    with pytest.raises(ValueError, match='num_segs=2 does not divide the 3'):
        model(**data, mode='predict')


@pytest.mark.parametrize('fixed', [False, True])
def test_teacher_weights_stay_out_of_checkpoints(fixed):
    """Wherever a teacher sits: the online labeler, a teacher-feature branch."""
    backbone = model_cfg()['backbone']
    if fixed:
        backbone = dict(
            backbone,
            fixed_branches=dict(
                scene=dict(
                    type='TeacherFeatureBranch',
                    stage_indices=(0, 1),
                    in_channels=(1, 1),
                    mean=(0, 0, 0),
                    std=(1, 1, 1),
                    teacher=dict(type='_TestBrightnessHumanTeacher'))))
    model = build(backbone=backbone)
    teacher_keys = [name for name, _ in model.named_parameters() if '.probe.' in name]
    assert len(teacher_keys) == (4 if fixed else 2)  # weight, bias each
    state = model.state_dict()
    assert state and not [k for k in state if 'teacher' in k]
    fresh = build(backbone=backbone)
    fresh.load_state_dict(state, strict=True)  # teachers load their own weights
    for key, value in state.items():
        torch.testing.assert_close(fresh.state_dict()[key], value)


def test_online_and_cached_soft_targets_are_the_same():
    """'soft' = the teacher's top-k renormalised, whichever labeler gives it."""
    tasks = knowledge(512, scene=scene_task(512, target='soft', topk=2))
    online = build(knowledge=tasks)
    data = online.data_preprocessor(batch(), training=True)
    frames = online.rgb_frames(data['inputs'])
    probs = online.knowledge['scene'].teacher(frames)  # (6, 3), mean-colour softmax
    online_targets = online.pseudo_labels(data['inputs'], data['data_samples'])

    cached = build(knowledge=tasks, pseudo_label_source='cache')
    top = probs.topk(2, dim=1)
    for i, sample in enumerate(data['data_samples']):
        rows = slice(i * SEGS, (i + 1) * SEGS)
        sample.set_field(top.indices[rows], SCENE_IDX)
        sample.set_field(top.values[rows], SCENE_PROB)
        sample.pseudo_human_mask = torch.zeros(SEGS, 8, 8, dtype=torch.uint8)
    cached_targets = cached.pseudo_labels(data['inputs'], data['data_samples'])
    torch.testing.assert_close(online_targets['scene'], cached_targets['scene'])
    # Independently: drop the smallest of the 3 probabilities, renormalise.
    expected = probs.clone()
    expected[torch.arange(len(probs)), probs.argmin(dim=1)] = 0
    expected /= expected.sum(dim=1, keepdim=True)
    torch.testing.assert_close(online_targets['scene'], expected)


def test_rgb_frames_undo_the_preprocessor():
    model = build()
    raw = batch()
    data = model.data_preprocessor(raw, training=False)
    expected = torch.cat([video.float() for video in raw['inputs']])
    torch.testing.assert_close(
        model.rgb_frames(data['inputs']), expected, rtol=0, atol=1e-4)


def test_neck_is_refused_and_stages_behave_as_in_mmaction():
    with pytest.raises(ValueError, match='KINet takes no neck'):
        build(neck=dict(type='TPN', in_channels=(512, ), out_channels=512))
    model = build().eval()
    data = model.data_preprocessor(batch(), training=False)
    with torch.no_grad():
        maps, kwargs = model.extract_feat(data['inputs'], stage='backbone')
        same, _ = model.extract_feat(data['inputs'], stage='neck')
        scores, _ = model.extract_feat(data['inputs'], stage='head')
    assert len(maps) == 3 and all(m.shape == (2 * SEGS, 512, 2, 2) for m in maps)
    assert all(torch.equal(a, b) for a, b in zip(maps, same))  # no neck
    torch.testing.assert_close(scores, model.cls_head(maps, **kwargs))
    assert scores.shape == (2, NUM_CLASSES)
    with pytest.raises(ValueError, match='stage must be one of'):
        model.extract_feat(data['inputs'], stage='features')
