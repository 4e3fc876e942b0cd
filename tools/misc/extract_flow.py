"""TV-L1 optical flow for the videos of MMAction2 annotation files.

Calls MMAction2's own ``tools/misc/flow_extraction.py`` functions through
``kinet_mm.datasets.flow_extraction`` (which says what it adds: atomic,
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
import time

import cv2
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from kinet_mm.datasets.flow_extraction import (
    extract_flow, frame_dir_name, read_video_annotation, remove_partial,
    write_rawframe_annotation)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_files', nargs='+',
                        help='VideoDataset annotation files (<video> <label>)')
    parser.add_argument('--video-root', required=True,
                        help='folder the annotation paths are relative to')
    parser.add_argument('--out', required=True, help='rawframe root folder')
    parser.add_argument('--short-side', type=int, default=None,
                        help='resize frames to this short side first '
                        '(default: native size, as MMAction2\'s script)')
    parser.add_argument('--step', type=int, default=1,
                        help='flow between every step-th frame (default 1)')
    parser.add_argument('--method', choices=['tvl1', 'farneback'],
                        default='tvl1')
    parser.add_argument('--bound', type=float, default=20.,
                        help='flow clipping bound in pixels (default 20)')
    parser.add_argument('--save-rgb', action='store_true',
                        help='also write the frames as img_*.jpg')
    parser.add_argument('--threads', type=int, default=1,
                        help='OpenCV threads (default 1: shared machines)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cv2.setNumThreads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    logger = MMLogger.get_instance(
        'extract_flow', log_file=osp.join(args.out, 'extract_flow.log'))
    videos = list(dict.fromkeys(
        video for ann in args.ann_files
        for video, _ in read_video_annotation(ann)))
    todo = [v for v in videos
            if not osp.isdir(osp.join(args.out, frame_dir_name(v)))]
    logger.info(f'{len(videos)} videos, {len(videos) - len(todo)} already '
                f'extracted; TV-L1 ({args.method}) at short side '
                f'{args.short_side or "native"}, step {args.step}, '
                f'{args.threads} OpenCV thread(s)')
    total_frames, total_time = 0, 0.
    progress = ProgressBar(len(todo))
    for video in todo:
        frame_dir = osp.join(args.out, frame_dir_name(video))
        for stale in remove_partial(frame_dir):
            logger.info(f'removed the partial extraction {stale}')
        start = time.perf_counter()
        num = extract_flow(osp.join(args.video_root, video), frame_dir,
                           short_side=args.short_side, step=args.step,
                           method=args.method, bound=args.bound,
                           save_rgb=args.save_rgb)
        seconds = time.perf_counter() - start
        total_frames, total_time = total_frames + num, total_time + seconds
        progress.update()
        logger.info(f'{video}: {num} flow frames in {seconds:.1f} s '
                    f'({num / seconds:.2f} frames/s)')
    sys.stdout.write('\n')
    if total_frames:
        logger.info(f'extracted {total_frames} flow frames in '
                    f'{total_time:.1f} s: {total_frames / total_time:.2f} '
                    'frames/s')
    for ann in args.ann_files:
        stem = osp.splitext(osp.basename(ann))[0]
        out_file = osp.join(args.out, f'{stem}_rawframes.txt')
        num = write_rawframe_annotation(ann, args.out, out_file)
        logger.info(f'wrote {out_file} ({num} videos)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
