"""Strip a trained KINet down to what inference needs (section 4.2).

At inference the paper removes the human-parsing decoder and the scene
classifier; the teachers are only needed for training as well. The auxiliary
*branches* stay: CBI and AKG read their maps.
"""
import copy
from typing import Dict, Tuple

from mmengine.config import Config

#: Model config keys and state-dict prefixes that inference never uses.
TRAIN_ONLY_MODEL_KEYS = ('human_head', 'scene_head', 'teachers',
                         'pseudo_labeler', 'pseudo_label_source')
TRAIN_ONLY_PREFIXES = ('aux_heads.', 'pseudo_labeler.')


def without_teachers(model_cfg: Dict) -> Dict:
    """A copy of a model config that builds no teacher, for inference.

    KINet keeps its auxiliary heads (``predict_auxiliary`` shows what they
    learned) but reads pseudo labels from the data, which inference never
    asks for; other models are returned as they are.
    """
    model_cfg = copy.deepcopy(model_cfg)
    if model_cfg.get('type') == 'KINet':
        for key in ('teachers', 'pseudo_label_source'):
            model_cfg.pop(key, None)
        model_cfg['pseudo_labeler'] = dict(type='CachedPseudoLabeler')
    return model_cfg


def deploy_config(cfg: Config) -> Config:
    """A copy of ``cfg`` whose model has no auxiliary heads or teachers.

    Raises:
        ValueError: If the config's model is not a ``KINet``.
    """
    if cfg.model.get('type') != 'KINet':
        raise ValueError(f'expected a KINet model config, got type='
                         f'{cfg.model.get("type")!r}')
    deployed = copy.deepcopy(cfg)
    for key in TRAIN_ONLY_MODEL_KEYS:
        deployed.model.pop(key, None)
    # Nothing is trained any more: no dataloader or schedule is needed to build it.
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'auto_scale_lr', 'resume', 'load_from'):
        deployed.pop(key, None)
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
