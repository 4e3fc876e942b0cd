"""On-disk cache of per-segment features for early recognition.

A cache is a directory of per-video entries and a ``meta.json``, laid out as
:mod:`kinet_mm.utils.entry_cache` describes (keys are video paths relative to
the dataset's ``data_prefix['video']``, e.g.
``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi``).

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
import os.path as osp
from dataclasses import dataclass

import numpy as np

from ..utils.entry_cache import META_FILE, CorruptEntryError, EntryCache

FORMAT_VERSION = 1
#: A corrupt feature entry (the caches' common error).
CorruptFeatureEntryError = CorruptEntryError


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


class SegmentFeatureCache(EntryCache):
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

    kind = 'segment-feature cache'
    tool = 'tools/misc/extract_segment_features.py'
    format_version = FORMAT_VERSION
    arrays = ('features', 'frame_inds', 'num_frames')

    def write(self, key: str, entry: SegmentFeatures) -> None:
        """Store the features of ``key`` atomically."""
        feats = np.asarray(entry.features)
        num_levels = self.meta['num_levels']
        if feats.shape != (num_levels, self.meta['feature_dim']):
            raise ValueError(f'features of video {key!r} have shape {feats.shape}; '
                             f"{osp.join(self.root, META_FILE)} says ({num_levels}, "
                             f"{self.meta['feature_dim']}).")
        if not np.isfinite(feats).all():
            raise ValueError(f'features of video {key!r} are not finite.')
        self.write_arrays(
            key,
            dict(
                features=feats.astype(np.float16),
                frame_inds=np.asarray(entry.frame_inds, dtype=np.int32),
                num_frames=np.asarray(entry.num_frames, dtype=np.int64)))

    def read(self, key: str) -> SegmentFeatures:
        """The features of ``key`` as float32 ``(N, C)``.

        Raises:
            FileNotFoundError: If the video has no entry (naming video, file).
            CorruptFeatureEntryError: If the entry is unreadable or was made
                with another ``meta.json``.
        """
        arrays = self.read_arrays(key)
        return SegmentFeatures(
            features=arrays['features'].astype(np.float32),
            frame_inds=arrays['frame_inds'],
            num_frames=int(arrays['num_frames']),
            video=key)
