"""One kind of knowledge: a teacher, a branch head, targets, cache fields, a metric.

KINet distils the knowledge of frozen teachers into auxiliary branches (section
3.1). Everything that is specific to one kind of knowledge lives in one
:class:`BaseKnowledge` subclass; the recognizer, the pseudo-label cache and
pipeline, deployment, inference and the benchmark iterate over the configured
tasks (``model.knowledge``, a dict ``{name: task config}``) and never name one.

A task's data flows as follows (``fields`` are per-frame arrays named
``pseudo_<task>_<field>`` everywhere: in a cache entry, the pipeline results
and the data samples):

- online: ``teacher_fields(frames)`` on the augmented frames;
- cached: ``encode`` when extracting, ``decode`` when reading an entry,
  ``warp`` to follow the frames' crop and flip (``LoadPseudoLabels``);
- either way ``targets(fields, input_size)``, the one normalisation point,
  then ``loss(branch_map, targets)`` and, at validation,
  ``agreement(branch_map, targets)`` (student vs teacher).
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModule
from torch import Tensor

#: Where the auxiliary targets come from: the teachers run on every training
#: step (``'online'``), a cache read by the pipeline (``'cache'``), or nowhere
#: (``'none'``: inference and deployment, no auxiliary head is built).
PSEUDO_LABEL_SOURCES = ('online', 'cache', 'none')


class BaseKnowledge(BaseModule, metaclass=ABCMeta):
    """A kind of teacher knowledge distilled into one auxiliary branch.

    Subclasses set :attr:`fields` and implement the abstract methods; the
    ``name`` is the key of the task in ``model.knowledge`` and names the
    backbone branch, the AKG's node group and the pseudo-label fields.

    Args:
        name (str): The task's key in ``model.knowledge``; filled in by the
            recognizer.
        head (dict, optional): The head on the branch map. None: the task
            gives a branch but no loss (e.g. the Table 4 ablation, whose branch
            is a frozen teacher's features). Defaults to None.
        loss (dict, optional): The distillation loss; its ``loss_weight`` is
            the task's weight in eq. 6 (paper: 0.01). Defaults to None.
        teacher (dict, optional): The frozen teacher's config. Built only when
            ``build_teacher`` (online pseudo labels, extraction).
        build_teacher (bool): Whether to build ``teacher``; the recognizer
            passes ``pseudo_label_source == 'online'``. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    #: Per-frame pseudo-label fields (without the ``pseudo_<name>_`` prefix).
    fields: Tuple[str, ...] = ()

    def __init__(self,
                 name: str = '',
                 head: Optional[Dict] = None,
                 loss: Optional[Dict] = None,
                 teacher: Optional[Dict] = None,
                 build_teacher: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.name = name
        self.head = MODELS.build(head) if head is not None else None
        self.loss_module = (
            MODELS.build(loss) if head is not None and loss is not None else None)
        if self.head is not None and self.loss_module is None:
            raise ValueError(f'knowledge task {name!r} has a head but no loss: '
                             f'set model.knowledge.{name}.loss')
        self.teacher_cfg = teacher
        self.teacher = None
        if build_teacher and self.head is not None:
            if not teacher:
                raise ValueError(
                    f'online pseudo labels need a teacher for knowledge task '
                    f'{name!r}: set model.knowledge.{name}.teacher, or '
                    "pseudo_label_source='cache' to read them from the data.")
            self.teacher = MODELS.build(teacher)

    # ------------------------------------------------------------------
    # Names
    # ------------------------------------------------------------------

    def key(self, field: str) -> str:
        """The name of one of this task's fields: ``pseudo_<name>_<field>``."""
        return f'pseudo_{self.name}_{field}'

    @property
    def keys(self) -> Tuple[str, ...]:
        """Every field's name (:meth:`key`)."""
        return tuple(self.key(field) for field in self.fields)

    @property
    def distils(self) -> bool:
        """Whether the task has a head, hence targets and a loss."""
        return self.head is not None

    # ------------------------------------------------------------------
    # Teacher side
    # ------------------------------------------------------------------

    @abstractmethod
    def teacher_fields(self, frames: Tensor) -> Dict[str, Tensor]:
        """The teacher's fields for ``(B, 3, H, W)`` 0-255 RGB frames, keyed
        by :meth:`key`, each ``(B, ...)``."""

    def teacher_prediction(self, frames: Tensor) -> Tensor:
        """The teacher's output for ``(B, 3, H, W)`` 0-255 RGB frames in the
        format of :meth:`predict` (what :meth:`draw` shows)."""
        return self.teacher(frames).float()

    def cached_fields(self, data_samples: SampleList) -> Dict[str, Tensor]:
        """This task's fields as ``PackKINetInputs`` put them in the samples,
        concatenated over the batch."""
        missing = [key for key in self.keys if key not in data_samples[0]]
        if missing:
            raise KeyError(
                f'No cached pseudo labels for knowledge task {self.name!r}: '
                f'the data samples lack {missing}. Add LoadPseudoLabels and '
                'PackKINetInputs to the pipeline (and this task to the cache: '
                "tools/extract_pseudo_labels.py), or use "
                "pseudo_label_source='online'.")
        return {
            key: torch.cat([sample.get(key) for sample in data_samples])
            for key in self.keys
        }

    @abstractmethod
    def targets(self, fields: Dict[str, Tensor], input_size: Sequence[int]):
        """Loss targets from online or cached fields (the one normalisation
        point of the task). ``input_size`` is the frames' ``(H, W)``."""

    # ------------------------------------------------------------------
    # Student side
    # ------------------------------------------------------------------

    @abstractmethod
    def loss(self, branch_map: Tensor, targets) -> Tensor:
        """The weighted distillation loss of ``(B, d, h, w)`` branch maps."""

    @abstractmethod
    def predict(self, branch_map: Tensor, input_size: Sequence[int]) -> Tensor:
        """What the student predicts, for inference and the panels (``(B,
        ...)`` probabilities or coordinates, see the subclass)."""

    @abstractmethod
    def agreement(self, branch_map: Tensor, targets) -> Dict[str, Tensor]:
        """Student-vs-teacher statistics of a batch: ``{metric: (2, )}``
        tensors ``[numerator, denominator]`` that
        :class:`~kinet_mm.evaluation.KnowledgeAgreementMetric` sums over the
        dataset and divides."""

    # ------------------------------------------------------------------
    # Cache side (no head or teacher needed)
    # ------------------------------------------------------------------

    def cache_settings(self) -> Dict:
        """What decides the stored values besides the teacher (``meta.json``;
        ``LoadPseudoLabels`` rebuilds the task from it to decode entries)."""
        return dict(type=type(self).__name__)

    @abstractmethod
    def encode(self, fields: Dict[str, Tensor],
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        """Per-frame cache arrays ``(T, ...)`` for the teacher fields of
        ``T`` frames of a video whose frames are ``frame_shape``."""

    def teacher_meta(self) -> Dict:
        """What identifies the teacher's output (``meta.json``)."""
        return dict(self.teacher.fingerprint)

    @abstractmethod
    def decode(self, arrays: Dict[str, np.ndarray], num: int,
               frame_shape: Tuple[int, int]) -> Dict[str, np.ndarray]:
        """Per-frame fields ``(num, ...)`` of a cache entry's arrays (of a
        video of ``frame_shape`` frames). Raises ValueError (naming the array)
        on inconsistent shapes."""

    @abstractmethod
    def warp(self, fields: Dict[str, np.ndarray], results: Dict,
             mask_stride: int) -> Dict[str, np.ndarray]:
        """The stored fields of the sampled frames, made to follow the
        pipeline's crop, resize and flip (``crop_quadruple``, ``img_shape``,
        ``flip``, ``flip_direction`` of ``results``)."""

    @abstractmethod
    def random_fields(self, num: int, input_size: Sequence[int],
                      generator: torch.Generator) -> Dict[str, Tensor]:
        """Random fields as a cache would give them, for the benchmark."""

    # ------------------------------------------------------------------
    # Presentation
    # ------------------------------------------------------------------

    @abstractmethod
    def describe(self,
                 prediction: Tensor,
                 class_names: Optional[Sequence[str]] = None) -> Dict:
        """JSON-ready summary of one frame's :meth:`predict` output."""

    @abstractmethod
    def draw(self,
             ax,
             prediction: Tensor,
             class_names: Optional[Sequence[str]] = None) -> str:
        """Draw one frame's prediction on a matplotlib axis showing the frame;
        return a caption line."""

    def class_names(self, label_map: Optional[str] = None) -> Optional[Sequence[str]]:
        """Names of the predicted classes, if the task has any."""
        return None

    def extra_repr(self) -> str:
        return f'name={self.name!r}, distils={self.distils}'


def split_rows(value, num: int, index: int):
    """Rows ``index`` of ``num`` equal chunks of a tensor, or of every tensor
    of a dict (targets of several fields)."""
    if isinstance(value, dict):
        return {key: split_rows(v, num, index) for key, v in value.items()}
    return value.chunk(num)[index]


def ratio(numerator, denominator) -> Tensor:
    """``[numerator, denominator]`` as a float tensor, for :meth:`agreement`."""
    return torch.tensor([float(numerator), float(denominator)])
