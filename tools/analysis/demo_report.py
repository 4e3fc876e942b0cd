"""Write the demo report: TSN vs KINet on one backbone, teachers vs student.

Example (what ``tools/run_demo.sh`` runs)::

    python tools/analysis/demo_report.py \\
        configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py \\
        work_dirs/demo/kinet \\
        --tsn-config configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py \\
        --tsn-work-dir work_dirs/demo/tsn --out work_dirs/demo/report

Each work dir is a ``tools/train.py --work-dir`` whose ``test/`` holds the
metrics of ``tools/test.py --work-dir <work dir>/test``. Writes ``report.md``,
``loss_curves.png`` and one ``val_<clip>.png`` per validation clip (see
:mod:`kinet_mm.visualization.demo_report`).
"""
import argparse
import os
import os.path as osp

from mmaction.utils import register_all_modules
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

import kinet_mm  # noqa: F401
from kinet_mm.visualization import demo_report


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the trained KINet config')
    parser.add_argument('work_dir', help='its training work dir')
    parser.add_argument(
        '--checkpoint', help='KINet weights (default: the work dir\'s last)')
    parser.add_argument('--tsn-config', help='a TSN config to compare with')
    parser.add_argument('--tsn-work-dir', help='its training work dir')
    parser.add_argument(
        '--tsn-checkpoint', help='TSN weights (default: the work dir\'s last)')
    parser.add_argument('--out', help='report directory (<work_dir>/report)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the KINet config, key=value')
    args = parser.parse_args()
    if bool(args.tsn_config) != bool(args.tsn_work_dir):
        parser.error('--tsn-config and --tsn-work-dir go together')
    return args


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=True)
    logger = MMLogger.get_instance('kinet_mm_demo_report', log_level='INFO')
    out_dir = args.out or osp.join(args.work_dir, 'report')
    os.makedirs(out_dir, exist_ok=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)

    runs = {}  # name -> (config path, work dir, checkpoint)
    if args.tsn_config:
        runs['TSN'] = (args.tsn_config, args.tsn_work_dir, args.tsn_checkpoint)
    runs['KINet'] = (args.config, args.work_dir, args.checkpoint)
    configs = {name: path for name, (path, _, _) in runs.items()}
    metrics = {
        name: demo_report.read_test_metrics(osp.join(work_dir, 'test'))
        for name, (_, work_dir, _) in runs.items()
    }
    scalars = {
        name: demo_report.latest_scalars(work_dir)
        for name, (_, work_dir, _) in runs.items()
    }
    checkpoints = {
        name: ckpt or demo_report.last_checkpoint(work_dir)
        for name, (_, work_dir, ckpt) in runs.items()
    }

    fig = demo_report.loss_figure(scalars)
    fig.savefig(osp.join(out_dir, 'loss_curves.png'), dpi=100)
    logger.info('rendering the validation clips (teachers and students)')
    tsn_cfg = Config.fromfile(args.tsn_config) if args.tsn_config else None
    rows = demo_report.val_clip_figures(cfg, checkpoints['KINet'], out_dir, tsn_cfg,
                                        checkpoints.get('TSN'))
    teachers = ', '.join(f'{name}: `{task.teacher.type}`'
                         for name, task in cfg.model.knowledge.items()
                         if task and task.teacher)
    with open(osp.join(out_dir, 'report.md'), 'w') as f:
        f.write(demo_report.report_markdown(metrics, configs, rows, teachers))
    for name, values in metrics.items():
        logger.info(f'{name}: ' +
                    ', '.join(f'{k} {v:.4f}'
                              for k, v in values.items() if k.startswith('acc/')))
    logger.info(f'report written to {out_dir}/report.md')


if __name__ == '__main__':
    main()
