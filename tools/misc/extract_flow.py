"""TV-L1 optical flow for the videos of MMAction2 annotation files.

Calls MMAction2's own ``tools/misc/flow_extraction.py`` functions through
``kinet_mm.extraction.flow`` (which says what it adds: atomic,
resumable videos, short side, step), writes the rawframe layout
(``x_00001.jpg``, ``y_00001.jpg``, ...) and, for every annotation file
``NAME.txt``, ``OUT/NAME_rawframes.txt`` (``<frame_dir> <total_frames>
<label>``) for ``RawframeDataset`` with ``modality='Flow'``. Finished videos are
skipped and interrupted ones redone: run the same command again to resume.

Example (the real clips, as in docs/two_stream.md)::

    python tools/misc/extract_flow.py ../shared/data/real_clips/train.txt \\
        ../shared/data/real_clips/val.txt \\
        --video-root ../shared/data/real_clips/videos \\
        --out work_dirs/flow/realclips --short-side 64 --step 4
"""
import argparse
import os
import os.path as osp
import sys

import cv2
from mmengine.logging import MMLogger

from kinet_mm.extraction.flow import extract_dataset_flow


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'ann_files', nargs='+', help='VideoDataset annotation files (<video> <label>)')
    parser.add_argument(
        '--video-root',
        required=True,
        help='folder the annotation paths are relative to')
    parser.add_argument('--out', required=True, help='rawframe root folder')
    parser.add_argument(
        '--short-side',
        type=int,
        default=None,
        help='resize frames to this short side first '
        '(default: native size, as MMAction2\'s script)')
    parser.add_argument(
        '--step',
        type=int,
        default=1,
        help='flow between every step-th frame (default 1)')
    parser.add_argument('--method', choices=['tvl1', 'farneback'], default='tvl1')
    parser.add_argument(
        '--bound',
        type=float,
        default=20.,
        help='flow clipping bound in pixels (default 20)')
    parser.add_argument(
        '--save-rgb', action='store_true', help='also write the frames as img_*.jpg')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OpenCV threads (default 1: shared machines)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cv2.setNumThreads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    logger = MMLogger.get_instance(
        'extract_flow', log_file=osp.join(args.out, 'extract_flow.log'))
    logger.info(f'TV-L1 ({args.method}) at short side '
                f'{args.short_side or "native"}, step {args.step}, '
                f'{args.threads} OpenCV thread(s)')
    extract_dataset_flow(
        args.ann_files,
        args.video_root,
        args.out,
        logger,
        short_side=args.short_side,
        step=args.step,
        method=args.method,
        bound=args.bound,
        save_rgb=args.save_rgb)
    return 0


if __name__ == '__main__':
    sys.exit(main())
