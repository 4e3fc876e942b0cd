"""The three loss terms of knowledge distillation for early recognition.

From "knowledge distillation for early action recognition"
(``../shared/papers/early_recognition_kd.txt``): a video is cut into ``N``
equal parts (progression levels); the recurrent student has seen the prefix
``x_1 .. x_n`` at step ``n`` and predicts at every step.

* :class:`StepwiseCrossEntropyLoss`, eq. (3): ``L_cls = 1/N sum_n CE(S(x_n), y)``
  on labelled sequences only.
* :class:`StepwiseKLDivLoss`, eq. (1): ``L_ts = sum_n KL(T(x_n) || S(x_n))``, the
  frozen teacher's distribution is the target.
* :class:`SelfDistillationLoss`, eq. (2): ``L_self = sum_n KL(S(x_{n+tau}) ||
  S(x_n))``, the student's own later prediction (gradient stopped) is the target.

Each is weighted by its ``loss_weight``, so eq. (4) ``L = L_cls + alpha L_ts +
beta L_self`` is ``alpha = loss_ts.loss_weight``, ``beta = loss_self.loss_weight``.
Per-sequence losses are averaged over the sequences of the batch.
"""
import torch.nn.functional as F
from mmaction.models.losses import BaseWeightedLoss
from mmaction.registry import MODELS
from torch import Tensor

#: Label of a sequence without annotation (semi-supervised training).
UNLABELLED = -1


def _check_steps(name: str, scores: Tensor) -> None:
    if scores.dim() != 3:
        raise ValueError(f'{name} must be (batch, num_levels, num_classes) '
                         f'logits, got shape {tuple(scores.shape)}.')


def stepwise_kl(target_logits: Tensor, pred_logits: Tensor) -> Tensor:
    """``KL(softmax(target) || softmax(pred))`` at every step.

    Args:
        target_logits (Tensor): ``(B, N, K)`` logits of the target
            distribution (the first argument of KL).
        pred_logits (Tensor): ``(B, N, K)`` logits being trained.

    Returns:
        Tensor: ``(B, N)`` divergences in nats.
    """
    log_p = F.log_softmax(target_logits, dim=-1)
    log_q = F.log_softmax(pred_logits, dim=-1)
    # kl_div(input=log q, target=log p) = sum p (log p - log q) = KL(p || q).
    return F.kl_div(log_q, log_p, reduction='none', log_target=True).sum(-1)


@MODELS.register_module()
class StepwiseCrossEntropyLoss(BaseWeightedLoss):
    """Eq. (3): cross entropy at every progression level, averaged over levels.

    Sequences whose label is :data:`UNLABELLED` (-1) contribute nothing (the
    semi-supervised setting: they only enter the distillation terms). The mean
    is over labelled sequences; a batch without any gives a zero that still
    belongs to the graph.

    Args:
        loss_weight (float): Factor on the loss. Defaults to 1.0.
    """

    def _forward(self, cls_scores: Tensor, labels: Tensor) -> Tensor:
        """
        Args:
            cls_scores (Tensor): ``(B, N, K)`` logits of every step.
            labels (Tensor): ``(B, )`` class indices, -1 for unlabelled.

        Returns:
            Tensor: Scalar loss.
        """
        _check_steps('cls_scores', cls_scores)
        labels = labels.reshape(-1).long()
        if labels.numel() != cls_scores.shape[0]:
            raise ValueError(f'{labels.numel()} labels for a batch of '
                             f'{cls_scores.shape[0]} sequences.')
        labelled = labels != UNLABELLED
        if not labelled.any():
            return cls_scores.sum() * 0
        scores = cls_scores[labelled]
        num_levels = scores.shape[1]
        targets = labels[labelled][:, None].expand(-1, num_levels)
        per_step = F.cross_entropy(
            scores.flatten(0, 1), targets.flatten(), reduction='none')
        return per_step.reshape(-1, num_levels).mean(dim=1).mean()


@MODELS.register_module()
class StepwiseKLDivLoss(BaseWeightedLoss):
    """Eq. (1): teacher-student distillation ``sum_n KL(T(x_n) || S(x_n))``.

    The teacher's distribution is the target: the divergence is measured from
    it (``sum_k T_k log(T_k / S_k)``), and no gradient reaches the teacher.
    Every sequence counts, labelled or not.

    Args:
        loss_weight (float): ``alpha`` of eq. (4). Defaults to 1.0.
    """

    def _forward(self, student_scores: Tensor, teacher_scores: Tensor) -> Tensor:
        """
        Args:
            student_scores (Tensor): ``(B, N, K)`` student logits.
            teacher_scores (Tensor): ``(B, N, K)`` teacher logits.

        Returns:
            Tensor: Scalar loss, summed over steps, averaged over sequences.
        """
        _check_steps('student_scores', student_scores)
        if teacher_scores.shape != student_scores.shape:
            raise ValueError(
                f'teacher scores {tuple(teacher_scores.shape)} and student '
                f'scores {tuple(student_scores.shape)} differ; both heads need '
                'the same num_classes and the same progression levels.')
        return stepwise_kl(teacher_scores.detach(), student_scores).sum(1).mean()


@MODELS.register_module()
class SelfDistillationLoss(BaseWeightedLoss):
    """Eq. (2): self-distillation ``sum_n KL(S(x_{n+tau}) || S(x_n))``.

    The student's prediction ``tau`` levels later has seen more of the action
    and is the target for the earlier one; it is treated as a constant
    (stop-gradient), so only the earlier prediction is pulled, never the later
    one pushed back. Steps ``n = 1 .. N - tau`` have a target.

    Args:
        lead_time (int): ``tau``, levels to peek ahead. Defaults to 1.
        loss_weight (float): ``beta`` of eq. (4). Defaults to 1.0.
    """

    def __init__(self, lead_time: int = 1, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight=loss_weight)
        if lead_time < 1:
            raise ValueError(f'lead_time (tau) must be >= 1, got {lead_time}.')
        self.lead_time = lead_time

    def _forward(self, student_scores: Tensor) -> Tensor:
        """
        Args:
            student_scores (Tensor): ``(B, N, K)`` student logits.

        Returns:
            Tensor: Scalar loss, summed over steps, averaged over sequences.
        """
        _check_steps('student_scores', student_scores)
        tau = self.lead_time
        if tau >= student_scores.shape[1]:
            raise ValueError(
                f'lead_time {tau} leaves no step to distil in sequences of '
                f'{student_scores.shape[1]} levels; use a smaller lead_time.')
        later = student_scores[:, tau:].detach()
        return stepwise_kl(later, student_scores[:, :-tau]).sum(1).mean()
