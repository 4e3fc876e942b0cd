"""Benchmarking KINet against MMAction2's recognizers.

- :mod:`.measure`: parameters, FLOPs, interleaved timing, peak memory, child
  processes (generic);
- :mod:`.inputs`: synthetic batches shaped by a config's pipelines;
- :mod:`.benchmark`: jobs, config variants, presets and the run;
- :mod:`.report`: tables, the declarative ratio targets, Markdown.

``tools/analysis/benchmark.py`` is the command line.
"""
from .benchmark import (PRESETS, Job, Settings, comparison_jobs, run_benchmark,
                        select_jobs)
from .report import TARGETS, render_report, write_report

__all__ = [
    'Job', 'PRESETS', 'Settings', 'TARGETS', 'comparison_jobs', 'render_report',
    'run_benchmark', 'select_jobs', 'write_report'
]
