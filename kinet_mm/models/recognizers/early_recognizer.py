"""Early action recognition from segment features, with knowledge distillation."""
import os.path as osp
from typing import Dict, List, Optional, Union

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor

from ..losses.early_recognition_loss import UNLABELLED

#: Prefix of the recogniser's own head in a checkpoint (stage 1 saves it).
HEAD_PREFIX = 'head.'
TEACHER_PREFIX = 'teacher.'


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the one a work dir's ``last_checkpoint`` names."""
    if osp.isdir(path):
        pointer = osp.join(path, 'last_checkpoint')
        if not osp.isfile(pointer):
            raise FileNotFoundError(
                f'teacher_checkpoint {path!r} is a directory without a '
                'last_checkpoint file: train the teacher stage into it first '
                '(tools/train.py TEACHER_CONFIG --work-dir ' + path + ').')
        with open(pointer, encoding='utf-8') as f:
            path = f.read().strip()
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'teacher checkpoint {path!r} not found; train the teacher stage '
            'first or set model.teacher_checkpoint.')
    return path


@MODELS.register_module()
class EarlyRecognizer(BaseModel):
    """A recurrent classifier over progression levels (early recognition).

    One class serves both stages of ``../shared/papers/early_recognition_kd.txt``:

    1. **Teacher stage**: ``head`` is a BiGRU :class:`GRUHead`, trained with
       ``loss_cls`` on fully observed sequences.
    2. **Student stage**: ``head`` is a unidirectional GRU; ``teacher`` is the
       BiGRU again, loaded from the stage-1 checkpoint (its ``head.*``
       weights), frozen (no gradient, always in eval mode) and used as the
       target of ``loss_ts``. Eq. (4): ``L = L_cls + alpha L_ts + beta L_self``
       with ``alpha``/``beta`` the ``loss_weight`` of ``loss_ts``/``loss_self``.
       Leaving out ``loss_ts`` (and ``teacher``) or ``loss_self`` gives the
       ablations (no distillation, teacher-student only).

    Semi-supervised: a sequence labelled -1 enters only the distillation terms.

    Inputs are ``(B, N, C)`` segment features (:class:`SegmentFeatureDataset`);
    data samples are :class:`ActionDataSample` with ``gt_label`` (-1 for
    unlabelled). Predictions fill ``level_scores`` ``(N, K)`` (probabilities
    after each observed prefix) and ``pred_score`` ``(K, )`` (full observation,
    so MMAction2's ``AccMetric`` also works).

    Args:
        head (dict): The trained :class:`GRUHead`.
        loss_cls (dict): Eq. (3) loss. Defaults to
            ``StepwiseCrossEntropyLoss``.
        teacher (dict, optional): Frozen teacher head (BiGRU). Required by
            ``loss_ts``.
        teacher_checkpoint (str, optional): Stage-1 checkpoint (file, or work
            dir holding ``last_checkpoint``) whose ``head.*`` weights become the
            teacher's; loaded in :meth:`init_weights`, i.e. when training
            starts. Without it the teacher stays random (tests only).
        loss_ts (dict, optional): Eq. (1) teacher-student loss.
        loss_self (dict, optional): Eq. (2) self-distillation loss.
        data_preprocessor (dict, optional): Defaults to MMEngine's
            ``BaseDataPreprocessor`` (moves data to the device).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 head: Dict,
                 loss_cls: Dict = dict(type='StepwiseCrossEntropyLoss'),
                 teacher: Optional[Dict] = None,
                 teacher_checkpoint: Optional[str] = None,
                 loss_ts: Optional[Dict] = None,
                 loss_self: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.head = MODELS.build(head)
        self.loss_cls = MODELS.build(loss_cls)
        if loss_ts is not None and teacher is None:
            raise ValueError('loss_ts (eq. 1) needs model.teacher, the frozen '
                             'BiGRU head of the teacher stage.')
        self.teacher = MODELS.build(teacher) if teacher is not None else None
        if self.teacher is not None:
            self.teacher.requires_grad_(False)
            self.teacher.eval()
        self.teacher_checkpoint = teacher_checkpoint
        self.loss_ts = MODELS.build(loss_ts) if loss_ts is not None else None
        self.loss_self = MODELS.build(loss_self) if loss_self is not None else None

    # -- teacher ---------------------------------------------------------------

    def init_weights(self) -> None:
        """Initialise the head, then load the frozen teacher's stage-1 weights.

        Loading here rather than in ``__init__`` keeps the teacher's weights
        from being re-initialised by the Runner, and lets ``tools/test.py``
        build the model without the stage-1 checkpoint (the student checkpoint
        carries the teacher too).
        """
        super().init_weights()
        if self.teacher is not None and self.teacher_checkpoint:
            self.load_teacher(self.teacher_checkpoint)

    def load_teacher(self, checkpoint: str) -> None:
        """Load ``head.*`` of a stage-1 checkpoint into :attr:`teacher`."""
        path = resolve_checkpoint(checkpoint)
        # Runner checkpoints load with weights_only=True (kinet_mm.compat
        # allow-lists their types), so a checkpoint cannot run code.
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
        state = ckpt.get('state_dict', ckpt)
        weights = {
            k[len(HEAD_PREFIX):]: v
            for k, v in state.items() if k.startswith(HEAD_PREFIX)
        }
        if not weights:
            raise KeyError(f'{path} has no {HEAD_PREFIX}* weights; is it a '
                           'checkpoint of the teacher stage (EarlyRecognizer '
                           'with a BiGRU head)?')
        try:
            self.teacher.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise RuntimeError(
                f'{path}: its head does not fit model.teacher ({err}); the '
                'teacher config must equal the head of the teacher stage.') from err
        print_log(f'Loaded the frozen teacher from {path}', logger='current')

    def train(self, mode: bool = True) -> 'EarlyRecognizer':
        """Switch the student; the frozen teacher stays in eval mode."""
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    # -- forward ---------------------------------------------------------------

    def forward(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'):
        """``mode``: ``'tensor'`` -> ``(B, N, K)`` logits, ``'loss'`` -> dict of
        losses, ``'predict'`` -> data samples with ``level_scores``."""
        inputs = torch.stack(inputs) if isinstance(inputs, (list, tuple)) \
            else inputs
        if mode == 'tensor':
            return self.head(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode {mode!r}: use tensor, loss or predict.')

    def loss(self, inputs: Tensor,
             data_samples: List[ActionDataSample]) -> Dict[str, Tensor]:
        """Eq. (4) terms of a batch.

        Args:
            inputs (Tensor): ``(B, N, C)`` segment features.
            data_samples (list[ActionDataSample]): ``gt_label`` -1 marks an
                unlabelled sequence.
        """
        logits = self.head(inputs)
        labels = torch.cat([s.gt_label.reshape(-1) for s in data_samples])
        losses = dict(loss_cls=self.loss_cls(logits, labels.to(logits.device)))
        if self.loss_ts is not None:
            with torch.no_grad():
                teacher_logits = self.teacher(inputs)
            losses['loss_ts'] = self.loss_ts(logits, teacher_logits)
        if self.loss_self is not None:
            losses['loss_self'] = self.loss_self(logits)
        return losses

    def predict(self, inputs: Tensor,
                data_samples: List[ActionDataSample]) -> List[ActionDataSample]:
        """Class probabilities after every observed prefix."""
        probs = self.head(inputs).softmax(dim=-1)
        for sample, level_scores in zip(data_samples, probs):
            sample.set_field(level_scores, 'level_scores')
            sample.set_pred_score(level_scores[-1])
        return data_samples


__all__ = ['EarlyRecognizer', 'UNLABELLED']
