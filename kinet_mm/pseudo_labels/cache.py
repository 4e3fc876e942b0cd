"""On-disk cache of KINet's teacher pseudo labels.

A cache is a directory of per-video entries and a ``meta.json`` (what built
it: teachers, stride, k, ...), laid out as :mod:`kinet_mm.utils.entry_cache`
describes. An entry holds, for the ``T`` frames it stores (every ``stride``-th frame):

=================== ============ ============================================
array               dtype        shape / meaning
=================== ============ ============================================
``frame_inds``      int32        ``(T,)`` stored frame indices, increasing
``human_mask``      uint8        ``(T, ceil(h * w / 8))`` bit-packed masks
``mask_shape``      int32        ``(2,)`` ``(h, w)``: the frame at short side
                                 ``mask_short_side``, aspect kept
``scene_topk_idx``  int16        ``(T, k)`` top-k scene classes
``scene_topk_prob`` float16      ``(T, k)`` their probabilities
``num_frames``      int64        ``()`` frames in the video (decord)
``frame_shape``     int32        ``(2,)`` ``(H, W)`` of the original frames
``meta_digest``     str          digest of ``meta.json``'s identity fields
``format_version``  int32        ``()``
=================== ============ ============================================

Entries are written atomically (temporary file in the same directory, fsync,
``os.replace``), so an interrupted extraction leaves either a complete entry or
none. Every read is validated; problems raise errors that name the video, the
frame and the file, never a silent zero mask.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.entry_cache import CorruptEntryError, EntryCache

__all__ = ['CorruptEntryError', 'FrameOutOfRangeError', 'PseudoLabelCache',
           'PseudoLabelEntry', 'downsample_masks', 'mask_size']

FORMAT_VERSION = 1


class FrameOutOfRangeError(IndexError):
    """A requested frame lies outside the frames an entry covers."""


# ----------------------------------------------------------------------------
# Sizes and mask packing
# ----------------------------------------------------------------------------


def mask_size(frame_shape: Sequence[int], short_side: int) -> Tuple[int, int]:
    """Stored mask size ``(h, w)``: the frame scaled to ``short_side``, aspect kept.

    Args:
        frame_shape (Sequence[int]): ``(H, W)`` of the original frames.
        short_side (int): Short side of the stored mask.

    Returns:
        tuple[int, int]: ``(h, w)``.
    """
    height, width = int(frame_shape[0]), int(frame_shape[1])
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def downsample_masks(masks: torch.Tensor, size: Tuple[int, int]) -> np.ndarray:
    """Resize binary masks by majority vote (area average > 0.5).

    Majority vote keeps thin structures' area better than nearest sampling, which
    can skip them entirely when shrinking 3-4x.

    Args:
        masks (Tensor): ``(B, H, W)`` masks, nonzero = human.
        size (tuple[int, int]): Target ``(h, w)``.

    Returns:
        np.ndarray: ``(B, h, w)`` bool masks.
    """
    masks = (masks > 0).float()[:, None]
    if tuple(masks.shape[-2:]) != tuple(size):
        masks = F.interpolate(masks, size=size, mode='area')
    return (masks[:, 0] > 0.5).cpu().numpy()


def pack_masks(masks: np.ndarray) -> np.ndarray:
    """Bit-pack ``(T, h, w)`` binary masks into ``(T, ceil(h * w / 8))`` uint8."""
    flat = np.asarray(masks, dtype=bool).reshape(len(masks), -1)
    return np.packbits(flat, axis=1)


def unpack_masks(packed: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`pack_masks`: ``(T, nbytes)`` -> ``(T, h, w)`` uint8."""
    num_bits = int(shape[0]) * int(shape[1])
    flat = np.unpackbits(packed, axis=1, count=num_bits)
    return flat.reshape(len(packed), int(shape[0]), int(shape[1]))


# ----------------------------------------------------------------------------
# Entries
# ----------------------------------------------------------------------------


@dataclass
class PseudoLabelEntry:
    """The pseudo labels of one video.

    Args:
        frame_inds (np.ndarray): ``(T,)`` stored frame indices, increasing.
        human_mask (np.ndarray): ``(T, h, w)`` binary human masks (1 = human)
            at the stored resolution, covering the whole original frame.
        scene_topk_idx (np.ndarray): ``(T, k)`` top-k scene classes.
        scene_topk_prob (np.ndarray): ``(T, k)`` their probabilities.
        num_frames (int): Number of frames of the video.
        frame_shape (tuple[int, int]): ``(H, W)`` of the original frames.
        video (str): The video's key, for error messages.
    """

    frame_inds: np.ndarray
    human_mask: np.ndarray
    scene_topk_idx: np.ndarray
    scene_topk_prob: np.ndarray
    num_frames: int
    frame_shape: Tuple[int, int]
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


def _encode_entry(entry: PseudoLabelEntry) -> Dict[str, np.ndarray]:
    """Arrays stored in an entry's ``.npz`` (see the module docstring)."""
    masks = np.asarray(entry.human_mask)
    num = len(entry.frame_inds)
    if not (masks.ndim == 3 and len(masks) == num
            and entry.scene_topk_idx.shape[0] == num
            and entry.scene_topk_prob.shape == entry.scene_topk_idx.shape):
        raise ValueError(
            f'Inconsistent pseudo labels for video {entry.video!r}: '
            f'{num} frame indices, masks {masks.shape}, scene top-k '
            f'{entry.scene_topk_idx.shape} / {entry.scene_topk_prob.shape}.')
    if np.any(np.diff(entry.frame_inds) <= 0):
        raise ValueError(f'frame_inds of video {entry.video!r} must increase.')
    if entry.scene_topk_idx.size and entry.scene_topk_idx.max() > np.iinfo(
            np.int16).max:
        raise ValueError('Scene class indices do not fit int16.')
    return dict(
        frame_inds=np.asarray(entry.frame_inds, dtype=np.int32),
        human_mask=pack_masks(masks),
        mask_shape=np.asarray(masks.shape[1:], dtype=np.int32),
        scene_topk_idx=np.asarray(entry.scene_topk_idx, dtype=np.int16),
        scene_topk_prob=np.asarray(entry.scene_topk_prob, dtype=np.float16),
        num_frames=np.asarray(entry.num_frames, dtype=np.int64),
        frame_shape=np.asarray(entry.frame_shape, dtype=np.int32))


# ----------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------


class PseudoLabelCache(EntryCache):
    """Reader/writer of a pseudo-label cache directory.

    Args:
        root (str): The cache directory; it must hold ``meta.json``.
        expected (dict, optional): Meta fields that must match (compared
            recursively, only the given keys), e.g.
            ``dict(teachers=dict(scene=dict(label_space='places365',
            num_classes=365)), topk=5)``. Defaults to None.

    Raises:
        FileNotFoundError: If ``root`` has no ``meta.json``.
        ValueError: If ``meta.json`` disagrees with ``expected``.
    """

    kind = 'pseudo-label cache'
    tool = 'tools/extract_pseudo_labels.py'
    format_version = FORMAT_VERSION
    arrays = ('frame_inds', 'human_mask', 'mask_shape', 'scene_topk_idx',
              'scene_topk_prob', 'num_frames', 'frame_shape')

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
        """Atomically write the entry of video ``key``; returns its path."""
        entry.video = entry.video or key
        return self.write_arrays(key, _encode_entry(entry))

    def read(self, key: str) -> PseudoLabelEntry:
        """Read and validate the entry of video ``key``.

        Raises:
            FileNotFoundError: If the video has no entry (names video and cache).
            CorruptEntryError: If the entry is truncated, corrupt, inconsistent,
                or was written for another ``meta.json`` (names the file).
        """
        arrays = self.read_arrays(key)
        mask_shape = tuple(int(v) for v in arrays['mask_shape'])
        packed = arrays['human_mask']
        num = len(arrays['frame_inds'])
        expected_bytes = -(-mask_shape[0] * mask_shape[1] // 8)
        if (num == 0 or packed.shape != (num, expected_bytes)
                or arrays['scene_topk_idx'].shape[0] != num
                or arrays['scene_topk_prob'].shape
                != arrays['scene_topk_idx'].shape):
            raise self.corrupt(
                key, f'inconsistent array shapes ({num} frames, packed '
                f'masks {packed.shape} for mask size {mask_shape}, scene '
                f"{arrays['scene_topk_idx'].shape})")
        return PseudoLabelEntry(
            frame_inds=arrays['frame_inds'].astype(np.int64),
            human_mask=unpack_masks(packed, mask_shape),
            scene_topk_idx=arrays['scene_topk_idx'],
            scene_topk_prob=arrays['scene_topk_prob'],
            num_frames=int(arrays['num_frames']),
            frame_shape=tuple(int(v) for v in arrays['frame_shape']),
            video=key)
