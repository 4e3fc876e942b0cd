"""Scene knowledge (section 3.1): the teacher's scene distribution per frame."""
import inspect
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import Tensor

from .base import BaseKnowledge, ratio

SCENE_TARGETS = ('hard', 'soft')


def teacher_label_space(teacher_cfg: Dict) -> str:
    """The ``label_space`` a teacher config would have, without building it.

    A ``label_space`` argument in the config wins; then the argument's default
    (``MMPretrainSceneTeacher``); then the class attribute (fixed-label
    teachers such as ``EfficientNetLiteSceneTeacher``).
    """
    if 'label_space' in teacher_cfg:
        return teacher_cfg['label_space']
    cls = MODELS.get(teacher_cfg['type'])
    if cls is None:
        return ''
    param = inspect.signature(cls).parameters.get('label_space')
    if param is not None and param.default is not inspect.Parameter.empty:
        return param.default
    return getattr(cls, 'label_space', '')


def places365_label_map() -> str:
    """Where the shared Places365 names are (``$KINET_SHARED/data/labels``)."""
    shared = os.environ.get('KINET_SHARED', '../shared')
    return osp.join(shared, 'data', 'labels', 'places365_categories.txt')


def label_space_names(space: str) -> List[str]:
    """Class names of a teacher label space: ImageNet-1k from MMPretrain,
    Places365 from the shared label file; empty if unknown or missing."""
    if space == 'imagenet1k':
        from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
        return [name.split(',')[0] for name in IMAGENET_CATEGORIES]
    if space == 'places365' and osp.isfile(places365_label_map()):
        with open(places365_label_map(), encoding='utf-8') as f:
            return [line.split()[0] for line in f if line.strip()]
    return []


@MODELS.register_module()
class SceneKnowledge(BaseKnowledge):
    """Scene recognition: a classifier on the pooled branch map predicts the
    teacher's scene (the paper's Places365 ResNet-152).

    - head: a classifier (e.g. MMPretrain's ``LinearClsHead``) on the globally
      average-pooled branch map, ``(B, num_classes)`` logits;
    - teacher: ``(B, num_classes)`` probabilities;
    - fields ``topk_idx`` ``(T, k)`` int64 and ``topk_prob`` ``(T, k)``
      float32: the teacher's top-``k``, online and cached alike (no geometry);
    - target: with ``target='hard'`` the teacher's top-1 ``(B, )`` (the
      paper's pseudo labels); with ``'soft'`` the top-``k`` probabilities
      renormalised to 1, a dense ``(B, num_classes)`` distribution;
    - agreement: ``top1`` (the student's top-1 is the teacher's) and ``top5``
      (the teacher's top-1 is among the student's five).

    Args:
        target (str): ``'hard'`` or ``'soft'``. Defaults to ``'hard'``.
        topk (int): Classes kept per frame, online and in a cache, so that
            soft targets mean the same in both modes. Defaults to 5.
        kwargs: See :class:`BaseKnowledge`.
    """

    fields = ('topk_idx', 'topk_prob')

    def __init__(self, target: str = 'hard', topk: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        if target not in SCENE_TARGETS:
            raise ValueError(f'model.knowledge.{self.name}.target must be one '
                             f'of {SCENE_TARGETS}, got {target!r}')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.target = target
        self.topk = topk

    @property
    def num_classes(self) -> Optional[int]:
        """Classes of the head (those of the teacher)."""
        return getattr(self.head, 'num_classes', None)

    def teacher_fields(self, frames: Tensor) -> Dict[str, Tensor]:
        probs = self.teacher(frames).float()
        top = probs.topk(min(self.topk, probs.shape[1]), dim=1)
        return {self.key('topk_idx'): top.indices, self.key('topk_prob'): top.values}

    def targets(self, fields: Dict[str, Tensor], input_size: Sequence[int]) -> Tensor:
        indices = fields[self.key('topk_idx')].long()
        if self.target == 'hard':
            return indices[:, 0]
        probs = fields[self.key('topk_prob')].float()
        dense = probs.new_zeros(probs.shape[0], self.num_classes)
        dense.scatter_(1, indices, probs)
        return dense / dense.sum(dim=1, keepdim=True)

    def logits(self, branch_map: Tensor) -> Tensor:
        """Logits of the globally pooled branch map ``(B, num_classes)``."""
        return self.head((branch_map.mean(dim=(2, 3)), ))

    def loss(self, branch_map: Tensor, targets: Tensor) -> Tensor:
        """Cross entropy, one term per frame, averaged; ``(B, )`` labels or
        ``(B, num_classes)`` probabilities."""
        return self.loss_module(self.logits(branch_map), targets)

    def predict(self, branch_map: Tensor, input_size: Sequence[int]) -> Tensor:
        """``(B, num_classes)`` probabilities."""
        return self.logits(branch_map).softmax(dim=1)

    def agreement(self, branch_map: Tensor, targets: Tensor) -> Dict[str, Tensor]:
        teacher = targets if targets.dim() == 1 else targets.argmax(dim=1)
        logits = self.logits(branch_map)
        top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
        return dict(
            top1=ratio((top5[:, 0] == teacher).sum(), len(teacher)),
            top5=ratio((top5 == teacher[:, None]).any(1).sum(), len(teacher)))

    def cache_settings(self) -> Dict:
        return dict(super().cache_settings(), topk=self.topk)

    def teacher_meta(self) -> Dict:
        """The teacher's fingerprint and its class count (its attribute, else
        a probe), which must hold ``topk`` classes."""
        num = getattr(self.teacher, 'num_classes', None)
        if num is None:
            probe = torch.zeros(1, 3, 224, 224, device=self.teacher.mean.device)
            num = self.teacher(probe).shape[-1]
        if self.topk > num:
            raise ValueError(f'model.knowledge.{self.name}.topk={self.topk} '
                             f"exceeds the teacher's {num} classes.")
        return dict(super().teacher_meta(), num_classes=int(num))

    def encode(self, fields: Dict[str, Tensor],
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        indices = fields[self.key('topk_idx')].cpu().numpy()
        if indices.size and indices.max() > np.iinfo(np.int16).max:
            raise ValueError('Scene class indices do not fit int16.')
        return {
            self.key('topk_idx'):
            indices.astype(np.int16),
            self.key('topk_prob'):
            fields[self.key('topk_prob')].cpu().numpy().astype(np.float16)
        }

    def decode(self, arrays: Dict[str, np.ndarray], num: int,
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        indices, probs = arrays[self.key('topk_idx')], arrays[self.key('topk_prob')]
        if indices.shape[0] != num or probs.shape != indices.shape:
            raise ValueError(f'{self.key("topk_idx")} {indices.shape} and '
                             f'{self.key("topk_prob")} {probs.shape} do not '
                             f'hold the same top-k of {num} frames')
        return {
            self.key('topk_idx'): indices.astype(np.int64),
            self.key('topk_prob'): probs.astype(np.float32)
        }

    def warp(self, fields: Dict[str, np.ndarray], results: Dict,
             mask_stride: int) -> Dict[str, np.ndarray]:
        return fields  # a frame's scene does not move with crops or flips

    def random_fields(self, num: int, input_size: Sequence[int],
                      generator: torch.Generator) -> Dict[str, Tensor]:
        classes = self.num_classes or 365
        k = min(self.topk, classes)
        indices = torch.stack(
            [torch.randperm(classes, generator=generator)[:k] for _ in range(num)])
        probs = torch.rand(num, k, generator=generator)
        return {
            self.key('topk_idx'): indices,
            self.key('topk_prob'): probs / probs.sum(1, keepdim=True)
        }

    def class_names(self, label_map: Optional[str] = None) -> Optional[Sequence[str]]:
        """``label_map`` (one name a line), else the names of the teacher's
        label space (ImageNet-1k, Places365), else the class indices."""
        from ...apis.labels import read_label_map
        num = self.num_classes
        if label_map is not None:
            return read_label_map(label_map, num, self.name,
                                  f'model.knowledge.{self.name}.head.num_classes')
        space = teacher_label_space(self.teacher_cfg) if self.teacher_cfg else ''
        names = label_space_names(space)
        return names if len(names) == num else [str(i) for i in range(num)]

    def _top3(self, prediction: Tensor, class_names) -> List[Tuple[str, float]]:
        names = class_names or [str(i) for i in range(prediction.numel())]
        values, indices = prediction.float().topk(min(3, prediction.numel()))
        return [(names[i], v) for v, i in zip(values.tolist(), indices.tolist())]

    def describe(self,
                 prediction: Tensor,
                 class_names: Optional[Sequence[str]] = None) -> Dict:
        return dict(top3=[[name, round(p, 4)]
                          for name, p in self._top3(prediction, class_names)])

    def draw(self,
             ax,
             prediction: Tensor,
             class_names: Optional[Sequence[str]] = None) -> str:
        return '\n'.join(f'{name[:18]} {p:.2f}'
                         for name, p in self._top3(prediction, class_names))
