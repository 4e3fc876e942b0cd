"""Run KINet's teachers once over a dataset and store their pseudo labels.

The library behind ``tools/extract_pseudo_labels.py``: the videos of a config's
datasets, the teachers of its model, one :class:`PseudoLabelExtractor` that
writes a :class:`~.cache.PseudoLabelCache` (resumable, atomic per video) and the
run's statistics (``extraction_stats.json`` in the cache, read by the
benchmark).
"""
import json
import os.path as osp
import time
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import all_gather_object, all_reduce, barrier, get_dist_info
from mmengine.logging import MMLogger

from ..extraction import dataset_cfgs, list_videos, run_resumable
from ..models.knowledge import BaseKnowledge, build_knowledge
from ..utils.io import atomic_write
from .cache import PseudoLabelCache

STATS_FILE = 'extraction_stats.json'
#: Most frames decoded at once (bounds memory for long strides / large frames).
_MAX_DECODE_WINDOW = 64


class VideoDecodeError(RuntimeError):
    """A video could not be opened or decoded."""


@dataclass
class ExtractionSettings:
    """What decides the stored pseudo labels, and how fast they are made.

    What each task stores (e.g. the masks' short side, the scene top-k) is
    the task's setting (``model.knowledge.<task>``).

    Args:
        stride (int): Store every ``stride``-th frame; readers take the
            nearest stored frame. Defaults to 1.
        teacher_short_side (int): Frames are resized to this short side before
            the teachers (0: original size). Defaults to 224.
        batch_size (int): Frames per teacher forward. Defaults to 16.
        device (str): Where the teachers run. Defaults to ``'cpu'``.
    """
    stride: int = 1
    teacher_short_side: int = 224
    batch_size: int = 16
    device: str = 'cpu'

    def __post_init__(self) -> None:
        for name in ('stride', 'batch_size'):
            if getattr(self, name) < 1:
                raise ValueError(f'{name} must be >= 1, got {getattr(self, name)}')

    def identity(self) -> Dict:
        """The settings that change the stored values (``meta.json``)."""
        return dict(stride=self.stride, teacher_short_side=self.teacher_short_side)


# ----------------------------------------------------------------------------
# What to extract: a config's teachers
# ----------------------------------------------------------------------------


def teaching_tasks(model_cfg: Dict) -> Dict[str, BaseKnowledge]:
    """The knowledge tasks of a model config that learn from a teacher, with
    their teachers built (what an extraction runs)."""
    tasks = {
        name: task
        for name, task in build_knowledge(model_cfg, 'online').items()
        if task.teacher is not None
    }
    if not tasks:
        raise KeyError('the model config has no knowledge task with a teacher: '
                       'define model.knowledge.<task>.teacher.')
    return tasks


def _plain(value):
    """JSON-safe copy of a config value (tuples -> lists, objects -> str)."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    return json.loads(json.dumps(value, default=str))


# ----------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------


def open_video(filename: str):
    """A decord reader, or :class:`VideoDecodeError` naming the file."""
    import decord
    try:
        return decord.VideoReader(filename, num_threads=1)
    except Exception as err:  # decord raises its own DECORDError / RuntimeError
        raise VideoDecodeError(f'cannot open {filename}: {err}') from err


def iter_stored_frames(reader, filename: str, num_frames: int, stride: int,
                       batch_size: int) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
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
            yield (np.asarray(kept_inds[:batch_size]), np.stack(kept[:batch_size]))
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
    return np.stack(
        [mmcv.imresize(frame, size, interpolation=interpolation) for frame in frames])


# ----------------------------------------------------------------------------
# The extractor
# ----------------------------------------------------------------------------


class PseudoLabelExtractor:
    """Label videos with the teachers of knowledge tasks.

    Args:
        tasks (dict): Knowledge tasks with built teachers
            (:func:`teaching_tasks`).
        settings (ExtractionSettings): Which frames, and where teachers run.
    """

    def __init__(self, tasks: Dict[str, BaseKnowledge],
                 settings: ExtractionSettings) -> None:
        self.tasks = {
            name: task.to(settings.device).eval()
            for name, task in tasks.items()
        }
        self.settings = settings

    @classmethod
    def from_config(cls, cfg: Config,
                    settings: ExtractionSettings) -> 'PseudoLabelExtractor':
        """Build the tasks and teachers of ``cfg.model``, no student."""
        return cls(teaching_tasks(cfg.model), settings)

    def meta(self, info: Optional[Dict] = None) -> Dict:
        """``meta.json`` content: what decides the pseudo labels' values."""
        knowledge = {
            name:
            dict(
                task.cache_settings(),
                teacher=dict(_plain(task.teacher_meta()), cfg=_plain(task.teacher_cfg)))
            for name, task in self.tasks.items()
        }
        from ..version import __version__
        return dict(
            knowledge=knowledge,
            **self.settings.identity(),
            info=dict(kinet_mm_version=__version__, **(info or {})))

    @torch.no_grad()
    def label_frames(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Every task's cache arrays for ``(B, H, W, 3)`` uint8 RGB frames."""
        shape = frames.shape[1:3]
        frames = resize_short_side(frames, self.settings.teacher_short_side)
        batch = torch.from_numpy(frames).to(self.settings.device)
        batch = batch.permute(0, 3, 1, 2).float()
        arrays = {}
        for task in self.tasks.values():
            arrays.update(task.encode(task.teacher_fields(batch), shape))
        return arrays

    def extract_video(self, filename: str) -> Dict:
        """Run the teachers on every ``stride``-th frame of one video.

        Returns:
            dict: :meth:`PseudoLabelCache.write_encoded`'s keyword arguments.
        """
        reader = open_video(filename)
        num_frames = len(reader)
        if num_frames == 0:
            raise VideoDecodeError(f'{filename} has no frames')
        inds, parts = [], []
        for chunk, frames in iter_stored_frames(reader, filename, num_frames,
                                                self.settings.stride,
                                                self.settings.batch_size):
            inds.append(chunk)
            parts.append(self.label_frames(frames))
        return dict(
            frame_inds=np.concatenate(inds),
            arrays={
                key: np.concatenate([part[key] for part in parts])
                for key in parts[0]
            },
            num_frames=num_frames,
            frame_shape=tuple(frames.shape[1:3]))

    def run(self,
            cache: PseudoLabelCache,
            videos: Sequence[Tuple[str, str]],
            logger: MMLogger,
            show_progress: bool = True) -> Dict:
        """Extract the videos that have no complete entry yet.

        A video that cannot be decoded is logged and listed in the result's
        ``failed``; the others go on.

        Returns:
            dict: ``done``, ``skipped``, ``frames`` and ``failed`` (filenames).
        """
        removed = cache.remove_stale_temporaries([key for key, _ in videos])
        if removed:
            logger.info(f'removed {removed} temporary file(s) of interrupted '
                        'writes')

        def extract(key: str, filename: str) -> int:
            if key in cache:
                logger.warning(f'{cache.entry_path(key)} is unusable; '
                               're-extracting it')
            entry = self.extract_video(filename)
            cache.write_encoded(key, **entry)
            return len(entry['frame_inds'])

        return run_resumable(videos, cache.is_complete, extract, (VideoDecodeError, ),
                             logger, show_progress)


# ----------------------------------------------------------------------------
# Processes and statistics
# ----------------------------------------------------------------------------


def gather_stats(stats: Dict, seconds: float, world_size: int) -> Dict:
    """Totals over all ranks: counts summed, the slowest rank's time."""
    totals = torch.tensor([stats['done'], stats['skipped'], stats['frames']],
                          dtype=torch.float64)
    wall = torch.tensor([seconds], dtype=torch.float64)
    failed = stats['failed']
    if world_size > 1:
        all_reduce(totals, op='sum')
        all_reduce(wall, op='max')
        failed = [f for part in all_gather_object(failed) for f in part]
    done, skipped, frames = (int(v) for v in totals)
    seconds = wall.item()
    return dict(
        done=done,
        skipped=skipped,
        frames=frames,
        failed=failed,
        seconds=seconds,
        world_size=world_size,
        fps=frames / seconds if seconds > 0 and frames else None)


def cache_bytes_per_frame(root: str) -> Optional[float]:
    """Stored bytes over stored frames of every entry of a cache."""
    cache = PseudoLabelCache(root)
    frames = size = 0
    for key in cache.keys():
        frames += len(cache.read(key).frame_inds)
        size += osp.getsize(cache.entry_path(key))
    return size / frames if frames else None


def write_stats(root: str, totals: Dict, settings: ExtractionSettings) -> Dict:
    """Record a run's throughput and the cache's size in ``STATS_FILE``.

    A run that extracted nothing (everything was cached) keeps the previous
    run's throughput: it measured nothing.
    """
    path = osp.join(root, STATS_FILE)
    previous = read_stats(root) or {}
    record = dict(
        totals,
        settings=asdict(settings),
        bytes_per_frame=cache_bytes_per_frame(root),
        time=time.strftime('%Y-%m-%d %H:%M %Z'))
    if not totals['frames'] and previous.get('fps'):
        record.update({
            k: previous[k]
            for k in ('fps', 'frames', 'seconds', 'world_size', 'settings', 'time')
            if k in previous
        })
    text = json.dumps(record, indent=1, sort_keys=True) + '\n'
    atomic_write(path, lambda f: f.write(text.encode('utf-8')))
    return record


def read_stats(root: str) -> Optional[Dict]:
    """The ``STATS_FILE`` of a cache, or None if it has none."""
    path = osp.join(root, STATS_FILE)
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def extract_to_cache(cfg: Config,
                     out: str,
                     settings: ExtractionSettings,
                     split: str = 'train',
                     ann_file: Optional[str] = None,
                     logger: Optional[MMLogger] = None) -> Dict:
    """Extract the pseudo labels of a config's videos into the cache ``out``.

    Every process of an initialised process group takes every
    ``world_size``-th video; rank 0 creates the cache and records the run's
    statistics. A cache built with other teachers or settings is refused.

    Args:
        cfg (Config): A KINet config whose ``model.knowledge`` tasks have
            teachers.
        out (str): The cache directory (created, or resumed).
        settings (ExtractionSettings): What is stored, where teachers run.
        split (str): See :func:`kinet_mm.extraction.videos.dataset_cfgs`.
            Defaults to ``'train'``.
        ann_file (str, optional): See
            :func:`kinet_mm.extraction.videos.dataset_cfgs`.
        logger (MMLogger, optional): Defaults to the current logger.

    Returns:
        dict: Totals over all processes (see :func:`gather_stats`).
    """
    logger = logger or MMLogger.get_current_instance()
    rank, world_size = get_dist_info()
    extractor = PseudoLabelExtractor.from_config(cfg, settings)
    meta = extractor.meta(
        info=dict(config=osp.abspath(cfg.filename) if cfg.filename else None))
    videos = list_videos(dataset_cfgs(cfg, split, ann_file))
    # Every rank checks an existing meta.json, so a mismatch stops all of
    # them instead of leaving the others waiting at the barrier.
    PseudoLabelCache.check_can_create(out, meta)
    if rank == 0:
        PseudoLabelCache.create(out, meta)
    barrier()
    shard = videos[rank::world_size]
    logger.info(f'rank {rank}/{world_size}: {len(shard)} of {len(videos)} '
                f'videos -> {out} (stride {settings.stride})')
    start = time.perf_counter()
    stats = extractor.run(PseudoLabelCache(out), shard, logger, show_progress=rank == 0)
    totals = gather_stats(stats, time.perf_counter() - start, world_size)
    if rank == 0:
        write_stats(out, totals, settings)
    return totals
