"""TV-L1 optical flow of a video dataset, in MMAction2's rawframe layout.

The flow itself is MMAction2's: :func:`extract_flow` calls
``generate_flow`` (OpenCV contrib's ``DualTVL1OpticalFlow`` with its default
parameters, on grey frames) and ``flow_to_img`` (clip to ``[-bound, bound]``,
map linearly to ``[0, 255]``) of the wheel's ``tools/misc/flow_extraction.py``,
loaded with :func:`kinet_mm.utils.mmaction_tools.load_mmaction_tool`. Both work
unchanged on numpy 2 / OpenCV 4.13. What this module adds around them, and why
the script's own ``extract_dense_flow`` loop is not called:

* **resumable, atomic videos**: every image of a video is written into a
  hidden temporary folder (``.tmp-<name>.*``) that is renamed to the frame
  folder only when complete, so an interrupted run leaves either a finished
  folder or a temporary one that the next run deletes and redoes; the script
  writes straight into the destination (and creates it with
  ``os.system('mkdir -p ' + dest)``, which a space in a path breaks);
* **a smaller short side and a frame step** (``short_side``, ``step``, as
  denseflow's ``--new-short`` and ``--step``): TV-L1 at the clips' native
  240-360p runs at about 0.2 frames/s on one busy core here;
* the **rawframe annotation** that MMAction2's ``RawframeDataset`` reads
  (``<frame_dir> <total_frames> <label>``), from a ``VideoDataset`` one.

Layout (MMAction2's ``tools/data/build_rawframes.py``; frames numbered from
``start_index``, 1 as ``RawframeDataset`` expects)::

    out_root/<video name without extension>/x_00001.jpg  y_00001.jpg  ...
                                            [img_00001.jpg ...  with save_rgb]

``x_i``/``y_i`` is the flow from frame ``i`` to frame ``i + 1`` (of the
stepped frames), so a video of ``T`` frames has ``T - 1`` flow frames.
"""
import glob
import os
import os.path as osp
import re
import shutil
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import MMLogger

from ..utils.io import TMP_PREFIX, _fsync_dir, atomic_write
from ..utils.mmaction_tools import load_mmaction_tool
from .runner import run_resumable

FLOW_TOOL = 'misc/flow_extraction.py'
#: MMAction2's names (``RawframeDataset`` and its flow configs).
FLOW_TMPL = '{}_{:05d}.jpg'
RGB_TMPL = 'img_{:05d}.jpg'


def frame_dir_name(video: str) -> str:
    """Frame folder of a video, relative to the output root: its path
    without the extension (``a/b.mp4`` -> ``a/b``)."""
    return osp.splitext(video)[0]


def read_frames(video: str,
                short_side: Optional[int] = None,
                step: int = 1) -> List[np.ndarray]:
    """BGR frames ``(H, W, 3)`` uint8 of ``video`` (OpenCV, as MMAction2's
    script reads them), every ``step``-th, resized so that the short side is
    ``short_side`` (area interpolation; None keeps the size)."""
    if step < 1:
        raise ValueError(f'step must be >= 1, got {step}')
    capture = cv2.VideoCapture(video)
    if not capture.isOpened():
        raise OSError(f'OpenCV cannot open the video {video}')
    frames, index = [], 0
    ok, frame = capture.read()
    while ok:
        if index % step == 0:
            if short_side is not None:
                h, w = frame.shape[:2]
                scale = short_side / min(h, w)
                size = (max(1, round(w * scale)), max(1, round(h * scale)))
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            frames.append(frame)
        index += 1
        ok, frame = capture.read()
    capture.release()
    return frames


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _imwrite(path: str, img: np.ndarray) -> None:
    # cv2.imwrite reports failure by returning False, not by raising.
    if not cv2.imwrite(path, img):
        raise OSError(f'cannot write {path}')


def extract_flow(video: str,
                 frame_dir: str,
                 short_side: Optional[int] = None,
                 step: int = 1,
                 method: str = 'tvl1',
                 bound: float = 20.,
                 start_index: int = 1,
                 save_rgb: bool = False) -> int:
    """Write the flow images of one video into ``frame_dir``, atomically.

    Args:
        video (str): The video file.
        frame_dir (str): Its frame folder; must not exist yet.
        short_side (int, optional): Resize frames to this short side first.
        step (int): Use every ``step``-th frame. Defaults to 1.
        method (str): ``'tvl1'`` or ``'farneback'`` (MMAction2's choices).
        bound (float): Flow clipping bound in pixels. Defaults to 20.
        start_index (int): Number of the first image. Defaults to 1.
        save_rgb (bool): Also write the (resized) frames as ``img_*.jpg``.

    Returns:
        int: The number of flow frames (frames - 1).
    """
    tool = load_mmaction_tool(FLOW_TOOL)
    frames = read_frames(video, short_side, step)
    if len(frames) < 2:
        raise ValueError(f'{video}: {len(frames)} frame(s) read with step '
                         f'{step}; optical flow needs at least 2')
    flows = tool.generate_flow(frames, method=method)  # [(H, W, 2) float32]
    parent, name = osp.split(osp.abspath(frame_dir))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'{TMP_PREFIX}{name}.', dir=parent)
    try:
        for i, flow in enumerate(flows):
            for axis, channel in (('x', 0), ('y', 1)):
                _imwrite(
                    osp.join(tmp_dir, FLOW_TMPL.format(axis, start_index + i)),
                    tool.flow_to_img(flow[..., channel], bound))
        if save_rgb:
            for i, frame in enumerate(frames):
                _imwrite(osp.join(tmp_dir, RGB_TMPL.format(start_index + i)), frame)
        os.chmod(tmp_dir, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
        # The rename is the commit: the folder appears complete or not at all.
        os.rename(tmp_dir, frame_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    _fsync_dir(parent)
    return len(flows)


def remove_partial(frame_dir: str) -> List[str]:
    """Delete the temporary folders an interrupted :func:`extract_flow` of
    ``frame_dir`` left behind; return their paths."""
    parent, name = osp.split(osp.abspath(frame_dir))
    stale = glob.glob(
        osp.join(glob.escape(parent), f'{TMP_PREFIX}{glob.escape(name)}.*'))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def count_flow_frames(frame_dir: str) -> int:
    """Number of ``x_*`` flow images in a finished frame folder (what
    ``RawframeDataset`` needs as ``total_frames``)."""
    pattern = re.compile(r'^x_\d+\.jpg$')
    return sum(1 for f in os.listdir(frame_dir) if pattern.match(f))


def read_video_annotation(ann_file: str) -> List[Tuple[str, int]]:
    """``(video, label)`` pairs of a ``VideoDataset`` annotation file."""
    from ..datasets.annotation_check import AnnotationError, parse_annotation_lines
    lines, problems = parse_annotation_lines(ann_file, 'VideoDataset')
    if problems:
        raise AnnotationError('\n'.join(str(p) for p in problems))
    return [(line.path, line.labels[0]) for line in lines]


def write_rawframe_annotation(ann_file: str, out_root: str, out_file: str) -> int:
    """Write ``out_file`` (``<frame_dir> <total_frames> <label>`` lines, frame
    folders relative to ``out_root``) for the videos of the ``VideoDataset``
    annotation ``ann_file``; every video must be extracted. Returns the number
    of lines."""
    rows = []
    for video, label in read_video_annotation(ann_file):
        frame_dir = frame_dir_name(video)
        path = osp.join(out_root, frame_dir)
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'{ann_file}: the flow of {video} is not extracted ({path} is '
                'missing): run tools/misc/extract_flow.py on this file first')
        rows.append(f'{frame_dir} {count_flow_frames(path)} {label}\n')
    atomic_write(out_file, lambda f: f.write(''.join(rows).encode()))
    return len(rows)


def extract_dataset_flow(ann_files: Sequence[str],
                         video_root: str,
                         out_root: str,
                         logger: Optional[MMLogger] = None,
                         **flow_kwargs) -> Dict[str, float]:
    """Extract the flow of every video of ``ann_files`` (``VideoDataset``
    annotations) that is not extracted yet, then write
    ``<out_root>/<name>_rawframes.txt`` for every ``<name>.txt``.

    Resumable: a video whose frame folder exists is skipped; the temporary
    folders of an interrupted video are deleted and the video redone.

    Args:
        ann_files (Sequence[str]): Annotation files; videos listed by several
            are extracted once.
        video_root (str): The folder their paths are relative to.
        out_root (str): The rawframe root.
        logger (MMLogger, optional): Where per-video and total frames/s go.
        flow_kwargs: :func:`extract_flow`'s ``short_side``, ``step``,
            ``method``, ``bound``, ``start_index``, ``save_rgb``.

    Returns:
        dict: ``videos``, ``skipped``, ``flow_frames`` (extracted now) and
        ``seconds`` (spent extracting them).
    """
    logger = logger or MMLogger.get_current_instance()
    videos = list(
        dict.fromkeys(video for ann in ann_files
                      for video, _ in read_video_annotation(ann)))
    seconds = 0.

    def extract(video: str, path: str) -> int:
        nonlocal seconds
        frame_dir = osp.join(out_root, frame_dir_name(video))
        for stale in remove_partial(frame_dir):
            logger.info(f'removed the partial extraction {stale}')
        start = time.perf_counter()
        num = extract_flow(path, frame_dir, **flow_kwargs)
        took = time.perf_counter() - start
        seconds += took
        logger.info(f'{video}: {num} flow frames in {took:.1f} s '
                    f'({num / took:.2f} frames/s)')
        return num

    stats = run_resumable(
        [(video, osp.join(video_root, video)) for video in videos],
        lambda video: osp.isdir(osp.join(out_root, frame_dir_name(video))),
        extract,
        logger=logger)
    frames = stats['frames']
    if frames:
        logger.info(f'extracted {frames} flow frames in {seconds:.1f} s: '
                    f'{frames / seconds:.2f} frames/s')
    for ann in ann_files:
        stem = osp.splitext(osp.basename(ann))[0]
        out_file = osp.join(out_root, f'{stem}_rawframes.txt')
        num = write_rawframe_annotation(ann, out_root, out_file)
        logger.info(f'wrote {out_file} ({num} videos)')
    logger.info(f'{len(videos)} videos, {stats["skipped"]} already extracted')
    return dict(
        videos=len(videos),
        skipped=stats['skipped'],
        flow_frames=frames,
        seconds=seconds)
