"""On-disk cache of per-segment features for early recognition.

A cache is a directory::

    CACHE/
        meta.json                 what produced the features (see below)
        <quoted video key>.npz    one entry per video

The key of a video is its path relative to the dataset's ``data_prefix['video']``
(as in the annotation file, e.g. ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi``);
the entry's file name is the key percent-encoded with no safe characters
(``ApplyEyeMakeup%2Fv_ApplyEyeMakeup_g08_c01.avi.npz``), so the directory is flat
and two videos never share an entry.

``meta.json`` records the recognizer config and checkpoint (or ``null`` for
random weights and the seed), the feature stage and branch, the number of
progression levels ``N``, frames per level ``F``, the sampling pipeline and the
feature size ``C``. Its ``info`` field (tool, version, time) is not part of the
identity; everything else is, and every entry stores the digest of it.

An entry holds:

================ ======= ==================================================
array            dtype   shape / meaning
================ ======= ==================================================
``features``     float16 ``(N, C)``: row ``n`` is the feature of part ``n`` of
                         the video cut into ``N`` equal parts (the newest
                         part of the prefix observed at ratio ``n / N``)
``frame_inds``   int32   ``(N, F)`` frames that fed each row
``num_frames``   int64   ``()`` frames in the video
``meta_digest``  str     digest of ``meta.json``'s identity
``format_version`` int32 ``()``
================ ======= ==================================================

Entries are written with :func:`kinet_mm.utils.io.atomic_write`, so an
interrupted extraction leaves complete entries or none, and a rerun resumes
with the missing videos. Reads are validated; errors name the video and file.
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
import zlib
from dataclasses import dataclass
from typing import Dict, Iterator, Optional
from urllib.parse import quote, unquote

import numpy as np

from ..utils.io import atomic_write

FORMAT_VERSION = 1
META_FILE = 'meta.json'
ENTRY_SUFFIX = '.npz'
#: Field of ``meta.json`` that does not identify the features' content.
INFO_KEY = 'info'
_ARRAYS = ('features', 'frame_inds', 'num_frames', 'meta_digest',
           'format_version')


class CorruptFeatureEntryError(ValueError):
    """A feature entry exists but cannot be read back."""


@dataclass
class SegmentFeatures:
    """Features of one video's progression levels.

    Args:
        features (np.ndarray): ``(N, C)`` float features, one row per part.
        frame_inds (np.ndarray): ``(N, F)`` frames that fed each row.
        num_frames (int): Frames in the video.
        video (str): The video's key, for error messages.
    """

    features: np.ndarray
    frame_inds: np.ndarray
    num_frames: int
    video: str = ''


def entry_file_name(key: str) -> str:
    """File name of the entry of ``key`` (``a/b.avi`` -> ``a%2Fb.avi.npz``)."""
    norm = key.replace(os.sep, '/')
    if not norm or norm.startswith('/') or '..' in norm.split('/'):
        raise ValueError(f'Invalid feature cache key {key!r}: it must be a '
                         "video path relative to data_prefix['video'].")
    return quote(norm, safe='') + ENTRY_SUFFIX


def meta_digest(meta: Dict) -> str:
    """Short stable digest of ``meta`` without its ``info`` field."""
    identity = {k: v for k, v in meta.items() if k != INFO_KEY}
    text = json.dumps(identity, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def _differences(expected: Dict, actual: Dict, prefix: str = '') -> list:
    """``(field, expected, actual)`` for every key of ``expected`` that differs."""
    diffs = []
    for key, want in expected.items():
        name = f'{prefix}{key}'
        if not isinstance(actual, dict) or key not in actual:
            diffs.append((name, want, '<missing>'))
        elif isinstance(want, dict):
            diffs.extend(_differences(want, actual[key], name + '.'))
        elif json.loads(json.dumps(want)) != json.loads(json.dumps(actual[key])):
            diffs.append((name, want, actual[key]))
    return diffs


class SegmentFeatureCache:
    """Reader/writer of a segment-feature cache directory.

    Args:
        root (str): The cache directory; it must hold ``meta.json``.
        expected (dict, optional): Meta fields that must match (only the keys
            given, recursively), e.g. ``dict(num_levels=10, feature_dim=2048)``.

    Raises:
        FileNotFoundError: If ``root`` has no ``meta.json``.
        ValueError: If ``meta.json`` is corrupt, of another format version, or
            disagrees with ``expected``.
    """

    def __init__(self, root: str, expected: Optional[Dict] = None) -> None:
        self.root = root
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            raise FileNotFoundError(
                f'{meta_path} not found: {root!r} is not a segment-feature '
                'cache. Build it with tools/misc/extract_segment_features.py '
                f'CONFIG --out {root}.')
        try:
            with open(meta_path, encoding='utf-8') as f:
                self.meta = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{meta_path} is corrupt ({err}); re-extract.'
                             ) from err
        if self.meta.get('format_version') != FORMAT_VERSION:
            raise ValueError(
                f'{meta_path}: format version '
                f"{self.meta.get('format_version')!r}, this kinet_mm reads "
                f'{FORMAT_VERSION}; re-extract the features.')
        self.digest = meta_digest(self.meta)
        diffs = _differences(expected or {}, self.meta)
        if diffs:
            details = '; '.join(f'{name}: expected {a!r}, cache has {b!r}'
                                for name, a, b in diffs)
            raise ValueError(f'{meta_path} does not match the config: '
                             f'{details}. Use matching features or re-extract.')

    @classmethod
    def create(cls, root: str, meta: Dict) -> 'SegmentFeatureCache':
        """Open ``root`` for writing, creating it; an existing cache is resumed
        only if it was produced the same way (same identity in ``meta.json``).

        Raises:
            ValueError: If ``root`` holds features produced differently.
        """
        meta = dict(meta, format_version=FORMAT_VERSION)
        meta_path = osp.join(root, META_FILE)
        if osp.isfile(meta_path):
            cache = cls(root)
            if cache.digest != meta_digest(meta):
                diffs = _differences(
                    {k: v for k, v in meta.items() if k != INFO_KEY}, cache.meta)
                details = '; '.join(f'{name}: now {a!r}, cache {b!r}'
                                    for name, a, b in diffs)
                raise ValueError(
                    f'{root!r} holds features extracted differently ({details})'
                    '; choose another --out or delete it.')
            return cache
        os.makedirs(root, exist_ok=True)
        text = json.dumps(meta, indent=2, sort_keys=True).encode('utf-8')
        atomic_write(meta_path, lambda f: f.write(text))
        return cls(root)

    def entry_path(self, key: str) -> str:
        return osp.join(self.root, entry_file_name(key))

    def __contains__(self, key: str) -> bool:
        return osp.isfile(self.entry_path(key))

    def keys(self) -> Iterator[str]:
        """Keys of the stored entries (finished videos)."""
        for name in sorted(os.listdir(self.root)):
            if name.endswith(ENTRY_SUFFIX) and not name.startswith('.'):
                yield unquote(name[:-len(ENTRY_SUFFIX)])

    def is_complete(self, key: str) -> bool:
        """Whether ``key`` has a readable entry of this cache's meta (a resumed
        extraction skips it)."""
        try:
            self.read(key)
        except (FileNotFoundError, CorruptFeatureEntryError):
            return False
        return True

    def write(self, key: str, entry: SegmentFeatures) -> None:
        """Store the features of ``key`` atomically."""
        feats = np.asarray(entry.features)
        num_levels = self.meta['num_levels']
        if feats.shape != (num_levels, self.meta['feature_dim']):
            raise ValueError(
                f'features of video {key!r} have shape {feats.shape}; '
                f"{osp.join(self.root, META_FILE)} says ({num_levels}, "
                f"{self.meta['feature_dim']}).")
        if not np.isfinite(feats).all():
            raise ValueError(f'features of video {key!r} are not finite.')
        arrays = dict(
            features=feats.astype(np.float16),
            frame_inds=np.asarray(entry.frame_inds, dtype=np.int32),
            num_frames=np.asarray(entry.num_frames, dtype=np.int64),
            meta_digest=np.asarray(self.digest),
            format_version=np.asarray(FORMAT_VERSION, dtype=np.int32))
        atomic_write(self.entry_path(key),
                     lambda f: np.savez_compressed(f, **arrays))

    def read(self, key: str) -> SegmentFeatures:
        """The features of ``key`` as float32 ``(N, C)``.

        Raises:
            FileNotFoundError: If the video has no entry (naming video, file).
            CorruptFeatureEntryError: If the entry is unreadable or was made
                with another ``meta.json``.
        """
        path = self.entry_path(key)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'no features for video {key!r}: {path} is missing; run the '
                f'extractor on it (finished videos are skipped).')
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [n for n in _ARRAYS if n not in npz.files]
                if missing:
                    raise CorruptFeatureEntryError(f'arrays {missing} missing')
                arrays = {n: npz[n] for n in _ARRAYS}
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError,
                OSError) as err:
            raise CorruptFeatureEntryError(
                f'features of video {key!r} in {path} are unreadable ({err}); '
                'delete the file and re-run the extractor.') from err
        if str(arrays['meta_digest']) != self.digest:
            raise CorruptFeatureEntryError(
                f'{path} (video {key!r}) was extracted with another meta.json '
                f'(digest {arrays["meta_digest"]} vs {self.digest}); delete it '
                'and re-run the extractor.')
        return SegmentFeatures(
            features=arrays['features'].astype(np.float32),
            frame_inds=arrays['frame_inds'],
            num_frames=int(arrays['num_frames']),
            video=key)
