"""Run KINet's teachers once over a dataset and cache their pseudo labels.

Usage::

    python tools/extract_pseudo_labels.py CONFIG --out CACHE [--split train]
    torchrun --nproc_per_node 2 tools/extract_pseudo_labels.py CONFIG \
        --out CACHE --launcher pytorch

The teachers are ``model.teachers.human`` and ``model.teachers.scene`` of the
config; the videos are those of the train / val / all dataloaders' datasets
(``--split``) or of ``--ann-file``. The tool is resumable: a rerun skips every video whose entry
reads back completely and was built the same way, and entries are written
atomically. A video that cannot be decoded is logged and skipped; the tool then
exits with status 1 after the others are done, listing it. See
``docs/pseudo_labels.md`` for the cache format.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
import uuid
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dist import (all_gather_object, all_reduce, barrier,
                           get_dist_info, init_dist)
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from kinet_mm.datasets.pseudo_label_cache import (PseudoLabelCache,
                                                  PseudoLabelEntry,
                                                  downsample_masks, mask_size)

TEACHER_NAMES = ('human', 'scene')
#: Most frames decoded at once (bounds memory for long strides / large frames).
_MAX_DECODE_WINDOW = 64


class VideoDecodeError(RuntimeError):
    """A video could not be opened or decoded."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract KINet teacher pseudo labels into a cache.')
    parser.add_argument('config', help='KINet config with model.teachers')
    parser.add_argument('--out', required=True, help='cache directory')
    videos = parser.add_mutually_exclusive_group()
    videos.add_argument(
        '--split', choices=['train', 'val', 'all'], default='train',
        help='dataset(s) of the config whose videos to extract')
    videos.add_argument(
        '--ann-file', help='annotation file to use instead of the config\'s; '
        "its videos are under train_dataloader.dataset's data_prefix")
    parser.add_argument(
        '--stride', type=int, default=1,
        help='store every N-th frame; readers take the nearest stored frame')
    parser.add_argument(
        '--mask-short-side', type=int, default=64,
        help='short side of the stored human masks (aspect kept)')
    parser.add_argument('--topk', type=int, default=5,
                        help='scene classes stored per frame')
    parser.add_argument(
        '--teacher-short-side', type=int, default=224,
        help='frames are resized to this short side before the teachers '
        '(0: original size)')
    parser.add_argument('--batch-size', type=int, default=16,
                        help='frames per teacher forward')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument('--launcher', choices=['none', 'pytorch'],
                        default='none', help='job launcher')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy format')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.stride < 1 or args.mask_short_side < 1 or args.topk < 1:
        parser.error('--stride, --mask-short-side and --topk must be >= 1')
    return args


# ----------------------------------------------------------------------------
# Config: videos and teachers
# ----------------------------------------------------------------------------


def _leaf_datasets(ds_cfg) -> List:
    """Unwrap RepeatDataset / ConcatDataset-style wrappers."""
    if 'datasets' in ds_cfg:
        return [leaf for sub in ds_cfg['datasets'] for leaf in _leaf_datasets(sub)]
    if 'dataset' in ds_cfg:
        return _leaf_datasets(ds_cfg['dataset'])
    return [ds_cfg]


def dataset_cfgs(cfg: Config, split: str, ann_file: Optional[str]) -> List:
    """Dataset configs whose videos are extracted."""
    loaders = dict(train=['train_dataloader'], val=['val_dataloader'],
                   all=['train_dataloader', 'val_dataloader', 'test_dataloader'])
    if ann_file is not None:
        ds_cfg = _leaf_datasets(cfg.train_dataloader.dataset)[0].copy()
        ds_cfg.ann_file = osp.abspath(ann_file)
        return [ds_cfg]
    names = loaders[split]
    return [leaf for name in names if name in cfg
            for leaf in _leaf_datasets(cfg[name].dataset)]


def list_videos(ds_cfgs: List) -> List[Tuple[str, str]]:
    """``(key, filename)`` of every video, deduplicated, in dataset order.

    The datasets are built (with no pipeline) so that ``data_root``,
    ``data_prefix`` and the annotation format are resolved exactly as in
    training; the key is the filename relative to ``data_prefix['video']``.
    """
    from mmaction.registry import DATASETS
    videos: Dict[str, str] = {}
    for ds_cfg in ds_cfgs:
        ds_cfg = ds_cfg.copy()
        ds_cfg.pipeline = []
        dataset = DATASETS.build(ds_cfg)
        prefix = dataset.data_prefix.get('video', '')
        for idx in range(len(dataset)):
            filename = dataset.get_data_info(idx)['filename']
            # Without a prefix the annotation holds full paths; drop the root.
            key = osp.relpath(filename, prefix or os.sep)
            videos.setdefault(key.replace(os.sep, '/'), filename)
    return list(videos.items())


def build_teachers(cfg: Config, device: str) -> Dict[str, torch.nn.Module]:
    """Build ``model.teachers.{human,scene}`` (only the teachers, no student)."""
    from mmaction.registry import MODELS
    teachers_cfg = cfg.model.get('teachers')
    missing = [n for n in TEACHER_NAMES if not teachers_cfg or n not in teachers_cfg]
    if missing:
        raise KeyError(f'{cfg.filename}: model.teachers lacks {missing}; the '
                       'config must define model.teachers.human and .scene.')
    return {n: MODELS.build(teachers_cfg[n]).to(device).eval()
            for n in TEACHER_NAMES}


def _plain(value):
    """JSON-safe copy of a config value (tuples -> lists, objects -> str)."""
    return json.loads(json.dumps(value, default=str))


def build_meta(cfg: Config, teachers: Dict[str, torch.nn.Module],
               args: argparse.Namespace) -> Dict:
    """``meta.json`` content: what decides the pseudo labels' values."""
    teachers_meta = {}
    for name, teacher in teachers.items():
        cfg_dict = cfg.model.teachers[name]
        cfg_dict = cfg_dict.to_dict() if hasattr(cfg_dict, 'to_dict') else cfg_dict
        teachers_meta[name] = dict(_plain(teacher.fingerprint), cfg=_plain(cfg_dict))
    teachers_meta['scene']['num_classes'] = scene_num_classes(
        teachers['scene'], args)
    if args.topk > teachers_meta['scene']['num_classes']:
        raise ValueError(f'--topk {args.topk} exceeds the scene teacher\'s '
                         f"{teachers_meta['scene']['num_classes']} classes.")
    from kinet_mm.version import __version__
    return dict(
        teachers=teachers_meta,
        stride=args.stride,
        topk=args.topk,
        mask_short_side=args.mask_short_side,
        teacher_short_side=args.teacher_short_side,
        info=dict(tool='tools/extract_pseudo_labels.py',
                  kinet_mm_version=__version__,
                  config=osp.abspath(cfg.filename) if cfg.filename else None))


def scene_num_classes(teacher: torch.nn.Module, args: argparse.Namespace) -> int:
    """The scene teacher's class count (its attribute, else one probe forward)."""
    num = getattr(teacher, 'num_classes', None)
    if num is None:
        size = args.teacher_short_side or 224
        probe = torch.zeros(1, 3, size, size, device=args.device)
        num = teacher(probe).shape[-1]
    return int(num)


# ----------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------


def _open_video(filename: str):
    import decord
    try:
        return decord.VideoReader(filename, num_threads=1)
    except Exception as err:  # decord raises its own DECORDError / RuntimeError
        raise VideoDecodeError(f'cannot open {filename}: {err}') from err


def iter_stored_frames(reader, filename: str, num_frames: int, stride: int,
                       batch_size: int) -> Iterator[Tuple[np.ndarray,
                                                          np.ndarray]]:
    """Yield ``(frame_inds, frames)`` batches of every ``stride``-th frame.

    Frames are decoded in consecutive ranges, never by seeking: decord's
    ``get_batch`` on a strided or out-of-order index list seeks to key frames,
    and on AVIs with a broken key-frame index (e.g. HMDB51's) it then returns
    other frames than the ones asked for; reading on from the current position
    is exact.

    Yields:
        tuple: ``(B,)`` frame indices and ``(B, H, W, 3)`` uint8 RGB frames.
    """
    window = max(1, min(_MAX_DECODE_WINDOW, stride * batch_size))
    kept_inds, kept = [], []
    for start in range(0, num_frames, window):
        stop = min(num_frames, start + window)
        try:
            frames = reader.get_batch(list(range(start, stop))).asnumpy()
        except Exception as err:  # decord raises DECORDError / RuntimeError
            raise VideoDecodeError(f'cannot decode frames {start}..{stop - 1} '
                                   f'of {filename}: {err}') from err
        first = -(-start // stride) * stride  # first multiple of stride
        for ind in range(first, stop, stride):
            kept_inds.append(ind)
            kept.append(frames[ind - start])
        while len(kept) >= batch_size or (kept and stop == num_frames):
            yield (np.asarray(kept_inds[:batch_size]),
                   np.stack(kept[:batch_size]))
            del kept_inds[:batch_size], kept[:batch_size]


def resize_short_side(frames: np.ndarray, short_side: int) -> np.ndarray:
    """Resize ``(B, H, W, 3)`` uint8 frames to ``short_side`` (0: keep as is).

    Area interpolation when shrinking (no aliasing), bilinear when enlarging.
    """
    height, width = frames.shape[1:3]
    if not short_side or min(height, width) == short_side:
        return frames
    scale = short_side / min(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = 'area' if scale < 1 else 'bilinear'
    return np.stack([
        mmcv.imresize(frame, size, interpolation=interpolation)
        for frame in frames
    ])


def label_frames(frames: np.ndarray, teachers: Dict[str, torch.nn.Module],
                 args: argparse.Namespace) -> Tuple[np.ndarray, ...]:
    """Pseudo labels of ``(B, H, W, 3)`` uint8 RGB frames.

    Returns:
        tuple: ``(B, h, w)`` bool masks at the stored size, ``(B, k)`` top-k
        scene classes and ``(B, k)`` their probabilities.
    """
    size = mask_size(frames.shape[1:3], args.mask_short_side)
    frames = resize_short_side(frames, args.teacher_short_side)
    batch = torch.from_numpy(frames).to(args.device).permute(0, 3, 1, 2).float()
    masks = downsample_masks(teachers['human'](batch), size)
    top = teachers['scene'](batch).float().topk(args.topk, dim=1)
    return masks, top.indices.cpu().numpy(), top.values.cpu().numpy()


def extract_video(filename: str, teachers: Dict[str, torch.nn.Module],
                  args: argparse.Namespace) -> PseudoLabelEntry:
    """Run the teachers on every ``args.stride``-th frame of one video."""
    reader = _open_video(filename)
    num_frames = len(reader)
    if num_frames == 0:
        raise VideoDecodeError(f'{filename} has no frames')
    inds, labels = [], []
    for chunk, frames in iter_stored_frames(reader, filename, num_frames,
                                            args.stride, args.batch_size):
        inds.append(chunk)
        labels.append(label_frames(frames, teachers, args))
    masks, topk_idx, topk_prob = (np.concatenate(parts) for parts in zip(*labels))
    return PseudoLabelEntry(
        frame_inds=np.concatenate(inds),
        human_mask=masks,
        scene_topk_idx=topk_idx,
        scene_topk_prob=topk_prob,
        num_frames=num_frames,
        frame_shape=tuple(frames.shape[1:3]))


def run_shard(cache: PseudoLabelCache, videos: List[Tuple[str, str]],
              teachers: Dict[str, torch.nn.Module], args: argparse.Namespace,
              logger: MMLogger, show_progress: bool) -> Dict:
    """Extract this rank's videos; returns counts, frames and failures."""
    stats = dict(done=0, skipped=0, frames=0, failed=[])
    removed = cache.remove_stale_temporaries([key for key, _ in videos])
    if removed:
        logger.info(f'removed {removed} temporary file(s) of interrupted writes')
    progress = ProgressBar(len(videos)) if show_progress else None
    for key, filename in videos:
        if cache.is_complete(key):
            stats['skipped'] += 1
        else:
            if key in cache:
                logger.warning(f'{cache.entry_path(key)} is unusable; '
                               're-extracting it')
            try:
                entry = extract_video(filename, teachers, args)
            except VideoDecodeError as err:
                logger.error(f'skipping video {key!r}: {err}')
                stats['failed'].append(filename)
            else:
                cache.write(key, entry)
                stats['done'] += 1
                stats['frames'] += len(entry.frame_inds)
        if progress is not None:
            progress.update()
    if progress is not None:
        sys.stdout.write('\n')
    return stats


def init_launcher(launcher: str, device: str) -> None:
    if launcher == 'none':
        return
    if device.startswith('cuda'):
        init_dist(launcher, backend='nccl')
    else:
        # mmengine's init_dist pins a CUDA device before creating the group,
        # which fails on CPU-only hosts; gloo over env:// needs nothing else.
        torch.distributed.init_process_group(backend='gloo')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    import kinet_mm  # noqa: F401  (registers the teachers)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    init_launcher(args.launcher, args.device)
    rank, world_size = get_dist_info()

    logger = MMLogger.get_instance(
        f'extract_pseudo_labels-{uuid.uuid4().hex[:8]}', log_level='INFO')
    teachers = build_teachers(cfg, args.device)
    meta = build_meta(cfg, teachers, args)
    videos = list_videos(dataset_cfgs(cfg, args.split, args.ann_file))
    # Every rank checks an existing meta.json, so a mismatch stops all of
    # them instead of leaving the others waiting at the barrier.
    PseudoLabelCache.check_can_create(args.out, meta)
    if rank == 0:
        PseudoLabelCache.create(args.out, meta)
    barrier()
    cache = PseudoLabelCache(args.out)
    shard = videos[rank::world_size]
    logger.info(f'rank {rank}/{world_size}: {len(shard)} of {len(videos)} '
                f'videos -> {args.out} (stride {args.stride})')

    start = time.perf_counter()
    with torch.no_grad():
        stats = run_shard(cache, shard, teachers, args, logger, rank == 0)
    elapsed = time.perf_counter() - start
    return _report(stats, elapsed, world_size, logger)


def _report(stats: Dict, elapsed: float, world_size: int,
            logger: MMLogger) -> int:
    """Log totals over all ranks; return the exit status (1 if any failed)."""
    totals = torch.tensor([stats['done'], stats['skipped'], stats['frames']],
                          dtype=torch.float64)
    wall = torch.tensor([elapsed], dtype=torch.float64)
    if world_size > 1:
        all_reduce(totals, op='sum')
        all_reduce(wall, op='max')
        failed = [f for part in all_gather_object(stats['failed']) for f in part]
    else:
        failed = stats['failed']
    done, skipped, frames = (int(v) for v in totals)
    fps = frames / wall.item() if wall.item() > 0 else 0.0
    logger.info(f'extracted {done} videos ({frames} frames, {fps:.1f} frames/s '
                f'over {world_size} process(es)), skipped {skipped} finished, '
                f'failed {len(failed)}')
    if failed:
        logger.error('videos that could not be decoded (re-run after fixing '
                     'them; finished videos are skipped):\n  ' +
                     '\n  '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
