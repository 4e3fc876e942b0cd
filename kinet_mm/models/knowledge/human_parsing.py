"""Human parsing knowledge (section 3.1): a person mask per frame."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .base import BaseKnowledge, ratio


def mask_size(frame_shape: Sequence[int], short_side: int) -> Tuple[int, int]:
    """Stored mask size ``(h, w)``: the frame scaled to ``short_side``, aspect kept.

    Args:
        frame_shape (Sequence[int]): ``(H, W)`` of the original frames.
        short_side (int): Short side of the stored mask.
    """
    height, width = int(frame_shape[0]), int(frame_shape[1])
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def downsample_masks(masks: Tensor, size: Tuple[int, int]) -> np.ndarray:
    """Resize binary masks by majority vote (area average > 0.5).

    Majority vote keeps thin structures' area better than nearest sampling,
    which can skip them entirely when shrinking 3-4x.

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
        if flip_direction not in ('horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'Unknown flip_direction {flip_direction!r}.')
        if flip_direction in ('horizontal', 'diagonal'):
            warped = warped[:, :, ::-1]
        if flip_direction in ('vertical', 'diagonal'):
            warped = warped[:, ::-1, :]
    return np.ascontiguousarray(warped)


def _source_indices(start: float, extent: float, out_len: int,
                    src_len: int) -> np.ndarray:
    """Stored-mask index under each output cell's centre along one axis."""
    centres = start + (np.arange(out_len) + 0.5) / out_len * extent
    return np.clip(np.floor(centres * src_len).astype(np.int64), 0, src_len - 1)


@MODELS.register_module()
class HumanParsingKnowledge(BaseKnowledge):
    """Human parsing: a decoder on the branch map predicts the teacher's
    person mask (the paper's LIP parser, whose 20 classes are merged into
    human vs background).

    - head: a segmentation decoder (e.g. MMSeg's ``FCNHead`` with
      ``num_classes=2``) on ``[branch_map]``, ``(B, 2, h', w')`` logits,
      resized bilinearly to the target;
    - teacher: ``(B, H, W)`` long masks (1 = human) at the frames' size;
    - field ``mask``: ``(T, h, w)`` uint8; cached bit-packed at short side
      ``cache_short_side`` (aspect kept, :func:`mask_size`), warped by
      ``LoadPseudoLabels`` to ``img_shape // mask_stride`` of the augmented
      frames;
    - target: ``(B, H // s, W // s)`` long, ``s = mask_stride``;
    - agreement: ``iou``, the student's mask (probability >= 0.5) against the
      teacher's, intersection and union summed over all frames.

    Args:
        mask_stride (int): The target mask is the input size divided by this.
            A cached mask must come at this stride too
            (``LoadPseudoLabels.mask_stride``). Defaults to 8.
        cache_short_side (int): Short side of the masks a cache stores.
            Defaults to 64.
        kwargs: See :class:`BaseKnowledge` (``head``, ``loss``, ``teacher``).
    """

    fields = ('mask', )

    def __init__(self,
                 mask_stride: int = 8,
                 cache_short_side: int = 64,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if mask_stride < 1 or cache_short_side < 1:
            raise ValueError('mask_stride and cache_short_side must be >= 1, '
                             f'got {mask_stride} and {cache_short_side}')
        self.mask_stride = mask_stride
        self.cache_short_side = cache_short_side

    def teacher_fields(self, frames: Tensor) -> Dict[str, Tensor]:
        return {self.key('mask'): self.teacher(frames)}

    def targets(self, fields: Dict[str, Tensor], input_size: Sequence[int]) -> Tensor:
        """``(B, h, w)`` masks -> ``(B, H // s, W // s)`` long targets.

        Teacher masks at the frames' size are resized (nearest); cached masks
        already come at the stride. Any other size is a stride mismatch.
        """
        mask = fields[self.key('mask')]
        size = [side // self.mask_stride for side in input_size]
        if list(mask.shape[-2:]) not in (size, list(input_size)):
            raise ValueError(
                f'{self.key("mask")} is {tuple(mask.shape[-2:])} for frames '
                f'{tuple(input_size)}: expected {tuple(size)} (mask_stride='
                f'{self.mask_stride}) or the frames\' size. Give '
                f'LoadPseudoLabels the mask_stride of model.knowledge.'
                f'{self.name}.mask_stride.')
        if list(mask.shape[-2:]) != size:
            mask = F.interpolate(mask[:, None].float(), size=size, mode='nearest')[:, 0]
        return mask.long()

    def logits(self, branch_map: Tensor, size: Sequence[int]) -> Tensor:
        """Decoder logits ``(B, 2, *size)``, bilinearly resized."""
        logits = self.head([branch_map])
        return F.interpolate(
            logits, size=tuple(size), mode='bilinear', align_corners=False)

    def loss(self, branch_map: Tensor, targets: Tensor) -> Tensor:
        """Per-pixel cross entropy against ``(B, h, w)`` long targets."""
        return self.loss_module(self.logits(branch_map, targets.shape[-2:]), targets)

    def predict(self, branch_map: Tensor, input_size: Sequence[int]) -> Tensor:
        """``(B, H, W)`` human probability at the input size."""
        return self.logits(branch_map, input_size).softmax(dim=1)[:, 1]

    def agreement(self, branch_map: Tensor, targets: Tensor) -> Dict[str, Tensor]:
        student = self.logits(branch_map, targets.shape[-2:]).argmax(dim=1) == 1
        teacher = targets == 1
        return dict(iou=ratio((student & teacher).sum(), (student | teacher).sum()))

    def cache_settings(self) -> Dict:
        return dict(super().cache_settings(), cache_short_side=self.cache_short_side)

    def encode(self, fields: Dict[str, Tensor],
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        size = mask_size(frame_shape, self.cache_short_side)
        masks = downsample_masks(fields[self.key('mask')], size)
        return {self.key('mask'): pack_masks(masks)}

    def decode(self, arrays: Dict[str, np.ndarray], num: int,
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        shape = mask_size(frame_shape, self.cache_short_side)
        packed = arrays[self.key('mask')]
        expected = (num, -(-shape[0] * shape[1] // 8))
        if packed.shape != expected:
            raise ValueError(f'{self.key("mask")} is {packed.shape}, expected '
                             f'{expected} for {num} frames of masks {shape}')
        return {self.key('mask'): unpack_masks(packed, shape)}

    def warp(self, fields: Dict[str, np.ndarray], results: Dict,
             mask_stride: int) -> Dict[str, np.ndarray]:
        img_h, img_w = results['img_shape']
        out_size = (img_h // mask_stride, img_w // mask_stride)
        if min(out_size) < 1:
            raise ValueError(f'img_shape {results["img_shape"]} of '
                             f'{results.get("filename")!r} is smaller than '
                             f'mask_stride={mask_stride}.')
        return {
            self.key('mask'):
            warp_masks(
                fields[self.key('mask')],
                results.get('crop_quadruple', (0., 0., 1., 1.)),
                out_size,
                flip=bool(results.get('flip', False)),
                flip_direction=results.get('flip_direction') or 'horizontal')
        }

    def random_fields(self, num: int, input_size: Sequence[int],
                      generator: torch.Generator) -> Dict[str, Tensor]:
        size = [side // self.mask_stride for side in input_size]
        mask = torch.rand(num, *size, generator=generator) > 0.5
        return {self.key('mask'): mask.to(torch.uint8)}

    def describe(self,
                 prediction: Tensor,
                 class_names: Optional[Sequence[str]] = None) -> Dict:
        return dict(fraction=round(float((prediction >= 0.5).float().mean()), 4))

    def draw(self,
             ax,
             prediction: Tensor,
             class_names: Optional[Sequence[str]] = None) -> str:
        mask = prediction.numpy()
        ax.imshow(
            np.ma.masked_less(mask, 0.5), cmap='autumn', alpha=0.55, vmin=0, vmax=1)
        return f'{self.name} {100 * (mask >= 0.5).mean():.0f}%'
