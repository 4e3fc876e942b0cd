"""Test the model of every UCF-101 split; print per-split and mean top-1.

The paper reports the average over the three official splits (section 4.5,
Table 6). Each split's config and checkpoint are tested as ``tools/test.py``
tests them (the scores are dumped to ``WORK_DIR/<stream>_split<k>/scores.pkl``);
with flow models (or flow score dumps) as well, each split's RGB and flow
scores are fused as MMAction2's ``report_accuracy.py`` fuses them.

Example::

    python tools/analysis/ucf101_splits.py \\
        --configs configs/kinet/ucf101/kinet_*_ucf101-split{1,2,3}-rgb.py \\
        --checkpoints work_dirs/kinet_*_ucf101-split{1,2,3}-rgb/epoch_80.pth \\
        --flow-scores flow_split1.pkl flow_split2.pkl flow_split3.pkl \\
        --work-dir work_dirs/ucf101_splits
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.logging import MMLogger

import kinet_mm  # noqa: F401  (applies the compatibility shims, registers modules)
from kinet_mm.experiments import (TSN_COEFFICIENTS, dump_test_scores,
                                  markdown_split_table, split_table)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--configs',
        nargs='+',
        required=True,
        help='RGB config of each split, in split order')
    parser.add_argument(
        '--checkpoints', nargs='+', required=True, help='RGB checkpoint of each split')
    flow = parser.add_mutually_exclusive_group()
    flow.add_argument(
        '--flow-configs',
        nargs='+',
        help='flow config of each split (with --flow-checkpoints)')
    flow.add_argument(
        '--flow-scores',
        nargs='+',
        help='flow score dumps of each split (tools/test.py --dump)')
    parser.add_argument(
        '--flow-checkpoints', nargs='+', help='flow checkpoint of each split')
    parser.add_argument(
        '--coefficients',
        nargs=2,
        type=float,
        default=TSN_COEFFICIENTS,
        help='RGB and flow weights of the fusion (TSN: 1 1.5)')
    parser.add_argument(
        '--work-dir',
        required=True,
        help='test logs, score dumps and the table go here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of every config, key=value')
    parser.add_argument(
        '--launcher',
        default='none',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if len(args.checkpoints) != len(args.configs):
        parser.error('give one --checkpoints entry per --configs entry')
    if args.flow_configs and len(args.flow_checkpoints or ()) != len(args.flow_configs):
        parser.error('give one --flow-checkpoints entry per --flow-configs entry')
    return args


def test_splits(configs, checkpoints, stream, args, logger):
    dumps, names = [], []
    for index, (config, checkpoint) in enumerate(zip(configs, checkpoints)):
        work_dir = osp.join(args.work_dir, f'{stream}_split{index + 1}')
        logger.info(f'{stream} split {index + 1}: testing {checkpoint} with '
                    f'{config}')
        dump, metrics, cfg = dump_test_scores(config, checkpoint, work_dir,
                                              args.cfg_options, args.launcher)
        logger.info(f'{stream} split {index + 1}: {metrics}')
        dumps.append(dump)
        names.append(f"split {cfg.get('split', index + 1)}")
    return dumps, names


def main() -> None:
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    logger = MMLogger.get_instance(
        'ucf101_splits', log_file=osp.join(args.work_dir, 'ucf101_splits.log'))
    rgb, names = test_splits(args.configs, args.checkpoints, 'rgb', args, logger)
    flow = args.flow_scores
    if args.flow_configs:
        flow, _ = test_splits(args.flow_configs, args.flow_checkpoints, 'flow', args,
                              logger)
    rows = split_table(rgb, flow, args.coefficients, names)
    table = markdown_split_table(rows)
    with open(osp.join(args.work_dir, 'splits.md'), 'w', encoding='utf-8') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'splits.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(rows=rows, coefficients=list(args.coefficients)), f, indent=1)
    logger.info('top-1 per split and mean (fused: RGB x '
                f'{args.coefficients[0]} + flow x {args.coefficients[1]})\n' + table)


if __name__ == '__main__':
    main()
