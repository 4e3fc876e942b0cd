"""Scene recognition teacher built from an MMPretrain config (KINet, Sec. 3.1)."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from torch import Tensor

from .openmmlab_teacher import OpenMMLabTeacher
from .utils import ConfigLike, check_frames, resize_frames


@MODELS.register_module()
class MMPretrainSceneTeacher(OpenMMLabTeacher):
    """A frozen MMPretrain image classifier giving scene probabilities.

    The paper's teacher is a ResNet-152 trained on Places365
    (``configs/teachers/resnet152_places365.py``).

    Args:
        config (str | Config): The classifier's MMPretrain config. Its
            ``data_preprocessor`` (in ``model`` or at the top level) gives the
            normalization.
        checkpoint (str, optional): Weights of the classifier, loaded strictly.
            ``None`` keeps random weights (tests only). Defaults to None.
        cfg_options (dict, optional): Overrides of ``config``, dotted keys.
            Defaults to None.
        label_space (str): Name of the classes the head predicts.
            Defaults to ``'places365'``.
        input_size (tuple[int, int], optional): ``(h, w)`` the frames are resized
            to before classification; ``None`` classifies them as given (the
            global pooling accepts any size). Defaults to None.
        out_indices (Sequence[int], optional): Backbone stages returned by
            :meth:`extract_stages`, e.g. ``(2, 3)`` for ResNet's res4 and res5.
            Overrides ``model.backbone.out_indices``; the last index must be the
            stage the head was trained on, since the head reads the last output.
            Defaults to None (the config's).
        init_cfg (dict, optional): Unused, teachers keep their weights.
    """

    registry = MMPRETRAIN_MODELS

    def __init__(self,
                 config: ConfigLike,
                 checkpoint: Optional[str] = None,
                 cfg_options: Optional[Dict] = None,
                 label_space: str = 'places365',
                 input_size: Optional[Tuple[int, int]] = None,
                 out_indices: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(config, checkpoint, cfg_options, init_cfg)
        self.label_space = label_space
        self.input_size = tuple(input_size) if input_size else None
        if out_indices is not None:
            self.cfg.model.backbone.out_indices = tuple(out_indices)
        self.classifier = self.build_network()
        if not getattr(self.classifier, 'with_head', False):
            raise ValueError('MMPretrainSceneTeacher needs a classifier with a head.')
        self.num_classes = self.classifier.head.num_classes
        self.load_weights(self.classifier)

    def normalize(self, frames: Tensor) -> Tensor:
        """Resize, then normalize as :meth:`BaseTeacher.normalize`."""
        return super().normalize(resize_frames(frames, self.input_size))

    def predict_frames(self, frames: Tensor) -> Tensor:
        """Scene probabilities of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, num_classes)`` softmax probabilities.
        """
        check_frames(frames)
        logits = self.classifier(self.normalize(frames), mode='tensor')
        return logits.float().softmax(dim=1)

    @torch.no_grad()
    def extract_stages(self, frames: Tensor) -> Tuple[Tensor, ...]:
        """Backbone stage features of the classifier.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            tuple[Tensor]: One ``(B, C_i, H_i, W_i)`` map per index of the
            backbone's ``out_indices`` (for ResNet-152 with ``(2, 3)``: 1024
            channels at stride 16 and 2048 at stride 32).
        """
        check_frames(frames)
        return tuple(
            self.classifier.extract_feat(self.normalize(frames), stage='backbone'))

    @property
    def fingerprint(self) -> Dict:
        """Base fingerprint plus the input size."""
        return dict(super().fingerprint, input_size=self.input_size)
