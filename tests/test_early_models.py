"""GRU student / BiGRU teacher heads and the two-stage EarlyRecognizer."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

B, N, C, K = 2, 6, 5, 4
STUDENT = dict(type='GRUHead', num_classes=K, in_channels=C, hidden_channels=8)
TEACHER = dict(STUDENT, hidden_channels=4, bidirectional=True)


def _samples(*labels):
    return [ActionDataSample().set_gt_label(v) for v in labels]


@pytest.mark.parametrize('norm_cfg', [None, dict(type='BN1d')])
def test_student_is_causal_teacher_sees_the_future(norm_cfg):
    torch.manual_seed(0)
    student = MODELS.build(dict(STUDENT, norm_cfg=norm_cfg)).eval()
    teacher = MODELS.build(dict(TEACHER, norm_cfg=norm_cfg)).eval()
    x = torch.randn(B, N, C)
    future = x.clone()
    future[:, 3:] += torch.randn(B, N - 3, C)  # change levels 4..N only
    s, s_future = student(x), student(future)
    assert s.shape == (B, N, K)
    torch.testing.assert_close(s[:, :3], s_future[:, :3])  # no peeking
    assert (s[:, 3:] - s_future[:, 3:]).abs().max() > 1e-4
    t, t_future = teacher(x), teacher(future)
    assert t.shape == (B, N, K)
    assert (t[:, 0] - t_future[:, 0]).abs().max() > 1e-4  # backward direction
    assert teacher.fc_cls.in_features == 2 * 4 and student.fc_cls.in_features == 8


def test_head_names_a_feature_size_mismatch():
    with pytest.raises(ValueError, match='feature_dim'):
        MODELS.build(STUDENT)(torch.randn(B, N, C + 1))


def test_teacher_is_frozen_in_training():
    model = MODELS.build(
        dict(
            type='EarlyRecognizer',
            head=STUDENT,
            teacher=TEACHER,
            loss_ts=dict(type='StepwiseKLDivLoss'),
            loss_self=dict(type='SelfDistillationLoss')))
    model.train()
    assert model.head.training and not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    losses = model(torch.randn(B, N, C), _samples(1, -1), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_ts', 'loss_self'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None for p in model.head.parameters())


def test_distillation_needs_a_teacher():
    with pytest.raises(ValueError, match='model.teacher'):
        MODELS.build(
            dict(
                type='EarlyRecognizer',
                head=STUDENT,
                loss_ts=dict(type='StepwiseKLDivLoss')))


def _stage1_checkpoint(tmp_path):
    """A stage-1 work dir as the Runner leaves it (last_checkpoint pointer)."""
    stage1 = MODELS.build(dict(type='EarlyRecognizer', head=TEACHER))
    path = tmp_path / 'epoch_3.pth'
    torch.save(dict(meta=dict(epoch=3), state_dict=stage1.state_dict()), path)
    (tmp_path / 'last_checkpoint').write_text(str(path))
    return stage1


def test_student_loads_the_stage1_teacher_from_a_work_dir(tmp_path):
    stage1 = _stage1_checkpoint(tmp_path)
    torch.manual_seed(1)
    model = MODELS.build(
        dict(
            type='EarlyRecognizer',
            head=STUDENT,
            teacher=TEACHER,
            teacher_checkpoint=str(tmp_path),
            loss_ts=dict(type='StepwiseKLDivLoss')))
    x = torch.randn(B, N, C)
    assert not torch.allclose(model.teacher(x), stage1.head(x))
    model.init_weights()  # the Runner calls this when training starts
    torch.testing.assert_close(model.teacher(x), stage1.head(x))


def test_teacher_checkpoint_errors_name_the_file(tmp_path):
    _stage1_checkpoint(tmp_path)
    wrong = dict(TEACHER, hidden_channels=6)
    model = MODELS.build(
        dict(
            type='EarlyRecognizer',
            head=STUDENT,
            teacher=wrong,
            teacher_checkpoint=str(tmp_path),
            loss_ts=dict(type='StepwiseKLDivLoss')))
    with pytest.raises(RuntimeError, match='epoch_3.pth'):
        model.init_weights()
    missing = MODELS.build(
        dict(
            type='EarlyRecognizer',
            head=STUDENT,
            teacher=TEACHER,
            teacher_checkpoint=str(tmp_path / 'nowhere')))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        missing.init_weights()


def test_predict_fills_every_level():
    model = MODELS.build(dict(type='EarlyRecognizer', head=STUDENT)).eval()
    x = torch.randn(B, N, C)
    out = model(list(x), _samples(0, 3), mode='predict')
    logits = model(x, mode='tensor')
    for b, sample in enumerate(out):
        assert sample.level_scores.shape == (N, K)
        torch.testing.assert_close(sample.level_scores, logits[b].softmax(-1))
        torch.testing.assert_close(sample.pred_score, sample.level_scores[-1])
