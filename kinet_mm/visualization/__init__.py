"""Figures and animations of KINet's inference (paper Figure 5)."""
from .animation import VIDEO_FORMATS, write_animation
from .panels import figure_to_array, frame_figure, summary_figure, top_k
from .summary import result_summary

__all__ = [
    'VIDEO_FORMATS', 'figure_to_array', 'frame_figure', 'result_summary',
    'summary_figure', 'top_k', 'write_animation'
]
