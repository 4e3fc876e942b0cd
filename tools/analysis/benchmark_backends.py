"""Time deployed models on MMDeploy's backends against PyTorch (CPU).

For each model and protocol: MMDeploy exports the deployed model (random
weights) to ONNX Runtime and TorchScript, then PyTorch and both backends run
the same preprocessed real clip, interleaved, with the same threads. Prints
Markdown rows for ``docs/benchmark.md`` and writes them with ``--json``.

Usage::

    python tools/analysis/benchmark_backends.py \\
        --video $KINET_SHARED/data/real_clips/videos/arm_wrestling.mp4 \\
        --protocols demo paper --repeats 5 --json work_dirs/backends.json
"""
import argparse
import json
import os
import tempfile
from pathlib import Path

from kinet_mm.analysis.backends import (MARKDOWN_HEADER, benchmark_backends,
                                        markdown_rows)
from kinet_mm.analysis.measure import machine_info

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The demo's student and its TSN twin (same backbone, data and pipeline).
MODELS = dict(
    kinet=('KINet-Lite2 deploy', REPO_ROOT / 'configs/kinet/'
           'kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py'),
    tsn=('TSN-Lite2', REPO_ROOT / 'configs/tsn/'
         'tsn_efficientnet-lite2_1x1x3_realclips-cpu.py'))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--video', required=True, help='a real clip')
    parser.add_argument(
        '--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        '--protocols',
        nargs='+',
        default=['demo', 'paper'],
        choices=['demo', 'paper'],
        help="demo: the config's test pipeline; paper: 25 "
        'segments x TenCrop 224 (250 views), AKG window 3')
    parser.add_argument(
        '--paper-crop',
        type=int,
        default=224,
        help='crop size of the paper protocol (default 224; '
        "112 is the demo's)")
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help="torch's and ONNX Runtime's (default: torch's)")
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--work-dir', help='exports (default: a temp dir)')
    parser.add_argument('--json', help='write the rows here')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='kinet_backends_')
    results = []
    for protocol in args.protocols:
        for name in args.models:
            label, config = MODELS[name]
            out = os.path.join(work_dir, f'{name}_{protocol}')
            os.makedirs(out, exist_ok=True)
            rows = benchmark_backends(
                str(config),
                label,
                args.video,
                out,
                protocol,
                args.paper_crop,
                threads=args.threads,
                warmup=args.warmup,
                repeats=args.repeats)
            print('\n'.join(markdown_rows(rows)), flush=True)
            results += rows
    print(f'\n{machine_info("cpu")}; {results[0]["threads"]} threads, '
          f'{args.repeats} timed rounds\n')
    print('\n'.join(MARKDOWN_HEADER + markdown_rows(results)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
