"""On-disk cache of KINet's teacher pseudo labels.

A cache is a directory::

    CACHE/
        meta.json                 what built the cache (teachers, stride, k, ...)
        <quoted video key>.npz    one compressed entry per video

The key of a video is its path relative to the dataset's ``data_prefix['video']``
(``abseiling/abc.mp4``); the entry's file name is the key percent-encoded with
no safe characters (``abseiling%2Fabc.mp4.npz``), which is injective, so two
videos never share an entry and the directory stays flat.

An entry holds, for the ``T`` frames it stores (every ``stride``-th frame):

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
import hashlib
import json
import os
import os.path as osp
import zipfile
import zlib
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import quote, unquote

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.io import TMP_PREFIX, atomic_write

FORMAT_VERSION = 1
META_FILE = 'meta.json'
ENTRY_SUFFIX = '.npz'
#: Fields of ``meta.json`` that do not identify the pseudo labels' content.
INFO_KEY = 'info'


class CorruptEntryError(ValueError):
    """A cache entry exists but cannot be read back (truncated, corrupt)."""


class FrameOutOfRangeError(IndexError):
    """A requested frame lies outside the frames an entry covers."""


# ----------------------------------------------------------------------------
# Keys, sizes and mask packing
# ----------------------------------------------------------------------------


def entry_file_name(key: str) -> str:
    """File name of the entry of video ``key`` (``a/b.mp4`` -> ``a%2Fb.mp4.npz``).

    Raises:
        ValueError: If ``key`` is empty, absolute or climbs out of the video
            root, which would make two datasets' videos collide.
    """
    norm = key.replace(os.sep, '/')
    parts = norm.split('/')
    if not norm or norm.startswith('/') or '..' in parts:
        raise ValueError(
            f'Invalid pseudo-label cache key {key!r}: it must be a video path '
            "relative to the dataset's data_prefix['video'].")
    return quote(norm, safe='') + ENTRY_SUFFIX


def key_from_file_name(name: str) -> str:
    """Inverse of :func:`entry_file_name`."""
    return unquote(name[:-len(ENTRY_SUFFIX)])


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
# Meta
# ----------------------------------------------------------------------------


def identity(meta: Dict) -> Dict:
    """The part of ``meta`` that determines the pseudo labels' content."""
    return {k: v for k, v in meta.items() if k != INFO_KEY}


def meta_digest(meta: Dict) -> str:
    """Short stable digest of ``meta``'s identity; every entry records it."""
    text = json.dumps(identity(meta), sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def meta_differences(expected: Dict, actual: Dict,
                     prefix: str = '') -> List[Tuple[str, object, object]]:
    """Fields of ``expected`` whose value differs in ``actual``.

    Only the keys of ``expected`` are compared (recursively), so callers can
    pin as much or as little as they care about.

    Returns:
        list[tuple]: ``(dotted field, expected value, actual value)``; a field
        absent from ``actual`` shows as ``'<missing>'``.
    """
    diffs = []
    for key, want in expected.items():
        name = f'{prefix}{key}'
        if not isinstance(actual, dict) or key not in actual:
            diffs.append((name, want, '<missing>'))
        elif isinstance(want, dict):
            diffs.extend(meta_differences(want, actual[key], name + '.'))
        elif _normalise(want) != _normalise(actual[key]):
            diffs.append((name, want, actual[key]))
    return diffs


def _normalise(value):
    """Compare tuples and lists alike (JSON turns tuples into lists)."""
    return json.loads(json.dumps(value))


def _format_differences(diffs: List[Tuple[str, object, object]], left: str,
                        right: str) -> str:
    return '; '.join(f'{name}: {left} {a!r} vs {right} {b!r}'
                     for name, a, b in diffs)


def _read_meta(path: str) -> Dict:
    """Load ``meta.json``, naming the file if it is not valid JSON."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is corrupt ({err}); re-extract the cache.'
                         ) from err


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


def _encode_entry(entry: PseudoLabelEntry, digest: str) -> Dict[str, np.ndarray]:
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
        frame_shape=np.asarray(entry.frame_shape, dtype=np.int32),
        meta_digest=np.asarray(digest),
        format_version=np.asarray(FORMAT_VERSION, dtype=np.int32))


_ENTRY_ARRAYS = ('frame_inds', 'human_mask', 'mask_shape', 'scene_topk_idx',
                 'scene_topk_prob', 'num_frames', 'frame_shape', 'meta_digest',
                 'format_version')


def _load_arrays(path: str) -> Dict[str, np.ndarray]:
    """Read every array of an entry; decompression checks each member's CRC.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        CorruptEntryError: If the file cannot be read back completely.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in _ENTRY_ARRAYS if name not in npz.files]
            if missing:
                raise CorruptEntryError(f'arrays {missing} are missing')
            return {name: npz[name] for name in _ENTRY_ARRAYS}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
            KeyError) as err:
        raise CorruptEntryError(str(err)) from err


# ----------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------


class PseudoLabelCache:
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

    def __init__(self, root: str, expected: Optional[Dict] = None) -> None:
        self.root = root
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            raise FileNotFoundError(
                f'{meta_path} not found: {root!r} is not a pseudo-label cache. '
                'Build it with tools/extract_pseudo_labels.py CONFIG --out '
                f'{root}.')
        self.meta = _read_meta(meta_path)
        if self.meta.get('format_version') != FORMAT_VERSION:
            raise ValueError(
                f'Pseudo-label cache {root!r} has format version '
                f"{self.meta.get('format_version')!r}; this kinet_mm reads "
                f'version {FORMAT_VERSION}. Re-extract it.')
        self.digest = meta_digest(self.meta)
        if expected:
            self.check(expected, what='the config')

    # -- meta -----------------------------------------------------------------

    def check(self, expected: Dict, what: str = 'expected') -> None:
        """Raise ValueError naming both sides if ``expected`` disagrees."""
        diffs = meta_differences(expected, self.meta)
        if diffs:
            raise ValueError(
                f'Pseudo-label cache {self.root!r} was built for different '
                f'pseudo labels than {what} asks for: '
                f"{_format_differences(diffs, what, 'cache')}. "
                'Use a cache extracted with the same teachers, or re-extract.')

    @classmethod
    def create(cls, root: str, meta: Dict) -> 'PseudoLabelCache':
        """Open ``root`` for writing entries with ``meta``, creating it if new.

        An existing cache is reused only if its identity equals ``meta``'s, so
        a resumed extraction never mixes two teachers' pseudo labels.

        Raises:
            ValueError: If ``root`` holds a cache built differently.
        """
        cls.check_can_create(root, meta)
        os.makedirs(root, exist_ok=True)
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            meta = dict(meta, format_version=FORMAT_VERSION)
            text = json.dumps(meta, indent=2, sort_keys=True) + '\n'
            atomic_write(meta_path, lambda f: f.write(text.encode('utf-8')))
        return cls(root)

    @staticmethod
    def check_can_create(root: str, meta: Dict) -> None:
        """Raise ValueError if ``root`` holds a cache with a different identity."""
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            return
        existing = identity(_read_meta(meta_path))
        new = identity(dict(meta, format_version=FORMAT_VERSION))
        # Both directions: a field only the old cache has differs as well.
        diffs = meta_differences(new, existing) + [
            (name, '<missing>', value)
            for name, value, missing in meta_differences(existing, new)
            if missing == '<missing>'
        ]
        if diffs or meta_digest(new) != meta_digest(existing):
            raise ValueError(
                f'{meta_path} was written by a different extraction: '
                f"{_format_differences(diffs, 'this run', 'cache')}. "
                'Write to a new --out directory (or delete the old cache).')

    # -- entries ----------------------------------------------------------------

    def entry_path(self, key: str) -> str:
        """Path of the entry file of video ``key``."""
        return osp.join(self.root, entry_file_name(key))

    def __contains__(self, key: str) -> bool:
        return osp.isfile(self.entry_path(key))

    def keys(self) -> Iterator[str]:
        """Keys of the complete entries in the cache."""
        for name in sorted(os.listdir(self.root)):
            if name.endswith(ENTRY_SUFFIX) and not name.startswith('.'):
                yield key_from_file_name(name)

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
        arrays = _encode_entry(entry, self.digest)
        path = self.entry_path(key)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    def read(self, key: str) -> PseudoLabelEntry:
        """Read and validate the entry of video ``key``.

        Raises:
            FileNotFoundError: If the video has no entry (names video and cache).
            CorruptEntryError: If the entry is truncated, corrupt, inconsistent,
                or was written for another ``meta.json`` (names the file).
        """
        path = self.entry_path(key)
        try:
            arrays = _load_arrays(path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'Video {key!r} has no entry in pseudo-label cache '
                f'{self.root!r} (expected {path}). Run '
                'tools/extract_pseudo_labels.py on the dataset that lists it.'
            ) from None
        except CorruptEntryError as err:
            raise self._corrupt(key, path, str(err)) from err
        return self._decode(key, path, arrays)

    def is_complete(self, key: str) -> bool:
        """Whether video ``key`` has an entry that reads back and matches meta."""
        try:
            self.read(key)
        except (FileNotFoundError, CorruptEntryError):
            return False
        return True

    def _corrupt(self, key: str, path: str, why: str) -> CorruptEntryError:
        return CorruptEntryError(
            f'Pseudo-label cache entry {path} of video {key!r} is unusable: '
            f'{why}. Delete it and re-run tools/extract_pseudo_labels.py '
            '(finished videos are skipped).')

    def _decode(self, key: str, path: str,
                arrays: Dict[str, np.ndarray]) -> PseudoLabelEntry:
        if str(arrays['meta_digest']) != self.digest:
            raise self._corrupt(
                key, path, f"it was written for meta digest "
                f"{str(arrays['meta_digest'])!r}, but {META_FILE} has "
                f'{self.digest!r} (another extraction wrote into this cache)')
        mask_shape = tuple(int(v) for v in arrays['mask_shape'])
        packed = arrays['human_mask']
        num = len(arrays['frame_inds'])
        expected_bytes = -(-mask_shape[0] * mask_shape[1] // 8)
        if (num == 0 or packed.shape != (num, expected_bytes)
                or arrays['scene_topk_idx'].shape[0] != num
                or arrays['scene_topk_prob'].shape
                != arrays['scene_topk_idx'].shape):
            raise self._corrupt(
                key, path, f'inconsistent array shapes ({num} frames, packed '
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

    def remove_stale_temporaries(self, keys: Sequence[str]) -> int:
        """Delete temporary files an interrupted writer left for ``keys``.

        Only the given videos' temporaries are touched, so ranks that own
        disjoint videos can call this concurrently.

        Returns:
            int: How many files were removed.
        """
        wanted = {entry_file_name(k) for k in keys}
        removed = 0
        for name in os.listdir(self.root):
            # mkstemp names are '<prefix><entry name>.<random, dot-free>'
            if (name.startswith(TMP_PREFIX) and name[len(TMP_PREFIX):].rsplit(
                    '.', 1)[0] in wanted):
                os.remove(osp.join(self.root, name))
                removed += 1
        return removed

    def __repr__(self) -> str:
        return f'{type(self).__name__}(root={self.root!r})'

