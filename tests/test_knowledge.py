"""Knowledge tasks as plug-ins: the teacher-free switch, the student-vs-teacher
agreement metric, and a third task through the same cache and pipeline."""
import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures import REPO_ROOT
from fixtures.knowledge import knowledge
from mmaction.registry import METRICS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from kinet_mm.deploy import deploy_config
from kinet_mm.models.knowledge import build_knowledge, teacher_free
from kinet_mm.models.teachers import BaseTeacher

SEGS, SIZE = 3, 64
KINET3D = REPO_ROOT / 'configs/kinet/kinet3d_inception-v1_realclips-cpu.py'


def build(**overrides):
    cfg = dict(
        type='KINet',
        backbone=dict(
            type='KINetBackbone',
            backbone=dict(type='ResNet', depth=18, pretrained=None)),
        cls_head=dict(type='AKGHead', num_classes=4, in_channels=512),
        knowledge=knowledge(512),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            format_shape='NCHW'))
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def batch(num_videos=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (SEGS, 3, SIZE, SIZE), generator=gen, dtype=torch.uint8)
            for _ in range(num_videos)
        ],
        data_samples=[ActionDataSample() for _ in range(num_videos)])


def teachers_of(model):
    return [m for m in model.modules() if isinstance(m, BaseTeacher)]


def test_agreement_metric_against_an_independent_computation():
    """Mask IoU over the dataset, scene top-1/top-5 agreement, from the
    standard predict -> metric path, against the teachers' rules recomputed
    here and the heads run by hand."""
    torch.manual_seed(0)
    model = build(test_cfg=dict(knowledge_agreement=True))
    head = model.knowledge['human'].head
    with torch.no_grad():  # a student whose mask is neither empty nor full:
        head.conv_seg.weight.normal_(0, 1)  # human on about half the pixels
        probe = model.data_preprocessor(batch(seed=0), training=False)
        feats, _ = model.extract_feat(probe['inputs'])
        logits = head([feats[1]])
        head.conv_seg.bias[1] -= (logits[:, 1] - logits[:, 0]).median()
    metric = METRICS.build(dict(type='KnowledgeAgreementMetric'))
    inter = union = top1 = frames_seen = 0
    for seed in (0, 1):
        raw = batch(seed=seed)
        data = model.data_preprocessor(raw, training=False)
        with torch.no_grad():
            predictions = model(**data, mode='predict')
            feats, _ = model.extract_feat(data['inputs'])
            human_logits = model.knowledge['human'].head([feats[1]])
            scene_logits = model.knowledge['scene'].head((feats[2].mean((2, 3)), ))
        metric.process(None, [p.to_dict() for p in predictions])
        # The stand-in teachers' rules (tests/fixtures/teachers.py).
        rgb = torch.cat([video.float() for video in raw['inputs']])
        gray = rgb.mean(dim=1)
        mask = (gray > gray.mean(dim=(1, 2), keepdim=True)).float()
        teacher = F.interpolate(mask[:, None], size=(8, 8))[:, 0] == 1
        student = F.interpolate(
            human_logits, size=(8, 8), mode='bilinear').argmax(dim=1) == 1
        inter += (student & teacher).sum().item()
        union += (student | teacher).sum().item()
        scene_teacher = rgb.mean(dim=(2, 3)).argmax(dim=1)
        top1 += (scene_logits.argmax(dim=1) == scene_teacher).sum().item()
        frames_seen += len(rgb)
    results = metric.evaluate(size=4)
    assert 0 < inter < union  # neither trivial
    assert results['knowledge/human/iou'] == pytest.approx(inter / union)
    assert results['knowledge/scene/top1'] == pytest.approx(top1 / frames_seen)
    assert results['knowledge/scene/top5'] == 1.0  # 3 classes: always in top-5


def test_agreement_needs_the_switch_and_names_it():
    model = build()
    data = model.data_preprocessor(
        dict(
            inputs=[torch.zeros(SEGS, 3, SIZE, SIZE, dtype=torch.uint8)],
            data_samples=[ActionDataSample()]),
        training=False)
    with torch.no_grad():
        prediction = model(**data, mode='predict')[0]
    assert 'knowledge_agreement' not in prediction
    metric = METRICS.build(dict(type='KnowledgeAgreementMetric'))
    with pytest.raises(KeyError, match='test_cfg.knowledge_agreement=True'):
        metric.process(None, [prediction.to_dict()])


def test_teacher_free_builds_no_teacher_for_kinet_and_kinet3d():
    cfg = Config.fromfile(str(KINET3D))
    online = MODELS.build(cfg.model)
    assert len(teachers_of(online)) == 2
    for heads, source in ((True, 'cache'), (False, 'none')):
        free = teacher_free(cfg.model, heads=heads)
        assert free.pseudo_label_source == source
        model = MODELS.build(free)
        assert teachers_of(model) == []
        assert all(
            (task.head is not None) == heads for task in model.knowledge.values())
        # The branches stay whatever the switch: CBI and AKG read them.
        assert model.backbone.branch_names == ('action', 'human', 'scene')
    assert 'pseudo_label_source' not in cfg.model  # a copy was changed
    plain = dict(type='Recognizer2D', backbone=dict(type='ResNet'))
    assert teacher_free(plain) == plain


def test_kinet3d_deploys_and_predicts_without_teachers():
    cfg = Config.fromfile(str(KINET3D))
    deployed = MODELS.build(deploy_config(cfg).model)
    assert teachers_of(deployed) == [] and not list(deployed.knowledge.parameters())
    full = MODELS.build(teacher_free(cfg.model))
    full.load_state_dict(deployed.state_dict(), strict=False)
    full.eval(), deployed.eval()
    raw = dict(
        inputs=[torch.randint(0, 256, (1, 3, 16, 32, 32), dtype=torch.uint8)],
        data_samples=[ActionDataSample()])
    with torch.no_grad():
        expected = full.test_step(raw)[0].pred_score
        scores = deployed.test_step(raw)[0].pred_score
    torch.testing.assert_close(scores, expected)
    raw['data_samples'][0].set_gt_label(torch.tensor([1]))
    data = full.data_preprocessor(raw, True)
    with pytest.raises(ValueError, match='KINet3D labels the frame'):
        full.train()(**data, mode='loss')


def test_tasks_without_head_or_teacher_still_decode_and_draw():
    """What the cache and the panels build: tasks from settings alone."""
    tasks = build_knowledge(
        dict(
            knowledge=dict(
                human=dict(type='HumanParsingKnowledge', cache_short_side=4),
                skipped=None)), 'none')
    assert list(tasks) == ['human'] and not tasks['human'].distils
    masks = np.random.default_rng(0).random((2, 4, 6)) > 0.5
    arrays = tasks['human'].encode({'pseudo_human_mask': torch.from_numpy(masks)},
                                   (40, 60))
    assert arrays['pseudo_human_mask'].shape == (2, 3)  # 24 bits per frame
    back = tasks['human'].decode(arrays, 2, (40, 60))['pseudo_human_mask']
    np.testing.assert_array_equal(back, masks)
    with pytest.raises(
            ValueError, match=r'pseudo_human_mask is \(2, 3\), '
            r'expected \(3, 3\)'):
        tasks['human'].decode(arrays, 3, (40, 60))
    with pytest.raises(ValueError, match='pseudo_label_source must be one of'):
        build_knowledge(dict(knowledge={}), 'teachers')
