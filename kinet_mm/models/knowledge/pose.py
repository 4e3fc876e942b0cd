"""Pose knowledge (beyond the paper): body keypoints per frame.

The third kind of knowledge, added as one module and a config entry: a pose
teacher (MediaPipe Pose, whose models ship inside the mediapipe wheel) gives
normalised keypoints per frame, the branch learns Gaussian heatmaps of them.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from .base import BaseKnowledge, ratio
from .keypoints import (decode_heatmaps, keypoint_mse_loss, keypoint_softmax_loss,
                        pck_counts, render_heatmaps, warp_keypoints)

#: Left/right pairs of the 13 body keypoints of ``MediaPipePoseTeacher``'s
#: default order: nose, shoulders, elbows, wrists, hips, knees, ankles (l, r).
BODY13_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12))


@MODELS.register_module()
class KeypointHeatmapLoss(nn.Module):
    """Heatmap loss over the visible keypoints.

    Args:
        loss_weight (float): The task's weight in eq. 6. Defaults to 1.0.
        mode (str): ``'mse'``: mean squared error against the Gaussians, as
            pose estimators train heatmap heads for many epochs
            (:func:`keypoint_mse_loss`); ``'softmax'``: the heatmaps are
            logits of a distribution over cells, trained by cross entropy
            against the normalised Gaussians (:func:`keypoint_softmax_loss`,
            for short schedules). Defaults to ``'mse'``.
    """

    modes = dict(mse=keypoint_mse_loss, softmax=keypoint_softmax_loss)

    def __init__(self, loss_weight: float = 1.0, mode: str = 'mse') -> None:
        super().__init__()
        if mode not in self.modes:
            raise ValueError(f'KeypointHeatmapLoss mode must be one of '
                             f'{tuple(self.modes)}, got {mode!r}')
        self.loss_weight = loss_weight
        self.mode = mode

    def forward(self, heatmaps: Tensor, targets: Dict[str, Tensor]) -> Tensor:
        """``(B, K, h, w)`` heatmaps against ``targets['heatmaps']`` and
        ``targets['weights']`` ``(B, K)``."""
        return self.loss_weight * self.modes[self.mode](heatmaps, targets['heatmaps'],
                                                        targets['weights'])


def heatmap_confidence(heatmaps: Tensor, sigma: float, mode: str = 'mse') -> Tensor:
    """``(B, K)`` confidence of predicted heatmaps in ``[0, 1]``, read as the
    loss ``mode`` trained them: the peak for ``'mse'``; for ``'softmax'`` the
    peak probability over that of a perfect prediction (the normalised
    Gaussian of ``sigma`` cells, peak ``1 / (2 pi sigma^2)``)."""
    if mode == 'softmax':
        peak = heatmaps.flatten(2).softmax(dim=2).amax(dim=2)
        return (peak * 2 * math.pi * sigma**2).clamp(0, 1)
    return heatmaps.flatten(2).amax(dim=2).clamp(0, 1)


@MODELS.register_module()
class PoseKnowledge(BaseKnowledge):
    """Body pose: a light decoder on the branch map predicts heatmaps of the
    teacher's keypoints.

    - head: a small segmentation-style decoder (e.g. MMSeg's ``FCNHead`` with
      ``num_classes=K``) on ``[branch_map]``, ``(B, K, h', w')``, resized
      bilinearly to the target;
    - teacher: ``(B, K, 3)`` keypoints ``(x, y, confidence)``, ``x, y`` in
      ``[0, 1]`` of the frame (``MediaPipePoseTeacher``);
    - field ``keypoints``: ``(T, K, 3)`` float (cached as float16), warped
      with the frames' crop and flip (a horizontal flip mirrors ``x`` and
      swaps the ``flip_pairs``; a keypoint cropped away gets confidence 0);
    - target: ``heatmaps`` ``(B, K, H // s, W // s)`` (Gaussians of
      ``sigma`` cells at the keypoints), ``weights`` ``(B, K)`` (confidence >=
      ``conf_thr``) and the ``keypoints`` themselves;
    - agreement: ``pck``, PCK@``pck_alpha`` of the student's heatmap maxima
      against the teacher's visible keypoints (threshold: ``pck_alpha`` times
      the larger side of their bounding box).

    Args:
        num_keypoints (int): ``K``. Defaults to 13.
        flip_pairs (Sequence[tuple]): Left/right keypoint pairs, in the
            teacher's order. Defaults to :data:`BODY13_FLIP_PAIRS`.
        mask_stride (int): Heatmaps are the input size divided by this; as
            the human task's masks, ``LoadPseudoLabels.mask_stride`` must agree
            (heatmaps are drawn from warped coordinates, so they always do).
            Defaults to 8.
        sigma (float): Gaussian std in heatmap cells. Defaults to 1.5.
        conf_thr (float): Teacher confidence that makes a keypoint visible.
            Defaults to 0.5.
        pck_alpha (float): PCK threshold factor. Defaults to 0.2.
        kwargs: See :class:`BaseKnowledge`.
    """

    fields = ('keypoints', )

    def __init__(self,
                 num_keypoints: int = 13,
                 flip_pairs: Sequence[Tuple[int, int]] = BODY13_FLIP_PAIRS,
                 mask_stride: int = 8,
                 sigma: float = 1.5,
                 conf_thr: float = 0.5,
                 pck_alpha: float = 0.2,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_keypoints = num_keypoints
        self.flip_pairs = tuple(tuple(pair) for pair in flip_pairs)
        self.mask_stride = mask_stride
        self.sigma = sigma
        self.conf_thr = conf_thr
        self.pck_alpha = pck_alpha
        teacher_pairs = getattr(self.teacher, 'flip_pairs', None)
        if teacher_pairs is not None and tuple(map(tuple, teacher_pairs)) \
                != self.flip_pairs:
            raise ValueError(
                f'model.knowledge.{self.name}.flip_pairs {self.flip_pairs} are '
                f"not the teacher's {tuple(map(tuple, teacher_pairs))}")

    def teacher_fields(self, frames: Tensor) -> Dict[str, Tensor]:
        return {self.key('keypoints'): self._checked(self.teacher(frames))}

    def _checked(self, keypoints: Tensor) -> Tensor:
        if keypoints.shape[1:] != (self.num_keypoints, 3):
            raise ValueError(
                f'{self.key("keypoints")} is {tuple(keypoints.shape)}, expected '
                f'(B, {self.num_keypoints}, 3): set model.knowledge.{self.name}'
                '.num_keypoints to the teacher\'s keypoints')
        return keypoints

    def targets(self, fields: Dict[str, Tensor],
                input_size: Sequence[int]) -> Dict[str, Tensor]:
        keypoints = self._checked(fields[self.key('keypoints')].float())
        size = [side // self.mask_stride for side in input_size]
        heatmaps, weights = render_heatmaps(keypoints, size, self.sigma, self.conf_thr)
        return dict(heatmaps=heatmaps, weights=weights, keypoints=keypoints)

    def heatmaps(self, branch_map: Tensor, size: Sequence[int]) -> Tensor:
        """Decoder heatmaps ``(B, K, *size)``, bilinearly resized."""
        return F.interpolate(
            self.head([branch_map]),
            size=tuple(size),
            mode='bilinear',
            align_corners=False)

    def loss(self, branch_map: Tensor, targets: Dict[str, Tensor]) -> Tensor:
        heatmaps = self.heatmaps(branch_map, targets['heatmaps'].shape[-2:])
        return self.loss_module(heatmaps, targets)

    def predict(self, branch_map: Tensor, input_size: Sequence[int]) -> Tensor:
        """``(B, K, 3)`` keypoints: the heatmap maxima as ``x, y`` in ``[0, 1]``
        of the frame and their values as confidences."""
        size = [side // self.mask_stride for side in input_size]
        heatmaps = self.heatmaps(branch_map, size)
        xy = decode_heatmaps(heatmaps)
        # Without a loss module (no head to train) the maps are MSE-style.
        conf = heatmap_confidence(heatmaps, self.sigma,
                                  getattr(self.loss_module, 'mode', 'mse'))
        return torch.cat([xy, conf[..., None]], dim=2)

    def agreement(self, branch_map: Tensor, targets: Dict[str,
                                                          Tensor]) -> Dict[str, Tensor]:
        size = targets['heatmaps'].shape[-2:]
        xy = decode_heatmaps(self.heatmaps(branch_map, size))
        # In heatmap cells, so that x and y weigh alike on non-square frames.
        correct, total = pck_counts(
            xy, targets['keypoints'], self.conf_thr, self.pck_alpha, image_size=size)
        return dict(pck=ratio(correct, total))

    def cache_settings(self) -> Dict:
        return dict(
            super().cache_settings(),
            num_keypoints=self.num_keypoints,
            flip_pairs=[list(pair) for pair in self.flip_pairs])

    def encode(self, fields: Dict[str, Tensor],
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        keypoints = self._checked(fields[self.key('keypoints')])
        return {self.key('keypoints'): keypoints.cpu().numpy().astype(np.float16)}

    def decode(self, arrays: Dict[str, np.ndarray], num: int,
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        keypoints = arrays[self.key('keypoints')]
        if keypoints.shape != (num, self.num_keypoints, 3):
            raise ValueError(f'{self.key("keypoints")} is {keypoints.shape}, '
                             f'expected {(num, self.num_keypoints, 3)}')
        return {self.key('keypoints'): keypoints.astype(np.float32)}

    def warp(self, fields: Dict[str, np.ndarray], results: Dict,
             mask_stride: int) -> Dict[str, np.ndarray]:
        return {
            self.key('keypoints'):
            warp_keypoints(
                fields[self.key('keypoints')],
                results.get('crop_quadruple', (0., 0., 1., 1.)),
                flip=bool(results.get('flip', False)),
                flip_direction=results.get('flip_direction') or 'horizontal',
                flip_pairs=self.flip_pairs)
        }

    def random_fields(self, num: int, input_size: Sequence[int],
                      generator: torch.Generator) -> Dict[str, Tensor]:
        keypoints = torch.rand(num, self.num_keypoints, 3, generator=generator)
        return {self.key('keypoints'): keypoints}

    def describe(self,
                 prediction: Tensor,
                 class_names: Optional[Sequence[str]] = None) -> Dict:
        visible = prediction[:, 2] >= self.conf_thr
        return dict(
            visible=int(visible.sum()),
            keypoints=[[round(float(v), 4) for v in point] for point in prediction])

    def draw(self,
             ax,
             prediction: Tensor,
             class_names: Optional[Sequence[str]] = None) -> str:
        height, width = ax.get_images()[0].get_array().shape[:2]
        visible = prediction[:, 2] >= self.conf_thr
        points = prediction[visible]
        ax.scatter(
            points[:, 0] * width,
            points[:, 1] * height,
            s=12,
            c='cyan',
            edgecolors='black',
            linewidths=0.5)
        return f'{self.name} {int(visible.sum())}/{len(prediction)} keypoints'
