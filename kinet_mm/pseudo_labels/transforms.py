"""Pipeline transforms: cached pseudo labels aligned with the augmented frames."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform, to_tensor

from .cache import PseudoLabelCache
from .fields import FIELDS, HUMAN_MASK, MASK_STRIDE, SCENE_IDX, SCENE_PROB

#: Relative aspect-ratio difference tolerated between the cached and decoded
#: frames: masks are mapped in normalised coordinates, so a re-encoded copy of
#: a video at another resolution is fine, a different video is not.
_ASPECT_TOLERANCE = 0.02


def warp_masks(masks: np.ndarray,
               crop_quadruple: Sequence[float],
               out_size: Tuple[int, int],
               flip: bool = False,
               flip_direction: str = 'horizontal') -> np.ndarray:
    """Crop, resize (nearest) and flip stored masks as the frames were.

    Output cell ``(i, j)`` covers the augmented frame's region
    ``[i * H / h, (i + 1) * H / h) x [j * W / w, (j + 1) * W / w)``; it takes the
    stored mask pixel under that region's centre, mapped back through the crop
    (``crop_quadruple = (x, y, w, h)``, fractions of the original frame, as
    MMAction2's crop transforms record it) and the flip, which MMAction2 applies
    after every crop.

    Args:
        masks (np.ndarray): ``(N, h_m, w_m)`` masks covering whole original frames.
        crop_quadruple (Sequence[float]): ``(x, y, w, h)`` of the crop.
        out_size (tuple[int, int]): ``(h, w)`` of the output masks.
        flip (bool): Whether the frames were flipped. Defaults to False.
        flip_direction (str): ``'horizontal'``, ``'vertical'`` or
            ``'diagonal'``. Defaults to ``'horizontal'``.

    Returns:
        np.ndarray: ``(N, h, w)`` masks, C-contiguous.
    """
    _, mask_h, mask_w = masks.shape
    out_h, out_w = out_size
    x0, y0, crop_w, crop_h = (float(v) for v in crop_quadruple)
    rows = _source_indices(y0, crop_h, out_h, mask_h)
    cols = _source_indices(x0, crop_w, out_w, mask_w)
    warped = masks[:, rows[:, None], cols[None, :]]
    if flip:
        if flip_direction in ('horizontal', 'diagonal'):
            warped = warped[:, :, ::-1]
        if flip_direction in ('vertical', 'diagonal'):
            warped = warped[:, ::-1, :]
        if flip_direction not in ('horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'Unknown flip_direction {flip_direction!r}.')
    return np.ascontiguousarray(warped)


def _source_indices(start: float, extent: float, out_len: int,
                    src_len: int) -> np.ndarray:
    """Stored-mask index under each output cell's centre along one axis."""
    centres = start + (np.arange(out_len) + 0.5) / out_len * extent
    return np.clip(np.floor(centres * src_len).astype(np.int64), 0, src_len - 1)


@TRANSFORMS.register_module()
class LoadPseudoLabels(BaseTransform):
    """Fetch a video's cached pseudo labels for the sampled frames.

    Place it after the geometric transforms (Resize, MultiScaleCrop,
    RandomResizedCrop, RandomCrop, CenterCrop, Flip; with ``lazy=True`` also
    before or after ``Fuse``) and before ``FormatShape``. The mask is cropped with
    ``crop_quadruple``, resized (nearest) to ``img_shape // mask_stride`` and
    flipped like the frames, so it is pixel-aligned with them. Training
    pipelines only: the multi-crop test transforms (ThreeCrop, TenCrop) record no
    ``crop_quadruple`` and are refused.

    Frames between two stored frames (extraction ``--stride`` > 1) take the
    nearest stored frame.

    Required keys: ``filename``, ``frame_inds``, ``img_shape``.
    Optional keys: ``crop_quadruple`` (absent: no crop), ``flip``,
    ``flip_direction``, ``original_shape``, ``imgs``.
    Added keys:

    - ``pseudo_human_mask`` (np.ndarray): uint8 ``(N, H // s, W // s)``,
      1 = human, with ``N = len(frame_inds)`` (``num_clips * clip_len``).
    - ``pseudo_scene_idx`` (np.ndarray): int64 ``(N, k)``.
    - ``pseudo_scene_prob`` (np.ndarray): float32 ``(N, k)``.
    - ``pseudo_mask_stride`` (int): ``mask_stride``, for PackKINetInputs' check.

    Args:
        cache_root (str): Directory written by ``tools/extract_pseudo_labels.py``.
        mask_stride (int): Output mask stride w.r.t. the augmented frames.
            Defaults to 8.
        expected (dict, optional): ``meta.json`` fields that must match, e.g.
            ``dict(teachers=dict(human=dict(label_space='lip20->human'),
            scene=dict(label_space='places365', num_classes=365)), topk=5)``
            (the labels of ``MMSegHumanTeacher`` and ``MMPretrainSceneTeacher``).
            A mismatch raises ValueError when the transform is built.
            Defaults to None.
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

        img_h, img_w = results['img_shape']
        out_size = (img_h // self.mask_stride, img_w // self.mask_stride)
        if min(out_size) < 1:
            raise ValueError(
                f'img_shape {results["img_shape"]} of {filename!r} is smaller '
                f'than mask_stride={self.mask_stride}.')
        results[HUMAN_MASK] = warp_masks(
            entry.human_mask[rows],
            results.get('crop_quadruple', (0., 0., 1., 1.)),
            out_size,
            flip=bool(results.get('flip', False)),
            flip_direction=results.get('flip_direction') or 'horizontal')
        results[SCENE_IDX] = entry.scene_topk_idx[rows].astype(np.int64)
        results[SCENE_PROB] = entry.scene_topk_prob[rows].astype(
            np.float32)
        results[MASK_STRIDE] = self.mask_stride
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

    Each of ``pseudo_human_mask`` (uint8 ``(N, H // s, W // s)``),
    ``pseudo_scene_idx`` (int64 ``(N, k)``) and ``pseudo_scene_prob`` (float32
    ``(N, k)``) present in the results becomes a tensor field of the same name
    in the ``ActionDataSample``; without them it packs exactly like
    PackActionInputs (e.g. with online teachers). Takes PackActionInputs' args.
    """

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` into ``inputs`` and a ``data_samples`` with labels."""
        packed = super().transform(results)
        if HUMAN_MASK in results:
            self._check_mask_alignment(results)
        data_sample = packed['data_samples']
        for key in FIELDS:
            if key in results:
                data_sample.set_field(to_tensor(results[key]), key)
        return packed

    @staticmethod
    def _check_mask_alignment(results: Dict) -> None:
        """Catch LoadPseudoLabels placed before a geometric transform.

        The mask was sized from the ``img_shape`` LoadPseudoLabels saw; if a
        later transform changed the frames, sizes disagree here.
        """
        stride = results.get(MASK_STRIDE)
        img_h, img_w = results['img_shape']
        mask_hw = tuple(results[HUMAN_MASK].shape[-2:])
        if stride is not None and mask_hw != (img_h // stride, img_w // stride):
            raise ValueError(
                f'pseudo_human_mask of {results.get("filename")!r} is {mask_hw} '
                f'but the frames are {(img_h, img_w)} (mask stride {stride}): '
                'put LoadPseudoLabels after every crop/resize/flip transform.')
