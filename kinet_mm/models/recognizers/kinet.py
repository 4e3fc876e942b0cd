"""The KINet recognizer: three branches, knowledge integration, distillation."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.models.recognizers import Recognizer2D
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import Tensor

from ...utils.frames import preprocessed_to_rgb

TEACHER_PREFIX = 'teachers.'
BRANCH_PSEUDO_LABEL_KEYS = dict(
    human=('pseudo_human_mask', ),
    scene=('pseudo_scene_idx', 'pseudo_scene_prob'))


@MODELS.register_module()
class KINet(Recognizer2D):
    """Knowledge Integration Network (Wang et al., AAAI 2020).

    A TSN-style 2D recognizer whose :class:`KINetBackbone` gives one feature map
    per branch (action, human, scene). The action map (or, for an
    :class:`AKGHead`, all of them) goes to ``cls_head``. In loss mode the human
    branch also feeds a parsing decoder and the scene branch a scene classifier,
    trained on pseudo labels from frozen teachers (``teachers``, run online on the
    augmented frames) or from a pseudo-label cache (``LoadPseudoLabels`` in the
    pipeline). Prediction never runs the auxiliary heads or the teachers.

    Loss: ``L = L_action + w_h * L_human + w_s * L_scene`` (eq. 6); the weights are
    the ``loss_weight`` of ``loss_human`` and ``loss_scene`` (paper: 0.01 each).

    Args:
        backbone (dict): A :class:`KINetBackbone` config.
        cls_head (dict): Action head (``AKGHead``, or e.g. ``TSNHead`` for the
            multitask ablations without AKG).
        human_head (dict, optional): Decoder on the human map, giving
            ``(N * num_segs, 2, h, w)`` logits. Needs a ``human`` branch.
        scene_head (dict, optional): Classifier on the pooled scene map.
        teachers (dict, optional): ``dict(human=..., scene=...)`` teacher configs.
            Also read by ``tools/extract_pseudo_labels.py`` to build a cache.
        pseudo_label_source (str): ``'online'`` builds the teachers and runs them
            on the augmented frames of every step; ``'cache'`` builds none and
            reads the labels that ``LoadPseudoLabels`` put in the data samples.
            Defaults to ``'online'``.
        loss_human (dict): Loss of the human decoder.
        loss_scene (dict): Loss of the scene classifier.
        human_mask_stride (int): Pseudo masks are compared at the input size
            divided by this. Defaults to 8.
        scene_target (str): ``'hard'`` (teacher's top-1, the paper) or ``'soft'``
            (its top-k probabilities, renormalised). Defaults to ``'hard'``.
        kwargs: ``neck``, ``train_cfg``, ``test_cfg``, ``data_preprocessor``,
            ``init_cfg`` as in :class:`Recognizer2D`. ``test_cfg=dict(num_segs=S)``
            tells the head how many segments each test view has (for TenCrop etc.).
    """

    def __init__(self,
                 backbone: Dict,
                 cls_head: Dict,
                 human_head: Optional[Dict] = None,
                 scene_head: Optional[Dict] = None,
                 teachers: Optional[Dict] = None,
                 pseudo_label_source: str = 'online',
                 loss_human: Dict = dict(type='CrossEntropyLoss', loss_weight=0.01),
                 loss_scene: Dict = dict(type='CrossEntropyLoss', loss_weight=0.01),
                 human_mask_stride: int = 8,
                 scene_target: str = 'hard',
                 **kwargs) -> None:
        super().__init__(backbone=backbone, cls_head=cls_head, **kwargs)
        branches = self.backbone.branch_names
        self.aux_heads = torch.nn.ModuleDict()
        for name, head in (('human', human_head), ('scene', scene_head)):
            if head is None:
                continue
            if name not in branches:
                raise ValueError(f'{name}_head needs a {name!r} branch; the backbone '
                                 f'has {branches}')
            self.aux_heads[name] = MODELS.build(head)
        if pseudo_label_source not in ('online', 'cache'):
            raise ValueError("pseudo_label_source must be 'online' or 'cache', "
                             f'got {pseudo_label_source!r}')
        self.pseudo_label_source = pseudo_label_source
        online = pseudo_label_source == 'online'
        self.teachers = torch.nn.ModuleDict({
            name: MODELS.build(cfg)
            for name, cfg in (teachers or {}).items() if cfg is not None and online
        })
        # Teachers load their own checkpoints when built: keep them out of the
        # student's (a ResNet-152 would add ~240 MB to every saved epoch).
        self.register_state_dict_post_hook(_drop_teacher_weights)
        self.register_load_state_dict_post_hook(_ignore_missing_teacher_weights)
        if online and set(self.aux_heads) - set(self.teachers):
            raise ValueError(
                f'online pseudo labels need a teacher for each auxiliary head '
                f'{sorted(self.aux_heads)}; got teachers {sorted(self.teachers)}. '
                "Set pseudo_label_source='cache' to read them from the data.")
        self.loss_human = MODELS.build(loss_human)
        self.loss_scene = MODELS.build(loss_scene)
        self.human_mask_stride = human_mask_stride
        if scene_target not in ('hard', 'soft'):
            raise ValueError(f"scene_target must be 'hard' or 'soft', got "
                             f'{scene_target!r}')
        self.scene_target = scene_target

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'neck',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[tuple, Dict]:
        """Run the backbone (in chunks of ``max_testing_views`` when testing).

        Args:
            inputs (Tensor): ``(N, num_views * num_segs, 3, H, W)``.
            stage (str): ``'backbone'``/``'neck'`` return branch maps, ``'head'``
                returns action scores.
            data_samples (list, optional): Unused, for API compatibility.
            test_mode (bool): Whether called from ``predict``.

        Returns:
            tuple: Branch maps ``(N * num_views * num_segs, d, h, w)`` each (or
            scores for ``stage='head'``) and the head's kwargs (``num_segs``).
        """
        num_segs = inputs.shape[1]
        if test_mode and self.test_cfg is not None:
            num_segs = self.test_cfg.get('num_segs', num_segs)
        frames = inputs.flatten(0, 1)
        chunk = (self.test_cfg or {}).get('max_testing_views') if test_mode else None
        if chunk:
            parts = [self.backbone(part) for part in frames.split(chunk)]
            feats = tuple(torch.cat(maps) for maps in zip(*parts))
        else:
            feats = self.backbone(frames)
        head_kwargs = dict(num_segs=num_segs)
        if stage == 'head':
            return self.cls_head(self._head_input(feats), **head_kwargs), head_kwargs
        return feats, head_kwargs

    def _head_input(self, feats: tuple):
        return feats if getattr(self.cls_head, 'fuses_branches', False) else feats[0]

    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> Dict:
        """Action loss plus the weighted distillation losses of the aux heads."""
        feats, head_kwargs = self.extract_feat(inputs)
        losses = self.cls_head.loss(self._head_input(feats), data_samples,
                                    **head_kwargs)
        if not self.aux_heads:
            return losses
        by_branch = dict(zip(self.backbone.branch_names, feats))
        targets = self.pseudo_labels(inputs, data_samples)
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
        return self.cls_head.predict(self._head_input(feats), data_samples,
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

    def pseudo_labels(self, inputs: Tensor,
                      data_samples: SampleList) -> Dict[str, Tensor]:
        """Targets of the auxiliary heads, from the teachers or the data samples.

        Returns:
            dict: ``human``: ``(N * num_segs, h, w)`` long masks; ``scene``:
            ``(N * num_segs, )`` labels or ``(N * num_segs, K)`` probabilities.
        """
        if self.pseudo_label_source == 'online':
            frames = self.rgb_frames(inputs)
            targets = {name: self.teachers[name](frames) for name in self.aux_heads}
        else:
            targets = {name: self._cached_targets(name, data_samples)
                       for name in self.aux_heads}
        if 'human' in targets:
            targets['human'] = self._downsample_mask(targets['human'],
                                                     inputs.shape[-2:])
        if 'scene' in targets and targets['scene'].dim() == 2:
            targets['scene'] = self._scene_target_from_probs(targets['scene'])
        return targets

    def rgb_frames(self, inputs: Tensor) -> Tensor:
        """The preprocessed inputs ``(N, num_segs, 3, H, W)`` back as 0-255 RGB
        frames ``(N * num_segs, 3, H, W)``: what the teachers see."""
        return preprocessed_to_rgb(inputs, self.data_preprocessor)

    def _downsample_mask(self, mask: Tensor, input_size: torch.Size) -> Tensor:
        size = [s // self.human_mask_stride for s in input_size]
        if list(mask.shape[-2:]) != size:
            mask = F.interpolate(mask[:, None].float(), size=size,
                                 mode='nearest')[:, 0]
        return mask.long()

    def _scene_target_from_probs(self, probs: Tensor) -> Tensor:
        if self.scene_target == 'hard':
            return probs.argmax(dim=1)
        return probs / probs.sum(dim=1, keepdim=True)

    def _cached_targets(self, name: str, data_samples: SampleList) -> Tensor:
        keys = BRANCH_PSEUDO_LABEL_KEYS[name]
        missing = [key for key in keys if key not in data_samples[0]]
        if missing:
            raise KeyError(
                f'No cached {name} pseudo labels: the data samples lack {missing}. '
                'Add LoadPseudoLabels and PackKINetInputs to the training '
                "pipeline, or use pseudo_label_source='online' with teachers.")
        fields = [torch.cat([sample.get(key) for sample in data_samples])
                  for key in keys]
        if name == 'human':
            return fields[0]
        indices, probs = fields
        if self.scene_target == 'hard':
            return indices[:, 0]
        num_classes = self.aux_heads['scene'].num_classes
        dense = probs.new_zeros(probs.shape[0], num_classes)
        dense.scatter_(1, indices, probs)
        return dense / dense.sum(dim=1, keepdim=True)


def _drop_teacher_weights(module, state_dict, prefix, local_metadata) -> None:
    for key in [k for k in state_dict if k.startswith(prefix + TEACHER_PREFIX)]:
        del state_dict[key]


def _ignore_missing_teacher_weights(module, incompatible_keys) -> None:
    missing = incompatible_keys.missing_keys
    # Keys are relative to the outermost module (a wrapper may add 'module.').
    missing[:] = [k for k in missing if '.' + TEACHER_PREFIX not in '.' + k]
