"""Strip a trained KINet down to what inference needs (section 4.2).

At inference the paper removes the auxiliary heads (the human-parsing decoder
and the scene classifier); the teachers are only needed for training as well.
The auxiliary *branches* stay: CBI and AKG read their maps. Both are the one
teacher-free switch, :func:`kinet_mm.models.knowledge.teacher_free`.
"""
import copy
from typing import Dict, List, Tuple

from mmengine.config import Config

from .models.knowledge import teacher_free

#: Test-pipeline transforms that load training targets, not model inputs.
TARGET_ONLY_TRANSFORMS = ('LoadPseudoLabels', )
#: Metrics that score the auxiliary heads against the teachers' labels.
TARGET_ONLY_METRICS = ('KnowledgeAgreementMetric', )
#: State-dict prefixes that inference never uses: every knowledge task's head
#: and teacher (``aux_heads.`` and ``pseudo_labeler.`` are where checkpoints
#: of kinet_mm < 0.3 kept them).
TRAIN_ONLY_PREFIXES = ('knowledge.', 'aux_heads.', 'pseudo_labeler.')
#: What a deployed config needs no more: nothing is trained.
TRAIN_ONLY_KEYS = ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                   'auto_scale_lr', 'resume', 'load_from')


def without_teachers(model_cfg: Dict) -> Dict:
    """A copy of a model config that builds no teacher but keeps the tasks'
    heads (``predict_auxiliary`` shows what they learned), for inference:
    ``teacher_free(model_cfg)``, which leaves a deployed config (no heads,
    ``pseudo_label_source='none'``) without heads: its checkpoint has none."""
    return teacher_free(model_cfg)


def _without_target_transforms(pipeline: List) -> List:
    return [t for t in pipeline if t.get('type') not in TARGET_ONLY_TRANSFORMS]


def deploy_config(cfg: Config) -> Config:
    """A copy of ``cfg`` whose model builds no teacher and no auxiliary head
    (``teacher_free(..., heads=False)``) and that holds no training parts.

    Its test pipelines read no pseudo labels (``LoadPseudoLabels``) and it
    measures no knowledge agreement (``test_cfg``, evaluators): both need the
    teachers' labels of the test video. Works for every recognizer: KINet,
    KINet3D, and models without knowledge (TSN, I3D), which only lose the
    training parts.
    """
    deployed = copy.deepcopy(cfg)
    deployed.model = teacher_free(cfg.model, heads=False)
    for key in TRAIN_ONLY_KEYS:
        deployed.pop(key, None)
    # No head scores the teachers' labels any more; unseen videos have none.
    if deployed.model.get('test_cfg'):
        deployed.model.test_cfg.pop('knowledge_agreement', None)
    if 'test_pipeline' in deployed:
        deployed.test_pipeline = _without_target_transforms(deployed.test_pipeline)
    for key in ('val_dataloader', 'test_dataloader'):
        dataset = deployed.get(key, {}).get('dataset', {})
        if 'pipeline' in dataset:
            dataset.pipeline = _without_target_transforms(dataset.pipeline)
    for key in ('val_evaluator', 'test_evaluator'):
        if isinstance(deployed.get(key), (list, tuple)):
            deployed[key] = [
                metric for metric in deployed[key]
                if metric.get('type') not in TARGET_ONLY_METRICS
            ]
    return deployed


def deploy_state_dict(state_dict: Dict) -> Tuple[Dict, int]:
    """Drop the train-only entries of a KINet state dict.

    Returns:
        tuple: The kept entries and the number of dropped parameters (elements).
    """
    kept, dropped = {}, 0
    for key, value in state_dict.items():
        if key.startswith(TRAIN_ONLY_PREFIXES):
            dropped += value.numel()
        else:
            kept[key] = value
    return kept, dropped
