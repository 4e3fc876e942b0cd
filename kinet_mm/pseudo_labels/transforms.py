"""Pipeline transforms: cached pseudo labels aligned with the augmented frames."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform, to_tensor

from .cache import PseudoLabelCache

#: Results keys of the fields LoadPseudoLabels added, and of the frame size it
#: warped them to (PackKINetInputs packs the former, checks the latter).
LOADED_KEYS = 'pseudo_label_keys'
LOADED_SHAPE = 'pseudo_img_shape'

#: Relative aspect-ratio difference tolerated between the cached and decoded
#: frames: masks are mapped in normalised coordinates, so a re-encoded copy of
#: a video at another resolution is fine, a different video is not.
_ASPECT_TOLERANCE = 0.02


@TRANSFORMS.register_module()
class LoadPseudoLabels(BaseTransform):
    """Fetch a video's cached pseudo labels for the sampled frames.

    Place it after the geometric transforms (Resize, MultiScaleCrop,
    RandomResizedCrop, RandomCrop, CenterCrop, Flip; with ``lazy=True`` also
    before or after ``Fuse``) and before ``FormatShape``. Every knowledge task
    of the cache (``meta.json``) decodes its stored fields for the sampled
    frames and warps them like the frames (its ``warp``: the human mask is
    cropped with ``crop_quadruple``, resized (nearest) to
    ``img_shape // mask_stride`` and flipped, so it is pixel-aligned with
    them). Training and single-crop validation pipelines only: the multi-crop
    test transforms (ThreeCrop, TenCrop) record no ``crop_quadruple`` and are
    refused.

    Frames between two stored frames (extraction ``--stride`` > 1) take the
    nearest stored frame.

    Required keys: ``filename``, ``frame_inds``, ``img_shape``.
    Optional keys: ``crop_quadruple`` (absent: no crop), ``flip``,
    ``flip_direction``, ``original_shape``, ``imgs``.
    Added keys: every task's ``pseudo_<task>_<field>`` (``(N, ...)`` arrays,
    ``N = len(frame_inds)``), ``pseudo_label_keys`` (their names) and
    ``pseudo_img_shape`` (for PackKINetInputs' check).

    Args:
        cache_root (str): Directory written by ``tools/extract_pseudo_labels.py``.
        mask_stride (int): Stride of the dense fields (masks, heatmaps) w.r.t.
            the augmented frames; must be the knowledge tasks' ``mask_stride``
            (a mismatch is an error when the targets are made). Defaults to 8.
        expected (dict, optional): ``meta.json`` fields that must match, e.g.
            ``dict(knowledge=dict(scene=dict(teacher=dict(
            label_space='places365', num_classes=365))))``. A mismatch raises
            ValueError when the transform is built. Defaults to None.
        video_prefix (str, optional): The dataset's ``data_prefix['video']``;
            keys are ``filename`` relative to it. If None, the longest trailing
            part of ``filename`` with an entry is used. Defaults to None.
    """

    def __init__(self,
                 cache_root: str,
                 mask_stride: int = 8,
                 expected: Optional[Dict] = None,
                 video_prefix: Optional[str] = None) -> None:
        if mask_stride < 1:
            raise ValueError(f'mask_stride must be >= 1, got {mask_stride}.')
        self.cache_root = cache_root
        self.mask_stride = mask_stride
        self.expected = expected
        self.video_prefix = video_prefix
        # Opening validates meta.json now, so a wrong cache fails when the
        # dataset is built rather than in a dataloader worker hours later.
        self.cache = PseudoLabelCache(cache_root, expected=expected)

    def transform(self, results: Dict) -> Dict:
        """Add the pseudo labels of ``results['frame_inds']`` to ``results``."""
        filename = results['filename']
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
        self._check_single_crop(results, filename, len(frame_inds))
        entry = self.cache.read(self.cache.resolve(filename, self.video_prefix))
        self._check_aspect(results, entry.frame_shape, filename)
        rows = entry.rows_for(frame_inds)
        keys = []
        for task in self.cache.tasks.values():
            fields = {key: entry.labels[key][rows] for key in task.keys}
            warped = task.warp(fields, results, self.mask_stride)
            results.update(warped)
            keys += list(warped)
        results[LOADED_KEYS] = keys
        results[LOADED_SHAPE] = tuple(results['img_shape'])
        return results

    @staticmethod
    def _check_single_crop(results: Dict, filename: str, num: int) -> None:
        """Refuse multi-crop outputs, whose crops the results do not record."""
        imgs = results.get('imgs')
        if imgs is not None and len(imgs) != num:
            raise ValueError(
                f'LoadPseudoLabels got {len(imgs)} images for {num} sampled '
                f'frames of {filename!r}: it supports one crop per frame '
                '(training pipelines), not ThreeCrop/TenCrop.')

    @staticmethod
    def _check_aspect(results: Dict, frame_shape: Tuple[int, int],
                      filename: str) -> None:
        """The cached masks must come from frames shaped like these ones."""
        if 'original_shape' not in results:
            return
        height, width = results['original_shape'][:2]
        cached = frame_shape[1] / frame_shape[0]
        if abs(width / height - cached) > _ASPECT_TOLERANCE * cached:
            raise ValueError(
                f'Video {filename!r} decodes to {height}x{width} frames, but its '
                f'pseudo labels were extracted from {frame_shape[0]}x'
                f'{frame_shape[1]} frames (different aspect ratio): the cache '
                'was built from another video.')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(cache_root={self.cache_root!r}, '
                f'mask_stride={self.mask_stride}, expected={self.expected!r}, '
                f'video_prefix={self.video_prefix!r})')


@TRANSFORMS.register_module()
class PackKINetInputs(PackActionInputs):
    """PackActionInputs that also packs the cached pseudo labels.

    Every field ``LoadPseudoLabels`` added becomes a tensor field of the same
    name in the ``ActionDataSample``; without them it packs exactly like
    PackActionInputs (e.g. with online teachers). Takes PackActionInputs' args.
    """

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` into ``inputs`` and a ``data_samples`` with labels."""
        packed = super().transform(results)
        keys = results.get(LOADED_KEYS, ())
        if keys:
            self._check_alignment(results)
        for key in keys:
            packed['data_samples'].set_field(to_tensor(results[key]), key)
        return packed

    @staticmethod
    def _check_alignment(results: Dict) -> None:
        """Catch LoadPseudoLabels placed before a geometric transform: the
        fields follow the frame size it saw, which a later transform changed."""
        loaded = tuple(results[LOADED_SHAPE])
        if loaded != tuple(results['img_shape']):
            raise ValueError(
                f'The pseudo labels of {results.get("filename")!r} were warped '
                f'to frames of {loaded}, but the frames are now '
                f'{tuple(results["img_shape"])}: put LoadPseudoLabels after '
                'every crop/resize/flip transform.')
