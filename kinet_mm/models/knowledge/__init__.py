"""Kinds of knowledge KINet distils, one module each, and the one switch that
decides whether their teachers are built.

Adding a kind of knowledge is a :class:`BaseKnowledge` subclass in a module of
its own plus a ``model.knowledge`` entry in a config (``pose.py`` shows it).
"""
import copy
from typing import Dict

from mmaction.registry import MODELS

from .base import PSEUDO_LABEL_SOURCES, BaseKnowledge
from .human_parsing import HumanParsingKnowledge
from .pose import KeypointHeatmapLoss, PoseKnowledge
from .scene import SceneKnowledge

__all__ = [
    'BaseKnowledge', 'HumanParsingKnowledge', 'KeypointHeatmapLoss',
    'PSEUDO_LABEL_SOURCES', 'PoseKnowledge', 'SceneKnowledge', 'build_knowledge',
    'knowledge_cfgs', 'teacher_free'
]


def knowledge_cfgs(model_cfg: Dict) -> Dict[str, Dict]:
    """The configured tasks of a model config, ``{name: task config}``, in
    order; an entry set to None (a config's way to drop an inherited task) is
    left out."""
    return {
        name: cfg
        for name, cfg in (model_cfg.get('knowledge') or {}).items() if cfg is not None
    }


def teacher_free(model_cfg: Dict, heads: bool = True) -> Dict:
    """A copy of a model config that builds no teacher: the one switch that
    inference, deployment, the benchmark and the cache-reading modes use.

    Args:
        model_cfg (dict): Any model config; one without ``knowledge`` (TSN,
            I3D) is returned as a copy.
        heads (bool): Keep the tasks' heads (``pseudo_label_source='cache'``:
            they train on cached labels and ``predict_auxiliary`` shows what
            they learned) or drop them too (``'none'``: the deployed model of
            section 4.2, with the branches that CBI and AKG read but no
            auxiliary head).
    """
    model_cfg = copy.deepcopy(model_cfg)
    if 'knowledge' in model_cfg:
        # A config already without heads (a deployed one) keeps none.
        keep_heads = heads and model_cfg.get('pseudo_label_source') != 'none'
        model_cfg['pseudo_label_source'] = 'cache' if keep_heads else 'none'
    return model_cfg


def build_knowledge(model_cfg: Dict, source: str) -> Dict[str, BaseKnowledge]:
    """Build the tasks of a model config for a pseudo-label source.

    ``'online'`` builds the teachers, ``'none'`` builds neither teachers nor
    heads (the tasks then only name branches and decode caches).
    """
    if source not in PSEUDO_LABEL_SOURCES:
        raise ValueError(f'pseudo_label_source must be one of '
                         f'{PSEUDO_LABEL_SOURCES}, got {source!r}')
    tasks = {}
    for name, cfg in knowledge_cfgs(model_cfg).items():
        cfg = dict(cfg, name=name, build_teacher=source == 'online')
        if source == 'none':
            cfg.update(head=None, loss=None)
        tasks[name] = MODELS.build(cfg)
    return tasks
