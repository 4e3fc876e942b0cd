"""High-level workflows built on the registered modules (used by tools/)."""
from .early_recognition_table import (markdown_table, plot_curves, run_table,
                                      stage_config, train_and_test)

__all__ = [
    'run_table', 'stage_config', 'train_and_test', 'markdown_table',
    'plot_curves'
]
