"""Extract per-segment features (N progression levels) into a resumable cache.

Each video is cut into ``segment_features.num_levels`` equal parts and the
config's recognizer (TSN, TSM, KINet's action branch, ...) describes each part
with its ``extract_feat``; see kinet_mm/features/segment_feature_cache.py for the
format. Finished videos are skipped, so an interrupted run is resumed by
running the same command again.

Example::

    python tools/misc/extract_segment_features.py \\
        configs/early_recognition/features/tsn_r50_realclips_progression10.py \\
        --split all --out work_dirs/early_recognition_realclips/features/tsn_r50

    # several processes (GPUs with --device cuda): rank r takes videos r::world
    torchrun --nproc_per_node 4 tools/misc/extract_segment_features.py CONFIG \\
        --out CACHE --launcher pytorch
"""
import argparse
import sys
import time

from mmengine.config import Config, DictAction
from mmengine.dist import get_dist_info
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from kinet_mm.extraction import SPLITS, dataset_cfgs, list_videos
from kinet_mm.features import SegmentFeatureExtractor, extract_to_cache
from kinet_mm.utils.dist import init_launcher


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a segment_features section')
    parser.add_argument('--out', required=True, help='feature cache directory')
    parser.add_argument(
        '--checkpoint',
        help='recognizer checkpoint (default: seeded random '
        'weights, recorded as such in meta.json)')
    parser.add_argument(
        '--split',
        choices=sorted(SPLITS),
        default='all',
        help="dataloaders of the config whose videos to use")
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    init_launcher(args.launcher, args.device)
    rank, world_size = get_dist_info()
    logger = MMLogger.get_instance('extract_segment_features', log_level='INFO')

    # Ranks write disjoint entries; each writes the same meta.json atomically.
    videos = list_videos(dataset_cfgs(cfg, args.split))[rank::world_size]
    extractor = SegmentFeatureExtractor.from_config(cfg, args.checkpoint, args.device)
    weights = args.checkpoint or 'random weights (seed ' \
        f"{cfg.get('randomness', {}).get('seed')})"
    logger.info(f'rank {rank}/{world_size}: {len(videos)} videos, '
                f'{extractor.num_levels} levels x '
                f'{extractor.frames_per_level} frames, {weights} -> {args.out}')
    start = time.perf_counter()
    stats = extract_to_cache(
        extractor, args.out, videos, logger, show_progress=rank == 0)
    sys.stdout.write('\n')
    logger.info(f"extracted {stats['done']} videos, skipped {stats['skipped']} "
                f"finished, failed {len(stats['failed'])} in "
                f'{time.perf_counter() - start:.1f} s')
    if stats['failed']:
        logger.error('videos that could not be read (re-run after fixing '
                     'them):\n  ' + '\n  '.join(stats['failed']))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
