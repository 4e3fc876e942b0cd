"""A JSON-ready summary of one video's inference result."""
from typing import Dict, Optional, Sequence

from mmaction.structures import ActionDataSample

from .panels import top_k


def result_summary(result: ActionDataSample,
                   action_names: Sequence[str],
                   scene_names: Optional[Sequence[str]] = None,
                   k: int = 5) -> Dict:
    """Top-``k`` actions, and per input frame its index and top-3 scenes.

    Returns:
        dict: ``top_actions`` (``[name, score]`` pairs), ``frames`` (one dict
        per input frame: ``frame_ind``, ``human_fraction`` (share of pixels
        with human probability >= 0.5), ``top_scenes``) and ``gradcam_class``.
    """
    inds = result.metainfo.get('frame_inds')
    frames = []
    for t in range(len(result.frames)):
        entry = dict(input_index=t)
        if inds is not None and t < len(inds):
            entry['frame_ind'] = int(inds[t])
        if 'pred_human' in result:
            entry['human_fraction'] = round(
                float((result.pred_human[t] >= 0.5).float().mean()), 4)
        if 'pred_scene' in result:
            names = scene_names or [
                str(i) for i in range(result.pred_scene.shape[1])
            ]
            entry['top_scenes'] = [[name, round(p, 4)] for name, p in top_k(
                result.pred_scene[t], names, 3)]
        frames.append(entry)
    summary = dict(
        top_actions=[[name, round(p, 4)]
                     for name, p in top_k(result.pred_score, action_names, k)],
        frames=frames)
    if 'gradcam_class' in result:
        summary['gradcam_class'] = action_names[result.gradcam_class]
    return summary
