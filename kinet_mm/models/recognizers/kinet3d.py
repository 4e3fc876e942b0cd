"""KINet on clips: an inflated KINet backbone, the AKG over temporal positions."""
from typing import Dict, Optional, Tuple

import torch
from mmaction.registry import MODELS
from torch import Tensor

from ...utils.frames import preprocessed_to_rgb
from .kinet import KINet


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
    per sampled segment and therefore 2D only; inference and deployment build
    no teacher (:func:`~kinet_mm.models.knowledge.teacher_free`).

    Args:
        kwargs: :class:`KINet`'s arguments, with a ``KINetBackbone3D`` and a
            data preprocessor of format ``NCTHW``.
    """

    def pseudo_labels(self, inputs: Tensor, data_samples, num_segs=None):
        """Targets from the online teachers (see :meth:`teacher_frames`)."""
        if self.pseudo_label_source == 'cache':
            raise ValueError('KINet3D labels the frame at the centre of each temporal '
                             'position online; cached pseudo labels hold one label per '
                             'sampled segment (2D). Train with pseudo_label_source='
                             '"online" (inference and deployment need no labels: '
                             'kinet_mm.models.knowledge.teacher_free).')
        return super().pseudo_labels(inputs, data_samples, num_segs)

    def branch_maps(self, inputs: Tensor, test_cfg: Dict) -> Tuple[tuple, int]:
        """Branch maps per temporal position, and the positions of a clip.

        Args:
            inputs (Tensor): ``(N, num_clips, 3, T, H, W)``.
            test_cfg (dict): ``test_cfg`` when testing (the backbone then runs
                ``max_testing_views`` clips at a time), else empty.

        Returns:
            tuple: Branch maps ``(N * num_clips * T', d, h, w)`` each, and
            ``T'``: the positions are the AKG's segments.
        """
        maps = self._run_backbone(inputs.flatten(0, 1), test_cfg)
        # (B, d, T', h, w) -> (B * T', d, h, w)
        feats = tuple(m.transpose(1, 2).flatten(0, 1) for m in maps)
        return feats, maps[0].shape[2]

    def teacher_frames(self, inputs: Tensor, num_segs: Optional[int] = None) -> Tensor:
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
        return preprocessed_to_rgb(
            inputs.transpose(2, 3).flatten(0, 1), self.data_preprocessor)
