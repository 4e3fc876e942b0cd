"""How well the student learned its teachers: one figure per knowledge task."""
from collections import defaultdict
from typing import Dict, Sequence

from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


@METRICS.register_module()
class KnowledgeAgreementMetric(BaseMetric):
    """Student-vs-teacher agreement of every knowledge task, logged beside
    ``acc/top1`` by the standard runner.

    Each task defines its figures (:meth:`BaseKnowledge.agreement`: the human
    task's mask IoU, the scene task's top-1/top-5 agreement, the pose task's
    PCK); KINet attaches them to every prediction as ``knowledge_agreement``
    ``{'<task>/<metric>': [numerator, denominator]}`` when its
    ``test_cfg.knowledge_agreement`` is set. This metric sums numerators and
    denominators over the dataset (so the IoU is the dataset's, not a mean of
    per-clip IoUs) and reports ``knowledge/<task>/<metric>``.

    Args:
        collect_device (str): See :class:`BaseMetric`. Defaults to ``'cpu'``.
        prefix (str): Defaults to ``'knowledge'``.
    """

    default_prefix = 'knowledge'

    def process(self, data_batch, data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            stats = sample.get('knowledge_agreement')
            if stats is None:
                raise KeyError(
                    'KnowledgeAgreementMetric needs predictions with '
                    "'knowledge_agreement': set the model's "
                    'test_cfg.knowledge_agreement=True (and give the '
                    'validation pipeline LoadPseudoLabels/PackKINetInputs, or '
                    "train with pseudo_label_source='online').")
            self.results.append({
                name: [float(v) for v in value]
                for name, value in stats.items()
            })

    def compute_metrics(self, results: list) -> Dict[str, float]:
        sums = defaultdict(lambda: [0., 0.])
        for stats in results:
            for name, (numerator, denominator) in stats.items():
                sums[name][0] += numerator
                sums[name][1] += denominator
        return {
            name: numerator / denominator if denominator else 0.
            for name, (numerator, denominator) in sorted(sums.items())
        }
