"""Benchmark KINet-R50 against MMAction2's TSN-R50, TSM-R50 and I3D-R50.

Parameters, FLOPs, training-step time, test-protocol time and peak memory of
every model, in one run on one machine with the same batch and input size,
then the ratio targets (``kinet_mm.analysis.report.TARGETS``). See
``docs/benchmark.md``.

Usage::

    python tools/analysis/benchmark.py --out docs/benchmark.md   # preset cpu
    python tools/analysis/benchmark.py --preset cpu-224          # paper crop
    python tools/analysis/benchmark.py --device cuda --out docs/benchmark.md
    python tools/analysis/benchmark.py --models kinet_cache kinet_noaux tsn
    python tools/analysis/benchmark.py --complexity --out docs/benchmark.md
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch
from mmengine.logging import MMLogger

from kinet_mm.analysis import (PRESETS, comparison_jobs, render_report, run_benchmark,
                               select_jobs, write_report)
from kinet_mm.analysis.complexity import ComplexityRow, render_complexity
from kinet_mm.analysis.measure import CLOCKS, LOGGER_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The compared models.
MODELS = dict(
    kinet=str(REPO_ROOT / 'configs/kinet/'
              'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'),
    tsn='mmaction::recognition/tsn/'
    'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py',
    tsm='mmaction::recognition/tsm/'
    'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py',
    i3d='mmaction::recognition/i3d/'
    'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py')
#: --complexity: (TSN, KINet) pairs per backbone (KINet Tables 2/3) and the
#: 3D models (I3D Table 1: 12M per stream, 25M two-stream).
CONFIGS = REPO_ROOT / 'configs'
INCEPTIONS = 'imagenet-pretrained-{}_8xb32-1x1x3-70e_kinetics400-rgb.py'
I3D = 'i3d/i3d_imagenet-inflated-inception-v1_8xb8-64x1x1-100e_kinetics400-{}.py'
COMPLEXITY = [
    ComplexityRow(
        'ResNet-50', 'TSN', MODELS['tsn'], paper_top1=69.5, paper_params=24.4),
    ComplexityRow(
        'ResNet-50', 'KINet', MODELS['kinet'], paper_top1=72.4, paper_params=56.9),
    ComplexityRow(
        'BN-Inception',
        'TSN',
        str(CONFIGS / 'tsn' / ('tsn_' + INCEPTIONS.format('bninception'))),
        paper_top1=69.1),
    ComplexityRow(
        'BN-Inception',
        'KINet',
        str(CONFIGS / 'kinet' / ('kinet_' + INCEPTIONS.format('bninception'))),
        paper_top1=71.8),
    ComplexityRow(
        'Inception V3',
        'TSN',
        str(CONFIGS / 'tsn' / ('tsn_' + INCEPTIONS.format('inception-v3'))),
        (3, 299, 299),
        paper_top1=72.5),
    ComplexityRow(
        'Inception V3',
        'KINet',
        str(CONFIGS / 'kinet' / ('kinet_' + INCEPTIONS.format('inception-v3'))),
        (3, 299, 299),
        paper_top1=74.1),
    ComplexityRow('EfficientNet-Lite2', 'TSN',
                  str(CONFIGS / 'tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py')),
    ComplexityRow(
        'EfficientNet-Lite2', 'KINet',
        str(CONFIGS / 'kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py')),
    ComplexityRow(
        'ResNet-50', 'TSN flow (5 x/y pairs)',
        str(CONFIGS / 'tsn/tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_'
            'kinetics400-flow.py'), (10, 224, 224)),
    ComplexityRow('ResNet-50', 'I3D (MMAction2)', MODELS['i3d'], (3, 32, 224, 224)),
    ComplexityRow(
        'Inflated Inception-v1',
        'I3D RGB',
        str(CONFIGS / I3D.format('rgb')), (3, 64, 224, 224),
        paper_params=12),
    ComplexityRow(
        'Inflated Inception-v1',
        'I3D flow',
        str(CONFIGS / I3D.format('flow')), (2, 64, 224, 224),
        paper_params=12),
]
#: The demo's cache, whose extraction statistics fill target (d).
DEMO_CACHE = str(REPO_ROOT / 'work_dirs/pseudo_labels/realclips')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark KINet against MMAction2 TSN, TSM and I3D.')
    parser.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default=None,
        help='named settings (default: cuda if available, '
        'else cpu); the options below override them')
    parser.add_argument('--device', help='cpu or cuda[:i]')
    parser.add_argument('--batch', type=int, help='videos per training step')
    parser.add_argument('--input-size', type=int, help='side of the 224 crops')
    parser.add_argument('--warmup', type=int, help='untimed runs first')
    parser.add_argument('--repeats', type=int, help='timed training steps')
    parser.add_argument('--test-repeats', type=int, help='timed test videos')
    parser.add_argument('--threads', type=int, help='torch intra-op threads')
    parser.add_argument(
        '--clock',
        choices=list(CLOCKS),
        help='wall (perf_counter) or process (CPU time, CPU only)')
    parser.add_argument(
        '--models',
        nargs='+',
        default=None,
        help='subset: kinet (all KINet jobs), kinet_online, '
        'kinet_cache, kinet_noaux, kinet_deploy, tsn, tsm, i3d')
    parser.add_argument('--phases', nargs='+', choices=['train', 'test'])
    parser.add_argument(
        '--complexity',
        action='store_true',
        help='only parameters and FLOPs of every (TSN, KINet) '
        'backbone pair and the 3D models, beside the papers\' '
        'figures')
    parser.add_argument(
        '--list', action='store_true', help='print the selected jobs and exit')
    parser.add_argument(
        '--no-isolate',
        action='store_true',
        help='measure in this process, not one per job')
    parser.add_argument(
        '--pseudo-label-cache',
        default=DEMO_CACHE,
        help='cache whose extraction_stats.json gives target d')
    parser.add_argument('--out', help='Markdown file to write the tables into')
    parser.add_argument('--json', help='write the raw record of the run')
    parser.add_argument(
        '--render', help='re-render a --json record instead '
        'of measuring')
    return parser.parse_args(argv)


def make_settings(args: argparse.Namespace):
    """The preset, with the options given on the command line."""
    name = args.preset or ('cuda' if torch.cuda.is_available() else 'cpu')
    overrides = {
        field: getattr(args, field)
        for field in ('device', 'batch', 'input_size', 'warmup', 'repeats',
                      'test_repeats', 'threads', 'clock', 'phases')
        if getattr(args, field) is not None
    }
    settings = dataclasses.replace(PRESETS[name], **overrides)
    if settings.device.startswith('cuda') and settings.clock == 'process':
        raise ValueError('--clock process measures CPU time, not GPU work')
    return settings


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    MMLogger.get_instance(LOGGER_NAME, log_level='INFO')
    command = ' '.join([
        'python tools/analysis/benchmark.py', *(sys.argv[1:] if argv is None else argv)
    ])
    if args.complexity:
        section = render_complexity(COMPLEXITY, command)
        print(section)
        if args.out:
            write_report(args.out, section)
        return 0
    if args.render:
        with open(args.render) as file:
            record = json.load(file)
    else:
        settings = make_settings(args)
        jobs = select_jobs(comparison_jobs(**MODELS), args.models, settings.phases)
        if args.list:
            print('\n'.join(f'{job.name}:{job.phase}  {job.label}' for job in jobs))
            return 0
        record = run_benchmark(
            jobs,
            settings,
            command,
            isolate=not args.no_isolate,
            pseudo_label_cache=args.pseudo_label_cache)
    section = render_report(record)
    print(section)
    if args.out:
        write_report(args.out, section)
    if args.json and not args.render:
        with open(args.json, 'w') as file:
            json.dump(record, file, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
