"""On-disk cache of KINet's teacher pseudo labels.

A cache is a directory of per-video entries and a ``meta.json`` (what built
it: each knowledge task's type, settings and teacher, the frame stride, ...),
laid out as :mod:`kinet_mm.utils.entry_cache` describes. An entry holds, for
the ``T`` frames it stores (every ``stride``-th frame):

=================== ============ ============================================
array               dtype        shape / meaning
=================== ============ ============================================
``frame_inds``      int32        ``(T,)`` stored frame indices, increasing
``num_frames``      int64        ``()`` frames in the video (decord)
``frame_shape``     int32        ``(2,)`` ``(H, W)`` of the original frames
``pseudo_<task>_*`` (the task's) what each task's ``encode`` stores, e.g.
                                 the human task's bit-packed masks
``meta_digest``     str          digest of ``meta.json``'s identity fields
``format_version``  int32        ``()``
=================== ============ ============================================

The tasks (:mod:`kinet_mm.models.knowledge`) are rebuilt from ``meta.json``
to decode their arrays, so the cache itself names no task. Entries are written
atomically (temporary file in the same directory, fsync, ``os.replace``), so
an interrupted extraction leaves either a complete entry or none. Every read
is validated; problems raise errors that name the video, the frame and the
file, never a silent zero mask.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from ..models.knowledge import build_knowledge
from ..utils.entry_cache import CorruptEntryError, EntryCache

__all__ = [
    'CorruptEntryError', 'FrameOutOfRangeError', 'PseudoLabelCache', 'PseudoLabelEntry',
    'codec_tasks'
]

#: 2: fields per knowledge task (``pseudo_<task>_<field>``), tasks in meta.json.
FORMAT_VERSION = 2


class FrameOutOfRangeError(IndexError):
    """A requested frame lies outside the frames an entry covers."""


def codec_tasks(meta: Dict) -> Dict:
    """The knowledge tasks of a cache's ``meta.json`` (no head, no teacher):
    what encodes and decodes their arrays."""
    cfgs = {
        name: {
            k: v
            for k, v in task.items() if k != 'teacher'
        }
        for name, task in meta.get('knowledge', {}).items()
    }
    return build_knowledge(dict(knowledge=cfgs), 'none')


@dataclass
class PseudoLabelEntry:
    """The pseudo labels of one video.

    Args:
        frame_inds (np.ndarray): ``(T,)`` stored frame indices, increasing.
        labels (dict): Per-frame fields ``{pseudo_<task>_<field>: (T, ...)}``
            as the tasks decode them (e.g. ``(T, h, w)`` binary human masks
            covering the whole original frame).
        num_frames (int): Number of frames of the video.
        frame_shape (tuple[int, int]): ``(H, W)`` of the original frames.
        video (str): The video's key, for error messages.
    """

    frame_inds: np.ndarray
    labels: Dict[str, np.ndarray] = field(default_factory=dict)
    num_frames: int = 0
    frame_shape: Tuple[int, int] = (0, 0)
    video: str = ''

    def rows_for(self, frame_inds: Sequence[int]) -> np.ndarray:
        """Rows holding the stored frames nearest to ``frame_inds``.

        With ``stride > 1`` a frame between two stored ones takes the nearer
        (the earlier on a tie).

        Args:
            frame_inds (Sequence[int]): ``(N,)`` frame indices of the video.

        Returns:
            np.ndarray: ``(N,)`` int64 row indices into the stored arrays.

        Raises:
            FrameOutOfRangeError: If a frame is negative or not below
                ``num_frames``.
        """
        wanted = np.asarray(frame_inds, dtype=np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.num_frames)]
        if bad.size:
            raise FrameOutOfRangeError(
                f'Frame {int(bad[0])} of video {self.video!r} is outside the '
                f'cached frames 0..{self.num_frames - 1} (stored: '
                f'{len(self.frame_inds)} frames, last {int(self.frame_inds[-1])})'
                '; was the cache built from a different copy of the video?')
        stored = self.frame_inds.astype(np.int64)
        right = np.clip(np.searchsorted(stored, wanted), 0, len(stored) - 1)
        left = np.clip(right - 1, 0, len(stored) - 1)
        take_left = np.abs(wanted - stored[left]) <= np.abs(stored[right] - wanted)
        return np.where(take_left, left, right)


class PseudoLabelCache(EntryCache):
    """Reader/writer of a pseudo-label cache directory.

    Args:
        root (str): The cache directory; it must hold ``meta.json``.
        expected (dict, optional): Meta fields that must match (compared
            recursively, only the given keys), e.g.
            ``dict(knowledge=dict(scene=dict(topk=5, teacher=dict(
            label_space='places365', num_classes=365))))``. Defaults to None.

    Raises:
        FileNotFoundError: If ``root`` has no ``meta.json``.
        ValueError: If ``meta.json`` disagrees with ``expected``.
    """

    kind = 'pseudo-label cache'
    tool = 'tools/extract_pseudo_labels.py'
    format_version = FORMAT_VERSION
    arrays = ('frame_inds', 'num_frames', 'frame_shape')

    def __init__(self, root: str, expected: Optional[Dict] = None) -> None:
        super().__init__(root, expected)
        self.tasks = codec_tasks(self.meta)

    def resolve(self, filename: str, video_prefix: Optional[str] = None) -> str:
        """Key of the video at ``filename``.

        Args:
            filename (str): The video path, as ``results['filename']`` has it.
            video_prefix (str, optional): The dataset's ``data_prefix['video']``;
                the key is ``filename`` relative to it. If None, the longest
                trailing part of ``filename`` that has an entry is used, so the
                cache works wherever the videos are mounted.

        Raises:
            FileNotFoundError: If no entry matches, naming the video and cache.
        """
        if video_prefix is not None:
            return osp.relpath(filename, video_prefix).replace(os.sep, '/')
        parts = [p for p in filename.replace(os.sep, '/').split('/') if p]
        for start in range(len(parts)):
            key = '/'.join(parts[start:])
            if '..' not in parts[start:] and key in self:
                return key
        raise FileNotFoundError(
            f'Video {filename!r} has no entry in pseudo-label cache '
            f'{self.root!r} (no trailing part of its path matches an entry). '
            'Run tools/extract_pseudo_labels.py on the dataset that lists it.')

    def write(self, key: str, entry: PseudoLabelEntry) -> str:
        """Atomically write the entry of video ``key`` (its labels as the
        tasks decode them: every task encodes its own); returns its path."""
        arrays = {}
        for task in self.tasks.values():
            fields = {
                k: torch.as_tensor(np.asarray(entry.labels[k]))
                for k in task.keys
            }
            arrays.update(task.encode(fields, entry.frame_shape))
        return self.write_encoded(key, entry.frame_inds, arrays, entry.num_frames,
                                  entry.frame_shape)

    def write_encoded(self, key: str, frame_inds: np.ndarray, arrays: Dict[str,
                                                                           np.ndarray],
                      num_frames: int, frame_shape: Tuple[int, int]) -> str:
        """Atomically write the entry of video ``key`` from the tasks'
        encoded arrays (``encode``), each ``(T, ...)`` for the ``T`` frames
        ``frame_inds``; returns its path."""
        frame_inds = np.asarray(frame_inds)
        wrong = {
            name: value.shape
            for name, value in arrays.items() if len(value) != len(frame_inds)
        }
        if wrong:
            raise ValueError(f'Inconsistent pseudo labels for video {key!r}: '
                             f'{len(frame_inds)} frame indices, but {wrong}.')
        if np.any(np.diff(frame_inds) <= 0):
            raise ValueError(f'frame_inds of video {key!r} must increase.')
        return self.write_arrays(
            key,
            dict(
                arrays,
                frame_inds=frame_inds.astype(np.int32),
                num_frames=np.asarray(num_frames, dtype=np.int64),
                frame_shape=np.asarray(frame_shape, dtype=np.int32)))

    def read(self, key: str) -> PseudoLabelEntry:
        """Read and validate the entry of video ``key``.

        Raises:
            FileNotFoundError: If the video has no entry (names video and cache).
            CorruptEntryError: If the entry is truncated, corrupt, inconsistent,
                or was written for another ``meta.json`` (names the file).
        """
        arrays = self.read_arrays(key)
        num = len(arrays['frame_inds'])
        if num == 0:
            raise self.corrupt(key, 'it stores no frame')
        labels = {}
        for task in self.tasks.values():
            try:
                labels.update(
                    task.decode(arrays, num,
                                tuple(int(v) for v in arrays['frame_shape'])))
            except (KeyError, ValueError) as err:
                raise self.corrupt(
                    key, f'inconsistent arrays of knowledge task '
                    f'{task.name!r}: {err}') from err
        return PseudoLabelEntry(
            frame_inds=arrays['frame_inds'].astype(np.int64),
            labels=labels,
            num_frames=int(arrays['num_frames']),
            frame_shape=tuple(int(v) for v in arrays['frame_shape']),
            video=key)
