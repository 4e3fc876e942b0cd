"""Test (and evaluate) a recognizer with MMAction2 1.x and kinet_mm's components.

Same command line as MMAction2 1.2's ``tools/test.py``; importing
:mod:`kinet_mm` first applies its compatibility shims and registers its modules.

Example::

    python tools/test.py configs/tsn/tsn_r50_1x1x3_realclips-cpu.py \\
        work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3.pth --dump preds.pkl
"""
import argparse
import os
import os.path as osp

from mmaction.registry import RUNNERS
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import kinet_mm  # noqa: F401  (applies the compatibility shims, registers modules)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) an action recognizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics and logs')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump the predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it, e.g. test_dataloader.batch_size=2 or key="[a,b]" for a '
        'list (quotation marks needed, no white space)')
    parser.add_argument(
        '--show-dir', help='directory where the visualized predictions are saved')
    parser.add_argument(
        '--show', action='store_true', help='display the predictions in a window')
    parser.add_argument(
        '--interval', type=int, default=1, help='visualize every `interval`-th sample')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds each window is displayed')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line arguments to the config."""
    if args.show or args.show_dir is not None:
        assert 'visualization' in cfg.default_hooks, (
            '--show/--show-dir need a VisualizationHook: add '
            '`visualization=dict(type="VisualizationHook")` to the '
            '`default_hooks` of the config')
        visualization = cfg.default_hooks.visualization
        visualization.enable = True
        visualization.show = args.show
        visualization.wait_time = args.wait_time
        visualization.out_dir = args.show_dir
        visualization.interval = args.interval

    if args.dump is not None:
        assert args.dump.endswith(
            ('.pkl',
             '.pickle')), (f'--dump must name a .pkl or .pickle file, got {args.dump}')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = [*cfg.test_evaluator, dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]

    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    # A config may name its own runner type; the default is MMEngine's Runner.
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
