"""Run KINet's teachers once over a dataset and cache their pseudo labels.

Usage::

    python tools/extract_pseudo_labels.py CONFIG --out CACHE [--split train]
    torchrun --nproc_per_node 2 tools/extract_pseudo_labels.py CONFIG \
        --out CACHE --launcher pytorch
    srun -p PARTITION -n 8 python tools/extract_pseudo_labels.py CONFIG \
        --out CACHE --launcher slurm --device cuda

The teachers are those of the config's knowledge tasks
(``model.knowledge.<task>.teacher``), and what each task stores is its own
setting (e.g. ``--cfg-options model.knowledge.human.cache_short_side=96``); the
videos are those of the train / val / all dataloaders' datasets (``--split``)
or of ``--ann-file``. Resumable: a rerun skips every video whose entry reads
back completely, and entries are written atomically. A video that cannot be
decoded is logged and skipped; the tool then exits with status 1 after the
others are done, listing it. Throughput and size go to
``CACHE/extraction_stats.json``. See ``docs/pseudo_labels.md``.
"""
import argparse
import sys
import uuid
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from kinet_mm.extraction import SPLITS
from kinet_mm.pseudo_labels.extractor import ExtractionSettings, extract_to_cache
from kinet_mm.utils.dist import init_launcher


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    defaults = ExtractionSettings()
    parser = argparse.ArgumentParser(
        description='Extract KINet teacher pseudo labels into a cache.')
    parser.add_argument(
        'config', help='KINet config whose model.knowledge '
        'tasks have teachers')
    parser.add_argument('--out', required=True, help='cache directory')
    videos = parser.add_mutually_exclusive_group()
    videos.add_argument(
        '--split',
        choices=sorted(SPLITS),
        default='train',
        help='dataset(s) of the config whose videos to extract')
    videos.add_argument(
        '--ann-file',
        help="annotation file to use instead of "
        "the config's; its videos are under "
        "train_dataloader.dataset's data_prefix")
    parser.add_argument(
        '--stride',
        type=int,
        default=defaults.stride,
        help='store every N-th frame; readers take the nearest')
    parser.add_argument(
        '--teacher-short-side',
        type=int,
        default=defaults.teacher_short_side,
        help='short side of the frames the teachers see '
        '(0: original size)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=defaults.batch_size,
        help='frames per teacher forward')
    parser.add_argument('--device', default=defaults.device, help='cpu, cuda')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    settings = ExtractionSettings(
        stride=args.stride,
        teacher_short_side=args.teacher_short_side,
        batch_size=args.batch_size,
        device=args.device)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    import kinet_mm  # noqa: F401  (registers the teachers)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    init_launcher(args.launcher, args.device)
    logger = MMLogger.get_instance(
        f'extract_pseudo_labels-{uuid.uuid4().hex[:8]}', log_level='INFO')
    totals = extract_to_cache(cfg, args.out, settings, args.split, args.ann_file,
                              logger)
    fps = f'{totals["fps"]:.1f}' if totals['fps'] else '-'
    logger.info(f'extracted {totals["done"]} videos ({totals["frames"]} frames, '
                f'{fps} frames/s over {totals["world_size"]} process(es)), '
                f'skipped {totals["skipped"]} finished, failed '
                f'{len(totals["failed"])}')
    if totals['failed']:
        logger.error('videos that could not be decoded (re-run after fixing '
                     'them; finished videos are skipped):\n  ' +
                     '\n  '.join(totals['failed']))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
