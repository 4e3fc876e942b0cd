"""KINet on clips: an inflated KINet backbone, the AKG over temporal positions."""
from typing import Dict, Optional, Tuple, Union

import torch
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import Tensor

from ...pseudo_labels.labelers import OnlinePseudoLabeler
from ...utils.frames import preprocessed_to_rgb
from .kinet import STAGES, KINet


@MODELS.register_module()
class KINet3D(KINet):
    """3D KINet (beyond the paper): KINet whose trunk, branches and CBIs are
    inflated I3D-style (:class:`~kinet_mm.models.backbones.KINetBackbone3D`).

    Inputs are clips as for MMAction2's ``Recognizer3D``,
    ``(N, num_clips, 3, T, H, W)``. Each branch map ``(N * num_clips, d, T', h,
    w)`` is read as ``T'`` per-position maps ``(N * num_clips * T', d, h, w)``,
    so the :class:`AKGHead`'s nodes are the branches' vectors at every temporal
    position of the final map (where 2D KINet has segments) and its
    ``window_size`` slides over positions. The auxiliary heads decode every
    position, against the online teachers' labels of the input frame at the
    centre of that position's share of the clip. Cached pseudo labels are
    per sampled segment and therefore 2D only.

    Args:
        kwargs: :class:`KINet`'s arguments, with a ``KINetBackbone3D`` and a
            data preprocessor of format ``NCTHW``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.pseudo_labeler is not None and not isinstance(
                self.pseudo_labeler, OnlinePseudoLabeler):
            raise ValueError(
                'KINet3D labels the frame at the centre of each temporal '
                'position online; cached pseudo labels hold one label per '
                'sampled segment (2D). Use pseudo_label_source="online".')

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'neck',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[Union[tuple, Tensor], Dict]:
        """Branch maps per temporal position (or action scores, ``'head'``).

        Args:
            inputs (Tensor): ``(N, num_clips, 3, T, H, W)``.
            stage (str): ``'backbone'``, ``'neck'`` (no neck: the same maps) or
                ``'head'``.
            data_samples (list, optional): Unused, for API compatibility.
            test_mode (bool): Whether called from ``predict``; the backbone then
                runs ``test_cfg.max_testing_views`` clips at a time.

        Returns:
            tuple: Branch maps ``(N * num_clips * T', d, h, w)`` each (or
            ``(N * num_clips, num_classes)`` scores) and the head's kwargs
            (``num_segs=T'``, and ``window_size`` when testing with one).
        """
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        test_cfg = (self.test_cfg or {}) if test_mode else {}
        clips = inputs.flatten(0, 1)
        chunk = test_cfg.get('max_testing_views')
        if chunk:
            parts = [self.backbone(part) for part in clips.split(chunk)]
            maps = tuple(torch.cat(branch) for branch in zip(*parts))
        else:
            maps = self.backbone(clips)
        head_kwargs = dict(num_segs=maps[0].shape[2])
        if test_cfg.get('window_size'):
            head_kwargs['window_size'] = test_cfg['window_size']
        # (B, d, T', h, w) -> (B * T', d, h, w): positions are the AKG's segments.
        feats = tuple(m.transpose(1, 2).flatten(0, 1) for m in maps)
        if stage == 'head':
            return self.cls_head(self.head_input(feats), **head_kwargs), head_kwargs
        return feats, head_kwargs

    def teacher_frames(self, inputs: Tensor,
                       num_segs: Optional[int] = None) -> Tensor:
        """The frame at the centre of each temporal position's share of the clip.

        Args:
            inputs (Tensor): ``(N, num_clips, 3, T, H, W)`` preprocessed clips.
            num_segs (int): Temporal positions ``T'`` of the branch maps.

        Returns:
            Tensor: ``(N * num_clips * T', 3, H, W)`` 0-255 RGB frames.
        """
        if num_segs is None:
            raise ValueError('KINet3D.teacher_frames needs the number of '
                             'temporal positions (num_segs)')
        num_frames = inputs.shape[3]
        index = (torch.arange(num_segs) * 2 + 1) * num_frames // (2 * num_segs)
        frames = inputs[:, :, :, index.to(inputs.device)].transpose(2, 3)
        return preprocessed_to_rgb(frames.flatten(0, 1), self.data_preprocessor)

    def rgb_frames(self, inputs: Tensor) -> Tensor:
        """Every frame of ``(N, num_clips, 3, T, H, W)`` clips as 0-255 RGB,
        ``(N * num_clips * T, 3, H, W)``."""
        return preprocessed_to_rgb(inputs.transpose(2, 3).flatten(0, 1),
                                   self.data_preprocessor)
