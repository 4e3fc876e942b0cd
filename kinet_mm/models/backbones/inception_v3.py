"""MMPretrain's Inception V3 with a configurable input, for the flow stream."""
from mmaction.registry import MODELS
from mmpretrain.models.backbones import InceptionV3 as MMPretrainInceptionV3
from mmpretrain.models.backbones.inception_v3 import BasicConv2d


@MODELS.register_module()
class InceptionV3(MMPretrainInceptionV3):
    """``mmpretrain.models.InceptionV3`` reading ``in_channels`` input channels.

    MMPretrain's network is fixed to RGB; TSN's temporal stream feeds it
    ``2 * L`` channels (``L`` stacked x/y TV-L1 flow frames, 10 for ``L=5``),
    as MMAction2's ``ResNet(in_channels=...)`` does for ResNets. Only
    ``Conv2d_1a_3x3`` changes, so an RGB checkpoint whose first kernel was made
    fit for the flow input (cross-modality initialisation, TSN section 3.2:
    ``tools/model_converters/rgb_to_flow.py``) loads strictly. The
    :class:`KINetBackbone` stage adapter of MMPretrain's class applies.

    Args:
        in_channels (int): Input channels. Defaults to 3 (MMPretrain's network).
        kwargs: ``mmpretrain.models.InceptionV3``'s arguments
            (``num_classes``, ``aux_logits``, ``dropout``, ``init_cfg``).
    """

    def __init__(self, in_channels: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        self.in_channels = in_channels
        if in_channels != 3:
            self.Conv2d_1a_3x3 = BasicConv2d(in_channels, 32, kernel_size=3, stride=2)
