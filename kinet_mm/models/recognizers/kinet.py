"""The KINet recognizer: three branches, knowledge integration, distillation."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmaction.models.recognizers import Recognizer2D
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import ModuleDict
from torch import Tensor

from ...utils.frames import preprocessed_to_rgb
from ..knowledge import build_knowledge
from ..knowledge.base import split_rows
from ..teachers import BaseTeacher
from ..utils.batch_norm import freeze_batch_norms

STAGES = ('backbone', 'neck', 'head')
#: Model keys of kinet_mm < 0.3, before ``knowledge`` (docs/knowledge.md):
#: ``<task>_head``, ``loss_<task>``, ``teachers`` and ``pseudo_labeler``.
LEGACY_KEYS = ('teachers', 'pseudo_labeler')


@MODELS.register_module()
class KINet(Recognizer2D):
    """Knowledge Integration Network (Zhang et al., AAAI 2020).

    A TSN-style 2D recognizer whose :class:`KINetBackbone` gives one feature map
    per branch: the action branch and one auxiliary branch per kind of
    knowledge (``knowledge``: human parsing and scene in the paper). The
    action map (or, for a head that ``fuses_branches`` such as
    :class:`AKGHead`, all of them) goes to ``cls_head``. In loss mode each
    task's head (:mod:`kinet_mm.models.knowledge`) learns its teacher's pseudo
    labels from its branch map: frozen teachers run on the augmented frames
    (``pseudo_label_source='online'``) or labels are read from a cache
    (``'cache'``). Prediction runs neither the auxiliary heads nor the
    teachers (unless ``test_cfg.knowledge_agreement`` asks to measure the
    student against its teachers).

    Loss: ``L = L_action + sum_k w_k L_k`` (eq. 6); ``w_k`` is the
    ``loss_weight`` of task ``k``'s ``loss`` (paper: 0.01 for human and scene).

    Args:
        backbone (dict): A :class:`KINetBackbone` config. Its
            ``aux_branches`` are the tasks' names (filled in).
        cls_head (dict): Action head (``AKGHead``, whose ``num_branches`` is
            filled in, or e.g. ``TSNHead`` for the multitask ablations).
        knowledge (dict, optional): ``{name: task config}``, e.g.
            ``human=dict(type='HumanParsingKnowledge', head=..., loss=...,
            teacher=...)``; an entry set to None is dropped (how a config
            removes an inherited task). Defaults to None: a TSN.
        pseudo_label_source (str): ``'online'``, ``'cache'`` or ``'none'``
            (no teacher and no auxiliary head: inference and deployment; see
            :func:`kinet_mm.models.knowledge.teacher_free`). Defaults to
            ``'online'``.
        kwargs: ``train_cfg``, ``test_cfg``, ``data_preprocessor``, ``init_cfg``
            as in :class:`Recognizer2D`. ``test_cfg`` may set ``num_segs``
            (segments per test view, e.g. with TenCrop), ``window_size`` (the
            AKG's sliding window), ``max_testing_views`` and
            ``knowledge_agreement`` (attach each task's student-vs-teacher
            statistics to the predictions, for
            :class:`~kinet_mm.evaluation.KnowledgeAgreementMetric`).
    """

    def __init__(self,
                 backbone: Dict,
                 cls_head: Dict,
                 knowledge: Optional[Dict] = None,
                 pseudo_label_source: str = 'online',
                 **kwargs) -> None:
        legacy = [
            key for key in kwargs
            if key in LEGACY_KEYS or key.startswith('loss_') or key.endswith('_head')
        ]
        if legacy:
            raise ValueError(
                f'KINet no longer takes {legacy}: auxiliary heads, losses '
                'and teachers are model.knowledge.<task>.{head,loss,teacher}, '
                'and pseudo_labeler is pseudo_label_source (docs/knowledge.md, '
                '"From the old keys").')
        if kwargs.get('neck') is not None:
            raise ValueError(
                'KINet takes no neck: its head reads one map per branch and '
                'segment (the AKG builds its graph from them), which a neck '
                'such as TPN would fuse away. Remove `neck` from the config.')
        if (kwargs.get('test_cfg') or {}).get('fcn_test'):
            raise ValueError('KINet does not support fcn_test: remove it from '
                             'test_cfg.')
        tasks = build_knowledge(dict(knowledge=knowledge), pseudo_label_source)
        super().__init__(
            backbone=_with_branches(backbone, tuple(tasks)),
            cls_head=_with_nodes(cls_head, 1 + len(tasks)),
            **kwargs)
        self.pseudo_label_source = pseudo_label_source
        # MMEngine's ModuleDict, so init_weights reaches the heads' init_cfg.
        self.knowledge = ModuleDict(tasks)
        # Teachers load their own checkpoints when built: keep them out of the
        # student's (a ResNet-152 would add ~240 MB to every saved epoch).
        self.register_state_dict_post_hook(_drop_teacher_weights)
        self.register_load_state_dict_post_hook(_ignore_missing_teacher_weights)

    def train(self, mode: bool = True) -> 'KINet':
        """Set the mode; with the backbone's ``partial_bn``, the heads'
        BatchNorms (e.g. the human decoder's) are frozen too, so only the
        trunk's first BatchNorm trains anywhere in the model."""
        super().train(mode)
        if mode and getattr(self.backbone, 'partial_bn', False):
            freeze_batch_norms(self.cls_head, self.knowledge)
        return self

    @property
    def distilling(self) -> Dict:
        """The tasks that have a head, hence targets and a loss."""
        return {name: task for name, task in self.knowledge.items() if task.distils}

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'neck',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[Union[tuple, Tensor], Dict]:
        """Branch maps (``stage='backbone'`` or ``'neck'``: KINet has no neck,
        so both are the backbone's) or action scores (``'head'``).

        The backbone runs in chunks of ``test_cfg.max_testing_views`` frames
        when testing.

        Args:
            inputs (Tensor): ``(N, num_views * num_segs, 3, H, W)``.
            stage (str): ``'backbone'``, ``'neck'`` or ``'head'``.
            data_samples (list, optional): Unused, for API compatibility.
            test_mode (bool): Whether called from ``predict``.

        Returns:
            tuple: Branch maps ``(N * num_views * num_segs, d, h, w)`` each (or
            ``(N, num_classes)`` scores for ``stage='head'``) and the head's
            kwargs (``num_segs``, and ``window_size`` when testing with one).
        """
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        test_cfg = (self.test_cfg or {}) if test_mode else {}
        feats, num_segs = self.branch_maps(inputs, test_cfg)
        head_kwargs = dict(num_segs=num_segs)
        if test_cfg.get('window_size'):
            head_kwargs['window_size'] = test_cfg['window_size']
        if stage == 'head':
            return self.cls_head(self.head_input(feats), **head_kwargs), head_kwargs
        return feats, head_kwargs

    def branch_maps(self, inputs: Tensor, test_cfg: Dict) -> Tuple[tuple, int]:
        """The backbone's maps, one per segment, and the segments of a view.

        Args:
            inputs (Tensor): ``(N, num_views * num_segs, 3, H, W)``.
            test_cfg (dict): ``test_cfg`` when testing, else empty.

        Returns:
            tuple: Branch maps ``(N * num_views * num_segs, d, h, w)`` each,
            and ``num_segs``.
        """
        num_segs = self._segments_per_view(inputs.shape[1], test_cfg.get('num_segs'))
        return self._run_backbone(inputs.flatten(0, 1), test_cfg), num_segs

    def _run_backbone(self, batch: Tensor, test_cfg: Dict) -> tuple:
        """The backbone on ``batch``, ``test_cfg.max_testing_views`` inputs
        at a time when set (bounded memory at test time)."""
        chunk = test_cfg.get('max_testing_views')
        if not chunk:
            return self.backbone(batch)
        parts = [self.backbone(part) for part in batch.split(chunk)]
        return tuple(torch.cat(maps) for maps in zip(*parts))

    @staticmethod
    def _segments_per_view(num_frames: int, num_segs: Optional[int]) -> int:
        """Segments of one view: ``test_cfg.num_segs`` (the test protocol's
        25), or all of an input that has fewer (a 3-segment validation
        pipeline is one view)."""
        if not num_segs or num_frames <= num_segs:
            return num_frames
        if num_frames % num_segs:
            raise ValueError(f'KINet test_cfg.num_segs={num_segs} does not divide the '
                             f'{num_frames} frames of a test input: the test pipeline '
                             'should give views of num_segs segments (SampleFrames '
                             'num_clips x crops), or set test_cfg.num_segs to match')
        return num_segs

    def head_input(self, feats: tuple) -> Union[tuple, Tensor]:
        """What ``cls_head`` reads: every branch map if it fuses branches (AKG),
        else the action map."""
        return feats if getattr(self.cls_head, 'fuses_branches', False) else feats[0]

    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> Dict:
        """Action loss plus each task's weighted distillation loss
        (``loss_<task>``)."""
        feats, head_kwargs = self.extract_feat(inputs)
        losses = self.cls_head.loss(self.head_input(feats), data_samples, **head_kwargs)
        if not self.distilling:
            return losses
        by_branch = dict(zip(self.backbone.branch_names, feats))
        targets = self.pseudo_labels(
            inputs, data_samples, num_segs=head_kwargs['num_segs'])
        for name, task in self.distilling.items():
            losses[f'loss_{name}'] = task.loss(by_branch[name], targets[name])
        return losses

    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        """Action predictions; no auxiliary head or teacher runs unless
        ``test_cfg.knowledge_agreement`` is set, which adds each sample's
        ``knowledge_agreement`` statistics (:meth:`agreement`)."""
        feats, head_kwargs = self.extract_feat(inputs, test_mode=True)
        predictions = self.cls_head.predict(
            self.head_input(feats), data_samples, **head_kwargs)
        if (self.test_cfg or {}).get('knowledge_agreement') and self.distilling:
            for sample, stats in zip(
                    predictions,
                    self.agreement(inputs, data_samples, feats,
                                   head_kwargs['num_segs'])):
                sample.set_field(stats, 'knowledge_agreement', field_type='metainfo')
        return predictions

    @torch.no_grad()
    def agreement(self, inputs: Tensor, data_samples: SampleList, feats: tuple,
                  num_segs: int) -> List[Dict[str, Tensor]]:
        """Per sample, every task's student-vs-teacher statistics
        (``{'<task>/<metric>': [numerator, denominator]}``), against cached
        labels when the samples carry them, else the online teachers."""
        by_branch = dict(zip(self.backbone.branch_names, feats))
        targets = self.pseudo_labels(inputs, data_samples, num_segs)
        stats = [{} for _ in data_samples]
        for name, task in self.distilling.items():
            for index, sample_stats in enumerate(stats):
                part = task.agreement(
                    split_rows(by_branch[name], len(stats), index),
                    split_rows(targets[name], len(stats), index))
                sample_stats.update({
                    f'{name}/{metric}': value
                    for metric, value in part.items()
                })
        return stats

    @torch.no_grad()
    def predict_auxiliary(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Every task's own prediction (:meth:`BaseKnowledge.predict`), for
        visualisation and analysis; not part of :meth:`predict` (the paper
        drops these heads at inference).

        Args:
            inputs (Tensor): Normalised frames ``(N, num_segs, 3, H, W)``.

        Returns:
            dict: ``{task: (N * num_segs, ...)}``, e.g. human ``(N * num_segs,
            H, W)`` probabilities, scene ``(N * num_segs, K)``.
        """
        feats, _ = self.extract_feat(inputs)
        by_branch = dict(zip(self.backbone.branch_names, feats))
        return {
            name: task.predict(by_branch[name], inputs.shape[-2:])
            for name, task in self.distilling.items()
        }

    def pseudo_labels(self,
                      inputs: Tensor,
                      data_samples: SampleList,
                      num_segs: Optional[int] = None) -> Dict:
        """Every distilling task's targets for the branch maps of a batch.

        Fields come from the samples when they carry them (a cache through
        ``LoadPseudoLabels``), else from the task's teacher on the frames
        (:meth:`teacher_frames`); each task then makes its targets.

        Args:
            inputs (Tensor): The preprocessed batch.
            data_samples (list[ActionDataSample]): The batch's samples.
            num_segs (int, optional): Branch maps per input view, one target
                each (:meth:`teacher_frames`). Defaults to None: every segment.

        Returns:
            dict: ``{task: targets}`` (see each task's ``targets``).
        """
        targets, frames = {}, None
        for name, task in self.distilling.items():
            if all(key in data_samples[0] for key in task.keys):
                fields = task.cached_fields(data_samples)
            elif task.teacher is not None:
                if frames is None:
                    frames = self.teacher_frames(inputs, num_segs)
                fields = task.teacher_fields(frames)
            else:
                fields = task.cached_fields(data_samples)  # names the fix
            targets[name] = task.targets(fields, inputs.shape[-2:])
        return targets

    def teacher_frames(self, inputs: Tensor, num_segs: Optional[int] = None) -> Tensor:
        """The 0-255 RGB frames the teachers label, one per branch map: in 2D
        every segment's frame (``num_segs`` is ``inputs.shape[1]``)."""
        return self.rgb_frames(inputs)

    def rgb_frames(self, inputs: Tensor) -> Tensor:
        """The preprocessed inputs ``(N, num_segs, 3, H, W)`` back as 0-255 RGB
        frames ``(N * num_segs, 3, H, W)``: what the teachers see."""
        return preprocessed_to_rgb(inputs, self.data_preprocessor)


def _teacher_prefixes(module: torch.nn.Module):
    return tuple(f'{name}.' for name, sub in module.named_modules()
                 if name and isinstance(sub, BaseTeacher))


def _drop_teacher_weights(module, state_dict, prefix, local_metadata) -> None:
    teachers = tuple(prefix + p for p in _teacher_prefixes(module))
    for key in [k for k in state_dict if k.startswith(teachers)]:
        del state_dict[key]


def _ignore_missing_teacher_weights(module, incompatible_keys) -> None:
    # Keys are relative to the outermost module (a wrapper may add 'module.').
    teachers = _teacher_prefixes(module)
    missing = incompatible_keys.missing_keys
    missing[:] = [
        k for k in missing
        if not any(k.startswith(p) or f'.{p}' in k for p in teachers)
    ]


def _with_branches(backbone: Dict, names: Tuple[str, ...]) -> Dict:
    """The backbone config with one auxiliary branch per task."""
    given = backbone.get('aux_branches')
    if given is not None and tuple(given) != names:
        raise ValueError(
            f'backbone.aux_branches={tuple(given)} disagrees with the '
            f'knowledge tasks {names}: remove aux_branches from the backbone '
            'config, it is derived from model.knowledge.')
    return dict(backbone, aux_branches=names)


def _with_nodes(cls_head: Dict, num_branches: int) -> Dict:
    """The head config with the AKG's node groups derived from the tasks."""
    head_cls = MODELS.get(cls_head['type']) if isinstance(cls_head.get('type'),
                                                          str) else cls_head.get('type')
    if not getattr(head_cls, 'fuses_branches', False):
        return cls_head
    given = cls_head.get('num_branches')
    if given is not None and given != num_branches:
        raise ValueError(
            f'cls_head.num_branches={given} but the model has {num_branches} '
            'branches (action + one per knowledge task): remove num_branches '
            'from the head config, it is derived from model.knowledge.')
    return dict(cls_head, num_branches=num_branches)
