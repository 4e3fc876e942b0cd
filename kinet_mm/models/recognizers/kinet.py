"""The KINet recognizer: three branches, knowledge integration, distillation."""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.models.recognizers import Recognizer2D
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import ModuleDict
from torch import Tensor

from ...pseudo_labels.labelers import OnlinePseudoLabeler
from ...utils.frames import preprocessed_to_rgb
from ..teachers import BaseTeacher
from ..utils.batch_norm import freeze_batch_norms

PSEUDO_LABEL_SOURCES = dict(online='OnlinePseudoLabeler',
                            cache='CachedPseudoLabeler')
STAGES = ('backbone', 'neck', 'head')


@MODELS.register_module()
class KINet(Recognizer2D):
    """Knowledge Integration Network (Wang et al., AAAI 2020).

    A TSN-style 2D recognizer whose :class:`KINetBackbone` gives one feature map
    per branch (action, human, scene). The action map (or, for a head that
    ``fuses_branches`` such as :class:`AKGHead`, all of them) goes to
    ``cls_head``. In loss mode the human branch also feeds a parsing decoder and
    the scene branch a scene classifier, trained on the targets of a
    pseudo-labeler (:mod:`kinet_mm.pseudo_labels.labelers`): frozen teachers run
    on the augmented frames, or labels read from a cache. Prediction never runs
    the auxiliary heads or the teachers.

    Loss: ``L = L_action + w_h * L_human + w_s * L_scene`` (eq. 6); the weights are
    the ``loss_weight`` of ``loss_human`` and ``loss_scene`` (paper: 0.01 each).

    Args:
        backbone (dict): A :class:`KINetBackbone` config.
        cls_head (dict): Action head (``AKGHead``, or e.g. ``TSNHead`` for the
            multitask ablations without AKG).
        human_head (dict, optional): Decoder on the human map, giving
            ``(N * num_segs, 2, h, w)`` logits. Needs a ``human`` branch.
        scene_head (dict, optional): Classifier on the pooled scene map.
        pseudo_labeler (dict, optional): Where the auxiliary heads' targets come
            from: ``dict(type='OnlinePseudoLabeler', ...)`` or
            ``dict(type='CachedPseudoLabeler', ...)`` (with ``mask_stride``,
            ``scene_target``). Its ``branches`` and ``num_scene_classes`` are
            filled in from the heads, and an online labeler without
            ``teachers`` takes ``teachers``. Defaults to None: built from
            ``pseudo_label_source``.
        teachers (dict, optional): ``dict(human=..., scene=...)`` teacher configs
            of the online labeler; also what ``tools/extract_pseudo_labels.py``
            runs to build a cache.
        pseudo_label_source (str, optional): Shortcut for ``pseudo_labeler``:
            ``'online'`` (the default) or ``'cache'``.
        loss_human (dict): Loss of the human decoder.
        loss_scene (dict): Loss of the scene classifier.
        kwargs: ``train_cfg``, ``test_cfg``, ``data_preprocessor``, ``init_cfg``
            as in :class:`Recognizer2D`. ``test_cfg`` may set ``num_segs``
            (segments per test view, e.g. with TenCrop), ``window_size`` (the
            AKG's sliding window) and ``max_testing_views``.
    """

    def __init__(self,
                 backbone: Dict,
                 cls_head: Dict,
                 human_head: Optional[Dict] = None,
                 scene_head: Optional[Dict] = None,
                 pseudo_labeler: Optional[Dict] = None,
                 teachers: Optional[Dict] = None,
                 pseudo_label_source: Optional[str] = None,
                 loss_human: Dict = dict(type='CrossEntropyLoss', loss_weight=0.01),
                 loss_scene: Dict = dict(type='CrossEntropyLoss', loss_weight=0.01),
                 **kwargs) -> None:
        if kwargs.get('neck') is not None:
            raise ValueError(
                'KINet takes no neck: its head reads one map per branch and '
                'segment (the AKG builds its graph from them), which a neck '
                'such as TPN would fuse away. Remove `neck` from the config.')
        if (kwargs.get('test_cfg') or {}).get('fcn_test'):
            raise ValueError('KINet does not support fcn_test: remove it from '
                             'test_cfg.')
        super().__init__(backbone=backbone, cls_head=cls_head, **kwargs)
        branches = self.backbone.branch_names
        # MMEngine's ModuleDict, so init_weights reaches the heads' init_cfg.
        self.aux_heads = ModuleDict()
        for name, head in (('human', human_head), ('scene', scene_head)):
            if head is None:
                continue
            if name not in branches:
                raise ValueError(f'{name}_head needs a {name!r} branch; the backbone '
                                 f'has {branches}')
            self.aux_heads[name] = MODELS.build(head)
        self.pseudo_labeler = self._build_pseudo_labeler(
            pseudo_labeler, pseudo_label_source, teachers)
        # Teachers load their own checkpoints when built: keep them out of the
        # student's (a ResNet-152 would add ~240 MB to every saved epoch).
        self.register_state_dict_post_hook(_drop_teacher_weights)
        self.register_load_state_dict_post_hook(_ignore_missing_teacher_weights)
        self.loss_human = MODELS.build(loss_human)
        self.loss_scene = MODELS.build(loss_scene)

    def _build_pseudo_labeler(self, cfg: Optional[Dict], source: Optional[str],
                              teachers: Optional[Dict]):
        if cfg is not None and source is not None:
            raise ValueError('Set either pseudo_labeler or its shortcut '
                             'pseudo_label_source, not both.')
        if cfg is None:
            source = source or 'online'
            if source not in PSEUDO_LABEL_SOURCES:
                raise ValueError('pseudo_label_source must be one of '
                                 f'{sorted(PSEUDO_LABEL_SOURCES)}, got {source!r}')
            cfg = dict(type=PSEUDO_LABEL_SOURCES[source])
        if not self.aux_heads:
            return None  # nothing to distil: no teacher is built
        cfg = dict(cfg, branches=tuple(self.aux_heads))
        if 'scene' in self.aux_heads:
            cfg.setdefault('num_scene_classes', self.aux_heads['scene'].num_classes)
        if cfg['type'] in ('OnlinePseudoLabeler', OnlinePseudoLabeler):
            cfg.setdefault('teachers', teachers)
        return MODELS.build(cfg)

    def train(self, mode: bool = True) -> 'KINet':
        """Set the mode; with the backbone's ``partial_bn``, the heads'
        BatchNorms (e.g. the human decoder's) are frozen too, so only the
        trunk's first BatchNorm trains anywhere in the model."""
        super().train(mode)
        if mode and getattr(self.backbone, 'partial_bn', False):
            freeze_batch_norms(self.cls_head, self.aux_heads)
        return self

    @property
    def teachers(self) -> torch.nn.ModuleDict:
        """The online pseudo-labeler's teachers (empty in cache mode)."""
        return getattr(self.pseudo_labeler, 'teachers', torch.nn.ModuleDict())

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
        num_segs = self._segments_per_view(inputs.shape[1],
                                           test_cfg.get('num_segs'))
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
            raise ValueError(
                f'KINet test_cfg.num_segs={num_segs} does not divide the '
                f'{num_frames} frames of a test input: the test pipeline '
                'should give views of num_segs segments (SampleFrames '
                'num_clips x crops), or set test_cfg.num_segs to match')
        return num_segs

    def head_input(self, feats: tuple) -> Union[tuple, Tensor]:
        """What ``cls_head`` reads: every branch map if it fuses branches (AKG),
        else the action map."""
        return feats if getattr(self.cls_head, 'fuses_branches', False) else feats[0]

    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> Dict:
        """Action loss plus the weighted distillation losses of the aux heads."""
        feats, head_kwargs = self.extract_feat(inputs)
        losses = self.cls_head.loss(self.head_input(feats), data_samples,
                                    **head_kwargs)
        if not self.aux_heads:
            return losses
        by_branch = dict(zip(self.backbone.branch_names, feats))
        targets = self.pseudo_labels(inputs, data_samples,
                                     num_segs=head_kwargs['num_segs'])
        if 'human' in self.aux_heads:
            losses['loss_human'] = self.human_loss(by_branch['human'],
                                                   targets['human'])
        if 'scene' in self.aux_heads:
            losses['loss_scene'] = self.scene_loss(by_branch['scene'],
                                                   targets['scene'])
        return losses

    def predict(self, inputs: Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Action predictions only: no auxiliary head or teacher runs."""
        feats, head_kwargs = self.extract_feat(inputs, test_mode=True)
        return self.cls_head.predict(self.head_input(feats), data_samples,
                                     **head_kwargs)

    @torch.no_grad()
    def predict_auxiliary(self, inputs: Tensor) -> Dict[str, Tensor]:
        """The auxiliary heads' own predictions, for visualisation and analysis.

        Not part of :meth:`predict` (the paper drops these heads at inference).

        Args:
            inputs (Tensor): Normalised frames ``(N, num_segs, 3, H, W)``.

        Returns:
            dict: ``human``: ``(N * num_segs, H, W)`` human probability;
            ``scene``: ``(N * num_segs, num_scene_classes)`` probabilities.
        """
        feats, _ = self.extract_feat(inputs)
        by_branch = dict(zip(self.backbone.branch_names, feats))
        outputs = {}
        if 'human' in self.aux_heads:
            logits = self.human_logits(by_branch['human'], inputs.shape[-2:])
            outputs['human'] = logits.softmax(dim=1)[:, 1]
        if 'scene' in self.aux_heads:
            outputs['scene'] = self.scene_logits(by_branch['scene']).softmax(dim=1)
        return outputs

    def human_logits(self, human_map: Tensor, size: torch.Size) -> Tensor:
        """Human decoder logits ``(N * num_segs, 2, *size)``, bilinearly resized."""
        logits = self.aux_heads['human']([human_map])
        return F.interpolate(logits, size=size, mode='bilinear', align_corners=False)

    def scene_logits(self, scene_map: Tensor) -> Tensor:
        """Scene logits of the globally pooled scene map."""
        return self.aux_heads['scene']((scene_map.mean(dim=(2, 3)), ))

    def human_loss(self, human_map: Tensor, target: Tensor) -> Tensor:
        """Per-pixel cross entropy of the human decoder.

        Args:
            human_map (Tensor): ``(N * num_segs, d, H', W')`` human branch map.
            target (Tensor): ``(N * num_segs, h, w)`` long mask.
        """
        return self.loss_human(self.human_logits(human_map, target.shape[-2:]),
                               target)

    def scene_loss(self, scene_map: Tensor, target: Tensor) -> Tensor:
        """Cross entropy of the scene classifier, one term per segment, averaged.

        Args:
            scene_map (Tensor): ``(N * num_segs, d, H', W')`` scene branch map.
            target (Tensor): ``(N * num_segs, )`` labels or
                ``(N * num_segs, num_scene_classes)`` probabilities.
        """
        return self.loss_scene(self.scene_logits(scene_map), target)

    def pseudo_labels(self, inputs: Tensor, data_samples: SampleList,
                      num_segs: Optional[int] = None) -> Dict[str, Tensor]:
        """The pseudo-labeler's targets for the auxiliary heads.

        Args:
            inputs (Tensor): The preprocessed batch.
            data_samples (list[ActionDataSample]): The batch's samples.
            num_segs (int, optional): Branch maps per input view, one target
                each (:meth:`teacher_frames`). Defaults to None: every segment.

        Returns:
            dict: ``human``: ``(N * num_segs, H // s, W // s)`` long masks;
            ``scene``: ``(N * num_segs, )`` labels or ``(N * num_segs, K)``
            probabilities.
        """
        return self.pseudo_labeler(self.teacher_frames(inputs, num_segs),
                                   data_samples)

    def teacher_frames(self, inputs: Tensor,
                       num_segs: Optional[int] = None) -> Tensor:
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
    missing[:] = [k for k in missing
                  if not any(k.startswith(p) or f'.{p}' in k for p in teachers)]
