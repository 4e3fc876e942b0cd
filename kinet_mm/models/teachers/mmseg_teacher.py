"""Human parsing teacher built from an MMSegmentation config (KINet, Sec. 3.1)."""
from typing import Dict, List, Optional, Tuple

import torch
from mmaction.registry import MODELS
from mmseg.registry import MODELS as MMSEG_MODELS
from torch import Tensor

from .openmmlab_teacher import OpenMMLabTeacher
from .utils import ConfigLike, check_frames


@MODELS.register_module()
class MMSegHumanTeacher(OpenMMLabTeacher):
    """A frozen MMSeg human parser whose part labels are merged into one human mask.

    The paper's teacher is PSPNet with a DenseNet-121 backbone trained on LIP
    (``configs/teachers/pspnet_densenet121_lip.py``). LIP has 20 labels: 0 is the
    background and 1-19 are body parts and clothes. Low-resolution video frames
    make the fine parts noisy, so all 19 are merged into a single human label.
    The merge is applied to the per-pixel argmax over all labels: a pixel is
    human when its most likely label is any part.

    Args:
        config (str | Config): The segmentor's MMSeg config. Its
            ``data_preprocessor`` gives the normalization.
        checkpoint (str, optional): Weights of the segmentor, loaded strictly.
            ``None`` keeps random weights (tests only). Defaults to None.
        cfg_options (dict, optional): Overrides of ``config``, dotted keys.
            Defaults to None.
        background_index (int): The label of the background. Defaults to 0 (LIP).
        init_cfg (dict, optional): Unused, teachers keep their weights.
    """

    label_space = 'lip20->human'
    registry = MMSEG_MODELS

    def __init__(self,
                 config: ConfigLike,
                 checkpoint: Optional[str] = None,
                 cfg_options: Optional[Dict] = None,
                 background_index: int = 0,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(config, checkpoint, cfg_options, init_cfg)
        self.segmentor = self.build_network()
        head = self.segmentor.decode_head
        if head.out_channels != head.num_classes:
            raise ValueError('MMSegHumanTeacher needs one logit per label; a '
                             'sigmoid (out_channels=1) decode head is unsupported.')
        self.num_classes = head.num_classes
        if not 0 <= background_index < self.num_classes:
            raise ValueError(f'background_index {background_index} is not one of '
                             f'the {self.num_classes} labels of the segmentor.')
        self.background_index = background_index
        self.load_weights(self.segmentor)

    def predict_frames(self, frames: Tensor) -> Tensor:
        """Human masks of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, H, W)`` long, 1 = human, 0 = background.
        """
        return self.merge_labels(self.segment(frames).argmax(dim=1))

    def merge_labels(self, labels: Tensor) -> Tensor:
        """Map every part label to 1 and the background label to 0.

        Args:
            labels (Tensor): ``(B, H, W)`` parsing labels.

        Returns:
            Tensor: ``(B, H, W)`` long human mask.
        """
        return (labels != self.background_index).long()

    @torch.no_grad()
    def segment(self, frames: Tensor) -> Tensor:
        """Parsing logits of raw frames, resized to the frame size.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, num_classes, H, W)`` logits.
        """
        check_frames(frames)
        return self.segmentor.inference(self.normalize(frames), self._img_metas(frames))

    @torch.no_grad()
    def extract_stages(self, frames: Tensor) -> Tuple[Tensor, ...]:
        """Backbone (and neck) feature maps of the segmentor.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            tuple[Tensor]: The maps the decode heads read, ``(B, C_i, H_i, W_i)``
            (for the shipped PSPNet-DenseNet-121: 512 and 1024 channels, both at
            stride 32).
        """
        check_frames(frames)
        return tuple(self.segmentor.extract_feat(self.normalize(frames)))

    @staticmethod
    def _img_metas(frames: Tensor) -> List[Dict]:
        # Whole frames, unpadded: logits are resized back to the frame size.
        shape = tuple(frames.shape[-2:])
        return [
            dict(img_shape=shape, ori_shape=shape, pad_shape=shape)
            for _ in range(frames.shape[0])
        ]
