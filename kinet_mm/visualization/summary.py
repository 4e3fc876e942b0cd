"""A JSON-ready summary of one video's inference result."""
from typing import Dict, Mapping, Optional, Sequence

from mmaction.structures import ActionDataSample

from .panels import predicted_tasks, top_k


def result_summary(result: ActionDataSample,
                   action_names: Sequence[str],
                   tasks: Optional[Mapping] = None,
                   class_names: Optional[Dict] = None,
                   k: int = 5) -> Dict:
    """Top-``k`` actions, and per input frame its index and what each
    knowledge task of ``tasks`` predicted there (its ``describe``).

    Returns:
        dict: ``top_actions`` (``[name, score]`` pairs), ``frames`` (one dict
        per input frame: ``frame_ind`` and a dict per task, e.g. ``human``:
        ``fraction`` (share of pixels with human probability >= 0.5),
        ``scene``: ``top3``) and ``gradcam_class``.
    """
    inds = result.metainfo.get('frame_inds')
    frames = []
    for t in range(len(result.frames)):
        entry = dict(input_index=t)
        if inds is not None and t < len(inds):
            entry['frame_ind'] = int(inds[t])
        for name in predicted_tasks(result, tasks):
            entry[name] = tasks[name].describe(
                result.get(f'pred_{name}')[t], (class_names or {}).get(name))
        frames.append(entry)
    summary = dict(
        top_actions=[[name, round(p, 4)]
                     for name, p in top_k(result.pred_score, action_names, k)],
        frames=frames)
    if 'gradcam_class' in result:
        summary['gradcam_class'] = action_names[result.gradcam_class]
    return summary
