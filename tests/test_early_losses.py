"""Eqs. (1)-(4) of early-recognition distillation against explicit loops."""
import math

import pytest
import torch
from mmaction.registry import MODELS

B, N, K = 3, 5, 4


def _probs(logits):
    """Softmax written out, independent of torch.softmax."""
    exp = [math.exp(v) for v in logits]
    total = sum(exp)
    return [e / total for e in exp]


def _kl(p, q):
    """KL(p || q) = sum_k p_k log(p_k / q_k), from probability lists."""
    return sum(pk * math.log(pk / qk) for pk, qk in zip(p, q))


def _logits(seed):
    return torch.randn(
        B, N, K, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2


def test_stepwise_cross_entropy_is_mean_over_steps_and_labelled_sequences():
    loss = MODELS.build(dict(type='StepwiseCrossEntropyLoss', loss_weight=0.7))
    scores = _logits(0)
    labels = torch.tensor([2, -1, 0])
    expected, count = 0.0, 0
    for b in range(B):
        if labels[b] < 0:
            continue
        per_seq = sum(-math.log(_probs(scores[b, n].tolist())[labels[b]])
                      for n in range(N)) / N  # eq. 3: 1/N sum_n
        expected += per_seq
        count += 1
    assert loss(scores, labels).item() == pytest.approx(0.7 * expected / count)


def test_unlabelled_sequences_get_no_classification_gradient():
    loss = MODELS.build(dict(type='StepwiseCrossEntropyLoss'))
    scores = _logits(1).requires_grad_()
    loss(scores, torch.tensor([1, -1, -1])).backward()
    assert scores.grad[1:].abs().max() == 0
    assert scores.grad[0].abs().max() > 0
    # A batch without labels is a zero that still belongs to the graph.
    scores.grad = None
    empty = loss(scores, torch.tensor([-1, -1, -1]))
    assert empty.item() == 0 and empty.requires_grad


def test_teacher_student_kl_direction_and_sum_over_steps():
    loss = MODELS.build(dict(type='StepwiseKLDivLoss', loss_weight=0.5))
    student, teacher = _logits(2), _logits(3)
    forward = [
        sum(
            _kl(_probs(teacher[b, n].tolist()), _probs(student[b, n].tolist()))
            for n in range(N)) for b in range(B)
    ]
    reverse = [
        sum(
            _kl(_probs(student[b, n].tolist()), _probs(teacher[b, n].tolist()))
            for n in range(N)) for b in range(B)
    ]
    value = loss(student, teacher).item()
    assert value == pytest.approx(0.5 * sum(forward) / B)  # eq. 1, summed
    # KL is asymmetric: these logits tell the two directions apart.
    assert abs(sum(forward) - sum(reverse)) / B * 0.5 > 1e-3
    assert value != pytest.approx(0.5 * sum(reverse) / B)


def test_teacher_student_kl_sends_no_gradient_to_teacher():
    loss = MODELS.build(dict(type='StepwiseKLDivLoss'))
    student = _logits(4).requires_grad_()
    teacher = _logits(5).requires_grad_()
    loss(student, teacher).backward()
    assert teacher.grad is None
    # d KL(p || softmax(s)) / d s = softmax(s) - p, per step (sum over steps).
    want = student.detach().softmax(-1) - teacher.detach().softmax(-1)
    torch.testing.assert_close(student.grad, want / B)


@pytest.mark.parametrize('tau', [1, 2])
def test_self_distillation_matches_loop_with_lead_time(tau):
    loss = MODELS.build(
        dict(type='SelfDistillationLoss', lead_time=tau, loss_weight=0.5))
    scores = _logits(6)
    expected = 0.0
    for b in range(B):
        for n in range(N - tau):
            target = _probs(scores[b, n + tau].tolist())  # later step = target
            expected += _kl(target, _probs(scores[b, n].tolist()))
    assert loss(scores).item() == pytest.approx(0.5 * expected / B)


def test_self_distillation_stops_gradient_at_the_later_prediction():
    tau = 2
    loss = MODELS.build(dict(type='SelfDistillationLoss', lead_time=tau))
    scores = _logits(7).requires_grad_()
    loss(scores).backward()
    probs = scores.detach().softmax(-1)
    want = torch.zeros_like(probs)
    # Only the earlier prediction S(x_n) is pulled towards S(x_{n+tau}): the
    # gradient of step n is softmax(s_n) - softmax(s_{n+tau}), and the last
    # tau steps (pure targets) get none.
    for n in range(N - tau):
        want[:, n] = (probs[:, n] - probs[:, n + tau]) / B
    torch.testing.assert_close(scores.grad, want)
    assert scores.grad[:, N - tau:].abs().max() == 0


def test_self_distillation_rejects_lead_time_beyond_sequence():
    with pytest.raises(ValueError, match='lead_time'):
        MODELS.build(dict(type='SelfDistillationLoss', lead_time=0))
    loss = MODELS.build(dict(type='SelfDistillationLoss', lead_time=N))
    with pytest.raises(ValueError, match='lead_time 5'):
        loss(_logits(8))


def test_combined_loss_is_eq4_with_unlabelled_in_distillation_only():
    """L = L_cls + alpha L_ts + beta L_self through EarlyRecognizer.loss."""
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    head = dict(type='GRUHead', num_classes=K, in_channels=6, hidden_channels=8)
    teacher = dict(head, hidden_channels=4, bidirectional=True)
    model = MODELS.build(
        dict(
            type='EarlyRecognizer',
            head=head,
            teacher=teacher,
            loss_ts=dict(type='StepwiseKLDivLoss', loss_weight=0.5),
            loss_self=dict(type='SelfDistillationLoss', lead_time=1, loss_weight=0.25)))
    x = torch.randn(B, N, 6)
    samples = [ActionDataSample().set_gt_label(v) for v in (1, -1, 3)]
    losses = model.loss(x, samples)
    s, t = model.head(x), model.teacher(x)
    ts = sum(
        _kl(_probs(t[b, n].tolist()), _probs(s[b, n].tolist())) for b in range(B)
        for n in range(N)) / B
    self_d = sum(
        _kl(_probs(s[b, n + 1].tolist()), _probs(s[b, n].tolist())) for b in range(B)
        for n in range(N - 1)) / B
    cls = sum(-math.log(_probs(s[b, n].tolist())[y]) for b, y in ((0, 1), (2, 3))
              for n in range(N)) / N / 2
    assert losses['loss_cls'].item() == pytest.approx(cls, rel=1e-5)
    assert losses['loss_ts'].item() == pytest.approx(0.5 * ts, rel=1e-5)
    assert losses['loss_self'].item() == pytest.approx(0.25 * self_d, rel=1e-5)
    # The unlabelled sequence still gets a distillation gradient.
    x.requires_grad_()
    sum(model.loss(x, samples).values()).backward()
    assert x.grad[1].abs().max() > 0
