"""ResNet with Caffe's stem pooling, for weights trained in Caffe (Places365)."""
from mmpretrain.models.backbones import ResNet
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class CaffeResNet(ResNet):
    """MMPretrain's ResNet whose stem max-pooling rounds as Caffe's does.

    Kaiming He's Caffe ResNets (and the Places365 ResNet-152 fine-tuned from
    them) pool the stem with ``kernel_size=3, stride=2`` and no padding; Caffe
    rounds the output size up, so the last window hangs over the border. With
    ``ceil_mode=True`` and no padding PyTorch pools the same windows. MMPretrain
    pads by 1 instead: the same output size on even inputs, but every window
    is shifted by one pixel, which changes all the features.

    Use it with ``style='caffe'`` (stride on the first 1x1 convolution of a
    block). All other arguments are :class:`mmpretrain.models.ResNet`'s.
    """

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        super()._make_stem_layer(in_channels, stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=0, ceil_mode=True)
