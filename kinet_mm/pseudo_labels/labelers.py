"""Pseudo-labelers: where the auxiliary heads' targets come from (section 3.1).

Both implementations return the same fields (:mod:`.fields`) for a batch of
augmented frames, and :class:`BasePseudoLabeler` turns them into targets in one
place, so a loss never knows whether its labels were computed now or read from
a cache.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModule
from torch import Tensor, nn

from .fields import BRANCH_FIELDS, HUMAN_MASK, SCENE_IDX, SCENE_PROB

SCENE_TARGETS = ('hard', 'soft')


class BasePseudoLabeler(BaseModule, metaclass=ABCMeta):
    """Targets of the auxiliary heads for a batch of augmented frames.

    Subclasses implement :meth:`labels`, which returns the raw fields; this
    class shapes them into targets:

    - ``human``: the mask resized (nearest) to the frames' size divided by
      ``mask_stride``, ``(N * num_segs, H // s, W // s)`` long;
    - ``scene``: with ``scene_target='hard'`` the teacher's top-1 class,
      ``(N * num_segs, )`` long (the paper's pseudo labels); with ``'soft'`` the
      teacher's top-k probabilities renormalised to sum to 1, as a dense
      ``(N * num_segs, num_scene_classes)`` distribution.

    Args:
        branches (Sequence[str]): Auxiliary branches that need targets
            (``'human'``, ``'scene'``); filled in by :class:`KINet` from its
            auxiliary heads.
        num_scene_classes (int, optional): Classes of the scene head, for soft
            targets; filled in by :class:`KINet`. Defaults to None.
        mask_stride (int): Human targets are compared at the input size divided
            by this. Defaults to 8.
        scene_target (str): ``'hard'`` or ``'soft'``. Defaults to ``'hard'``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 branches: Sequence[str] = ('human', 'scene'),
                 num_scene_classes: Optional[int] = None,
                 mask_stride: int = 8,
                 scene_target: str = 'hard',
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        unknown = set(branches) - set(BRANCH_FIELDS)
        if unknown:
            raise ValueError(f'No pseudo labels exist for branches {sorted(unknown)}; '
                             f'known: {sorted(BRANCH_FIELDS)}')
        if scene_target not in SCENE_TARGETS:
            raise ValueError(f'scene_target must be one of {SCENE_TARGETS}, got '
                             f'{scene_target!r}')
        if scene_target == 'soft' and 'scene' in branches and not num_scene_classes:
            raise ValueError("scene_target='soft' needs num_scene_classes")
        if mask_stride < 1:
            raise ValueError(f'mask_stride must be >= 1, got {mask_stride}')
        self.branches = tuple(branches)
        self.num_scene_classes = num_scene_classes
        self.mask_stride = mask_stride
        self.scene_target = scene_target

    @abstractmethod
    def labels(self, frames: Tensor,
               data_samples: SampleList) -> Dict[str, Tensor]:
        """The raw pseudo-label fields of the branches in :attr:`branches`.

        Args:
            frames (Tensor): The augmented frames, 0-255 RGB,
                ``(N * num_segs, 3, H, W)``.
            data_samples (list[ActionDataSample]): The batch's samples.

        Returns:
            dict: ``HUMAN_MASK``: ``(N * num_segs, h, w)`` masks at any
            resolution covering the frames; ``SCENE_IDX`` and ``SCENE_PROB``:
            ``(N * num_segs, k)`` top-k classes and their probabilities.
        """

    def forward(self, frames: Tensor,
                data_samples: SampleList) -> Dict[str, Tensor]:
        """Targets by branch name (see the class docstring for their shapes)."""
        fields = self.labels(frames, data_samples)
        targets = {}
        if 'human' in self.branches:
            targets['human'] = self.human_target(fields[HUMAN_MASK],
                                                 frames.shape[-2:])
        if 'scene' in self.branches:
            targets['scene'] = self.scene_target_from_topk(
                fields[SCENE_IDX], fields[SCENE_PROB])
        return targets

    def human_target(self, mask: Tensor, input_size: torch.Size) -> Tensor:
        """``(B, h, w)`` masks -> ``(B, H // s, W // s)`` long targets."""
        size = [side // self.mask_stride for side in input_size]
        if list(mask.shape[-2:]) != size:
            mask = F.interpolate(mask[:, None].float(), size=size,
                                 mode='nearest')[:, 0]
        return mask.long()

    def scene_target_from_topk(self, indices: Tensor, probs: Tensor) -> Tensor:
        """``(B, k)`` top-k classes and probabilities -> hard or soft targets."""
        if self.scene_target == 'hard':
            return indices[:, 0].long()
        dense = probs.new_zeros(probs.shape[0], self.num_scene_classes)
        dense.scatter_(1, indices.long(), probs.float())
        return dense / dense.sum(dim=1, keepdim=True)


@MODELS.register_module()
class OnlinePseudoLabeler(BasePseudoLabeler):
    """Run the frozen teachers on the augmented frames of every step.

    Args:
        teachers (dict): ``dict(human=..., scene=...)`` teacher configs; one
            for each branch in ``branches``.
        scene_topk (int): Scene classes kept per frame, as a cache keeps them
            (``tools/extract_pseudo_labels.py --topk``), so that ``'soft'``
            targets mean the same in both modes. Defaults to 5.
        kwargs: See :class:`BasePseudoLabeler`.
    """

    def __init__(self, teachers: Dict, scene_topk: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        missing = [b for b in self.branches if not (teachers or {}).get(b)]
        if missing:
            raise ValueError(
                f'online pseudo labels need a teacher for each auxiliary head '
                f'{sorted(self.branches)}; teachers lack {missing}. Set '
                "pseudo_label_source='cache' to read them from the data.")
        self.teachers = nn.ModuleDict(
            {name: MODELS.build(teachers[name]) for name in self.branches})
        self.scene_topk = scene_topk

    def labels(self, frames: Tensor,
               data_samples: SampleList) -> Dict[str, Tensor]:
        fields = {}
        if 'human' in self.teachers:
            fields[HUMAN_MASK] = self.teachers['human'](frames)
        if 'scene' in self.teachers:
            probs = self.teachers['scene'](frames)
            top = probs.topk(min(self.scene_topk, probs.shape[1]), dim=1)
            fields[SCENE_IDX], fields[SCENE_PROB] = top.indices, top.values
        return fields


@MODELS.register_module()
class CachedPseudoLabeler(BasePseudoLabeler):
    """Read the labels ``LoadPseudoLabels`` and ``PackKINetInputs`` put in the
    data samples (see ``docs/pseudo_labels.md``); no teacher runs."""

    def labels(self, frames: Tensor,
               data_samples: SampleList) -> Dict[str, Tensor]:
        keys = [key for branch in self.branches for key in BRANCH_FIELDS[branch]]
        missing = [key for key in keys if key not in data_samples[0]]
        if missing:
            raise KeyError(
                f'No cached pseudo labels: the data samples lack {missing}. Add '
                'LoadPseudoLabels and PackKINetInputs to the training pipeline, '
                "or use pseudo_label_source='online' with teachers.")
        return {key: torch.cat([sample.get(key) for sample in data_samples])
                for key in keys}
