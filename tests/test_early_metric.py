"""Accuracy-vs-observation-ratio and AUC against a curve worked out by hand."""
import pytest
import torch
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator


def _sample(level_preds, label, num_classes=3):
    """A prediction whose argmax at level n is level_preds[n]."""
    scores = torch.full((len(level_preds), num_classes), 0.1)
    scores[torch.arange(len(level_preds)), torch.tensor(level_preds)] = 0.8
    sample = ActionDataSample().set_gt_label(label)
    sample.set_field(scores, 'level_scores')
    return sample


# Four videos, N = 4 levels (ratios 25, 50, 75, 100 %), labels 0, 1, 2, 0.
#   level:        1  2  3  4
#   video 0 (0):  1  0  0  0
#   video 1 (1):  0  0  1  1
#   video 2 (2):  2  2  2  2
#   video 3 (0):  1  1  1  0
# correct:        1  2  3  4  of 4 -> accuracies 0.25, 0.5, 0.75, 1.0
PREDS = [[1, 0, 0, 0], [0, 0, 1, 1], [2, 2, 2, 2], [1, 1, 1, 0]]
LABELS = [0, 1, 2, 0]


@pytest.mark.parametrize(
    'rule, auc',
    [
        ('mean', (0.25 + 0.5 + 0.75 + 1.0) / 4),
        # Trapezoids of width 1/4 over [0.25, 1]: (0.375 + 0.625 + 0.875) / 4,
        # divided by the span 0.75.
        ('trapezoid', (0.375 + 0.625 + 0.875) / 4 / 0.75),
    ])
def test_curve_and_auc_against_hand_computation(rule, auc):
    evaluator = Evaluator(dict(type='EarlyRecognitionMetric', auc_rule=rule))
    evaluator.process([_sample(p, y) for p, y in zip(PREDS, LABELS)])
    results = evaluator.evaluate(4)
    assert results['early/acc_obs_25'] == pytest.approx(0.25)
    assert results['early/acc_obs_50'] == pytest.approx(0.5)
    assert results['early/acc_obs_75'] == pytest.approx(0.75)
    assert results['early/acc_obs_100'] == pytest.approx(1.0)
    assert results['early/auc'] == pytest.approx(auc)


def test_non_monotone_curve_with_ten_levels():
    # Hand curve over 10 % .. 100 %: mean of these ten values, trapezoid below.
    accs = [0.0, 0.5, 0.5, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 1.0]
    from kinet_mm.evaluation.metrics.early_recognition_metric import curve_auc
    assert curve_auc(accs, 'mean') == pytest.approx(6.5 / 10)
    pairs = [(accs[i] + accs[i + 1]) / 2 for i in range(9)]
    assert curve_auc(accs, 'trapezoid') == pytest.approx(sum(pairs) * 0.1 / 0.9)
    # Two videos of class 0 realising that curve: A is right wherever the
    # accuracy is at least 0.5, B only where it is 1.
    preds_a = [0 if a >= 0.5 else 1 for a in accs]
    preds_b = [0 if a == 1.0 else 1 for a in accs]
    evaluator = Evaluator(dict(type='EarlyRecognitionMetric'))
    evaluator.process([_sample(preds_a, 0), _sample(preds_b, 0)])
    results = evaluator.evaluate(2)
    assert [results[f'early/acc_obs_{r}'] for r in range(10, 101, 10)] == accs
    assert results['early/auc'] == pytest.approx(0.65)


def test_unlabelled_evaluation_sequence_is_refused():
    metric = METRICS.build(dict(type='EarlyRecognitionMetric'))
    with pytest.raises(ValueError, match='labelled_fraction'):
        metric.process(None, [_sample([0, 0], -1).to_dict()])
