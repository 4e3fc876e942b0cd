"""Accuracy against observation ratio, and the area under that curve."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

AUC_RULES = ('mean', 'trapezoid')


def observation_ratios(num_levels: int) -> np.ndarray:
    """Observed fraction after each of ``N`` levels: ``1/N, 2/N, .., 1``."""
    return np.arange(1, num_levels + 1) / num_levels


def ratio_key(ratio: float) -> str:
    """Metric name of one point of the curve (``0.1`` -> ``acc_obs_10``)."""
    return f'acc_obs_{round(100 * ratio)}'


def accuracy_curve(level_preds: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Top-1 accuracy at every progression level.

    Args:
        level_preds (np.ndarray): ``(M, N)`` predicted classes of ``M`` videos
            after each of ``N`` observed prefixes.
        labels (np.ndarray): ``(M, )`` true classes.

    Returns:
        np.ndarray: ``(N, )`` accuracies in ``[0, 1]``.
    """
    return (level_preds == labels[:, None]).mean(axis=0)


def curve_auc(accuracies: Sequence[float], rule: str = 'mean') -> float:
    """Normalised area under accuracy-vs-observation-ratio (in ``[0, 1]``).

    ``'mean'``: each level owns ``1/N`` of the ratio axis, so the area is the
    mean accuracy over levels; this is how the early-recognition literature
    the paper compares with (Tab. 1-3) summarises the curve. ``'trapezoid'``:
    the piecewise-linear curve between ratios ``1/N .. 1``, divided by that
    span.
    """
    accs = np.asarray(accuracies, dtype=np.float64)
    if rule == 'mean':
        return float(accs.mean())
    if rule == 'trapezoid':
        if len(accs) == 1:
            return float(accs[0])
        ratios = observation_ratios(len(accs))
        widths = np.diff(ratios)
        area = np.sum(widths * (accs[1:] + accs[:-1]) / 2)
        return float(area / (ratios[-1] - ratios[0]))
    raise ValueError(f'auc_rule must be one of {AUC_RULES}, got {rule!r}.')


@METRICS.register_module()
class EarlyRecognitionMetric(BaseMetric):
    """Top-1 accuracy at observation ratios ``10 % .. 100 %`` and their AUC.

    Reads ``level_scores`` ``(N, K)`` of every prediction (as
    :class:`EarlyRecognizer` fills them) and ``gt_label``. Results are
    fractions: ``acc_obs_10`` .. ``acc_obs_100`` (for ``N = 10``) and ``auc``.

    Args:
        auc_rule (str): ``'mean'`` or ``'trapezoid'``, see :func:`curve_auc`.
            Defaults to ``'mean'``.
        collect_device (str): Device to gather results on. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to ``'early'``.
    """

    default_prefix: Optional[str] = 'early'

    def __init__(self,
                 auc_rule: str = 'mean',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if auc_rule not in AUC_RULES:
            raise ValueError(f'auc_rule must be one of {AUC_RULES}, got '
                             f'{auc_rule!r}.')
        self.auc_rule = auc_rule

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            if 'level_scores' not in sample:
                raise KeyError(
                    'EarlyRecognitionMetric needs level_scores (N, K) in the '
                    "predictions; the model must be an EarlyRecognizer.")
            label = int(sample['gt_label'].reshape(-1)[0])
            if label < 0:
                raise ValueError('an evaluation sequence has no label (-1); set '
                                 'labelled_fraction=1.0 on validation/test datasets.')
            preds = sample['level_scores'].argmax(dim=-1).cpu().numpy()
            self.results.append(dict(preds=preds, label=label))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        preds = np.stack([r['preds'] for r in results])
        labels = np.asarray([r['label'] for r in results])
        accs = accuracy_curve(preds, labels)
        metrics = {
            ratio_key(r): float(a)
            for r, a in zip(observation_ratios(len(accs)), accs)
        }
        metrics['auc'] = curve_auc(accs, self.auc_rule)
        return metrics
