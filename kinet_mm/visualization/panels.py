"""Figure panels of one video's inference: each knowledge branch, Grad-CAM (Fig. 5).

The figures are built with Matplotlib's object API on an Agg canvas, so no
display (and no global backend switch) is needed.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmaction.structures import ActionDataSample
from torch import Tensor

#: Inches per panel; frames are square crops in the usual test pipelines.
PANEL_INCHES = 2.6


def top_k(probs: Tensor, names: Sequence[str], k: int = 5) -> List[Tuple[str, float]]:
    """The ``k`` most probable ``(name, probability)`` pairs of ``probs``."""
    values, indices = probs.float().topk(min(k, probs.numel()))
    return [(names[i], v) for v, i in zip(values.tolist(), indices.tolist())]


def predicted_tasks(result: ActionDataSample,
                    tasks: Optional[Mapping] = None) -> List[str]:
    """The knowledge tasks whose predictions (``pred_<task>``) a result holds."""
    return [name for name in (tasks or {}) if f'pred_{name}' in result]


def panel_rows(result: ActionDataSample,
               tsn_gradcam: Optional[Tensor] = None,
               tasks: Optional[Mapping] = None) -> List[str]:
    """The kinds of panel a result can fill, in display order."""
    rows = ['frame']
    if predicted_tasks(result, tasks):
        rows.append('student')
    # Figure 5's order: TSN's maps above KINet's.
    if tsn_gradcam is not None:
        rows.append('tsn_cam')
    if 'gradcam' in result:
        rows.append('kinet_cam')
    return rows


def _draw(ax: Axes, kind: str, result: ActionDataSample, index: int,
          tasks: Optional[Mapping], class_names: Optional[Dict],
          tsn_gradcam: Optional[Tensor]) -> None:
    frame = result.frames[index].numpy()
    ax.imshow(frame)
    ax.set_xticks([])
    ax.set_yticks([])
    if kind == 'frame':
        inds = result.metainfo.get('frame_inds')
        label = f'frame {int(inds[index])}' if inds is not None and \
            index < len(inds) else f'input {index}'
        ax.set_title(label, fontsize=8)
    elif kind == 'student':
        text = [
            tasks[name].draw(ax,
                             result.get(f'pred_{name}')[index], (class_names
                                                                 or {}).get(name))
            for name in predicted_tasks(result, tasks)
        ]
        ax.set_xlabel('\n'.join(text), fontsize=7)
    else:
        cam = result.gradcam if kind == 'kinet_cam' else tsn_gradcam
        ax.imshow(cam[index].numpy(), cmap='jet', alpha=0.5, vmin=0, vmax=1)


ROW_TITLES = dict(
    frame='input',
    student='student: what each\nknowledge branch predicts',
    kinet_cam='KINet Grad-CAM',
    tsn_cam='TSN Grad-CAM')


def summary_figure(result: ActionDataSample,
                   action_names: Sequence[str],
                   tasks: Optional[Mapping] = None,
                   class_names: Optional[Dict] = None,
                   tsn_gradcam: Optional[Tensor] = None,
                   max_frames: int = 8,
                   title: str = '') -> Figure:
    """Paper Figure 5 for one video: a column per sampled frame.

    Rows: the input frame; what the student's knowledge branches predict
    (each task of ``tasks``, e.g. ``model.knowledge``, draws its
    ``pred_<task>``: the human mask, the top-3 scenes with ``class_names``
    ``{task: names}``, ...); TSN's Grad-CAM (``tsn_gradcam``,
    ``(S, H, W)``, computed on the same frames); KINet's Grad-CAM, below TSN's
    as in the paper. Rows whose data the result lacks are left out. At most
    ``max_frames`` frames, evenly spread over the ``S`` inputs.
    """
    rows = panel_rows(result, tsn_gradcam, tasks)
    num = len(result.frames)
    columns = np.unique(
        np.linspace(0, num - 1, min(max_frames, num)).round().astype(int))
    fig = Figure(
        figsize=(PANEL_INCHES * len(columns) + 1.2, PANEL_INCHES * len(rows) + 1.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    for r, kind in enumerate(rows):
        for c, index in enumerate(columns):
            _draw(axes[r, c], kind, result, int(index), tasks, class_names, tsn_gradcam)
        axes[r, 0].set_ylabel(ROW_TITLES[kind], fontsize=9)
    fig.suptitle(title + _score_line(result, action_names), fontsize=10)
    fig.tight_layout()
    return fig


def frame_figure(result: ActionDataSample,
                 index: int,
                 action_names: Sequence[str],
                 tasks: Optional[Mapping] = None,
                 class_names: Optional[Dict] = None,
                 tsn_gradcam: Optional[Tensor] = None) -> Figure:
    """The panels of one input frame side by side (one frame of the animation)."""
    kinds = panel_rows(result, tsn_gradcam, tasks)
    fig = Figure(figsize=(PANEL_INCHES * len(kinds), PANEL_INCHES + 1.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    for ax, kind in zip(axes, kinds):
        _draw(ax, kind, result, index, tasks, class_names, tsn_gradcam)
        if kind != 'frame':
            ax.set_title(ROW_TITLES[kind].replace('\n', ' '), fontsize=8)
    fig.suptitle(_score_line(result, action_names, k=3), fontsize=9)
    # A fixed layout: every frame of an animation must have the same size.
    fig.subplots_adjust(left=0.02, right=0.98, top=0.8, bottom=0.22, wspace=0.05)
    return fig


def _score_line(result: ActionDataSample,
                action_names: Sequence[str],
                k: int = 5) -> str:
    line = ', '.join(f'{name} {p:.2f}'
                     for name, p in top_k(result.pred_score, action_names, k))
    if 'gradcam_class' in result:
        line += f'\nGrad-CAM of: {action_names[result.gradcam_class]}'
    return line


def figure_to_array(fig: Figure) -> np.ndarray:
    """The rendered figure as an ``(H, W, 3)`` uint8 RGB array."""
    canvas = fig.canvas if isinstance(fig.canvas,
                                      FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
