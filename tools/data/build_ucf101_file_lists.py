"""UCF-101's official train/test lists -> MMAction2 annotation files.

Runs MMAction2's own ``tools/data/build_file_list.py ucf101`` (from the
installed wheel) on a UCF-101 folder laid out as MMAction2's data preparation
leaves it (docs/ucf101.md)::

    DATA_ROOT/annotations/{classInd,trainlist01..03,testlist01..03}.txt
    DATA_ROOT/videos/<Class>/v_<Class>_gXX_cXX.avi   (or rawframes/<Class>/...)

and writes ``DATA_ROOT/ucf101_{train,val}_split_{1,2,3}_<format>.txt``.

``--realclip-proxy REAL_CLIPS`` first builds a miniature UCF-101 at DATA_ROOT
from the UCF-101 clips among the real clips (links, not copies), for a
pipeline check on a CPU::

    python tools/data/build_ucf101_file_lists.py work_dirs/ucf101_proxy \\
        --realclip-proxy ../shared/data/real_clips
"""
import argparse

from mmengine.logging import MMLogger

from kinet_mm.datasets.ucf101 import build_file_lists, build_realclip_proxy


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'data_root',
        help='UCF-101 folder (annotations/, '
        'videos/ or rawframes/); the lists are written here')
    parser.add_argument(
        '--format',
        default='videos',
        choices=['videos', 'rawframes'],
        help='list videos or frame folders')
    parser.add_argument(
        '--seed', type=int, default=0, help="seed of build_file_list.py's --shuffle")
    parser.add_argument(
        '--realclip-proxy',
        metavar='REAL_CLIPS',
        help='first lay out the proxy from this real_clips '
        'folder')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logger = MMLogger.get_instance('build_ucf101_file_lists')
    if args.realclip_proxy:
        counts = build_realclip_proxy(args.realclip_proxy, args.data_root)
        logger.info(f'proxy UCF-101 at {args.data_root}: {counts}')
    for path in build_file_lists(args.data_root, args.format, args.seed):
        with open(path, encoding='utf-8') as f:
            logger.info(f'{path}: {sum(1 for _ in f)} videos')


if __name__ == '__main__':
    main()
