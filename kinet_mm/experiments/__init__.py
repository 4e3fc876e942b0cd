"""Experiment drivers behind ``tools/analysis/``: the early-recognition table
(stage configs, train and test each, one markdown table and plot) and the
UCF-101 three-split averaging with two-stream fusion."""
from .early_recognition_table import (markdown_table, plot_curves, run_table,
                                      stage_config, train_and_test)
from .split_average import (TSN_COEFFICIENTS, dump_test_scores, fused_top1, load_scores,
                            markdown_split_table, split_table)

__all__ = [
    'TSN_COEFFICIENTS', 'dump_test_scores', 'fused_top1', 'load_scores',
    'markdown_split_table', 'markdown_table', 'plot_curves', 'run_table', 'split_table',
    'stage_config', 'train_and_test'
]
