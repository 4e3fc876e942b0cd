"""Inflating 2D networks into 3D (I3D paper, section 2.4).

Two halves of one idea:

- :func:`inflate_module` turns a 2D network into its 3D twin, in place:
  every ``Conv2d``/``BatchNorm2d``/``MaxPool2d``/``AvgPool2d`` becomes the 3D
  layer with a cubic kernel (``N x N`` -> ``N x N x N``) and, unless told
  otherwise, the same stride and padding in time as in space. Module names do
  not change, so a 2D state dict's keys are the 3D network's keys.
- :func:`inflate_state_dict` bootstraps the 3D weights from 2D ones: every
  conv kernel ``(C_out, C_in, k_h, k_w)`` is repeated ``k_t`` times in time and
  divided by ``k_t``; everything else (BN, fc, biases) is copied. On a boring
  video (one frame repeated) each conv then answers what the 2D conv answers
  on the frame, which is the paper's boring-video fixed point.
"""
from typing import Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor
from torch.nn.utils import skip_init

#: ``{module name: (kernel_t, stride_t)}``: temporal kernel and stride of the
#: named 2D layers; the temporal padding is ``(kernel_t - 1) // 2``.
TemporalSpec = Mapping[str, Tuple[int, int]]


def inflate_weight(weight_2d: Tensor, time_size: int) -> Tensor:
    """A 2D kernel ``(C_out, C_in, k_h, k_w)`` repeated ``time_size`` times in
    time and divided by ``time_size``: ``(C_out, C_in, time_size, k_h, k_w)``."""
    return weight_2d.unsqueeze(2).repeat(1, 1, time_size, 1, 1) / time_size


def _temporal(spec: TemporalSpec, name: str, kernel: int, stride: int,
              padding: int) -> Tuple[int, int, int]:
    if name not in spec:
        return kernel, stride, padding
    kernel_t, stride_t = spec[name]
    return kernel_t, stride_t, (kernel_t - 1) // 2


def _pair(value) -> Tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _inflate_layer(layer: nn.Module, name: str,
                   spec: TemporalSpec) -> Optional[nn.Module]:
    """The 3D twin of a 2D layer (weights inflated), or None if it has none."""
    if isinstance(layer, nn.Conv2d):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
        padding, dilation = _pair(layer.padding), _pair(layer.dilation)
        if isinstance(layer.padding, str):
            raise ValueError(f'{name}: string padding {layer.padding!r} cannot '
                             'be inflated; give the padding in pixels')
        k_t, s_t, p_t = _temporal(spec, name, kernel[0], stride[0], padding[0])
        # skip_init: the weights are overwritten below; a random init of large
        # 3D kernels would only cost time.
        conv = skip_init(
            nn.Conv3d,
            layer.in_channels,
            layer.out_channels, (k_t, *kernel),
            stride=(s_t, *stride),
            padding=(p_t, *padding),
            dilation=(1, *dilation),
            groups=layer.groups,
            bias=layer.bias is not None,
            padding_mode=layer.padding_mode,
            device=layer.weight.device,
            dtype=layer.weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(inflate_weight(layer.weight, k_t))
            if layer.bias is not None:
                conv.bias.copy_(layer.bias)
        return conv
    if type(layer) is nn.BatchNorm2d:  # SyncBN and subclasses stay as they are
        norm = nn.BatchNorm3d(
            layer.num_features,
            eps=layer.eps,
            momentum=layer.momentum,
            affine=layer.affine,
            track_running_stats=layer.track_running_stats)
        tensors = list(layer.parameters()) + list(layer.buffers())
        if tensors:  # the 2D layer's device and floating dtype
            norm.to(device=tensors[0].device, dtype=tensors[0].dtype)
        norm.load_state_dict(layer.state_dict())
        norm.train(layer.training)
        for new, old in zip(norm.parameters(), layer.parameters()):
            new.requires_grad_(old.requires_grad)
        return norm
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
        padding = _pair(layer.padding)
        k_t, s_t, p_t = _temporal(spec, name, kernel[0], stride[0], padding[0])
        shape = dict(
            kernel_size=(k_t, *kernel),
            stride=(s_t, *stride),
            padding=(p_t, *padding),
            ceil_mode=layer.ceil_mode)
        if isinstance(layer, nn.MaxPool2d):
            if _pair(layer.dilation) != (1, 1):
                raise ValueError(f'{name}: dilated max-pools are not inflated')
            return nn.MaxPool3d(**shape)
        return nn.AvgPool3d(
            count_include_pad=layer.count_include_pad,
            divisor_override=layer.divisor_override,
            **shape)
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        size = _pair(layer.output_size)
        if name in spec:
            raise ValueError(f'{name}: an adaptive pool has no temporal kernel')
        return nn.AdaptiveAvgPool3d((1 if size == (1, 1) else None, *size))
    return None


def inflate_module(module: nn.Module,
                   temporal: Optional[TemporalSpec] = None) -> nn.Module:
    """Inflate a 2D network into 3D, in place, keeping module names.

    Every ``N x N`` conv and pooling kernel becomes ``N x N x N`` with the
    spatial stride and padding also used in time, except for the layers named in
    ``temporal`` (e.g. I3D's first two max-pools, ``1 x 3 x 3`` with temporal
    stride 1). Conv weights are inflated with :func:`inflate_weight`, so the
    inflated network keeps the boring-video fixed point of the 2D one; BN layers
    keep their parameters and statistics. ``nn.Linear``, activations and other
    layers are dimension-agnostic and stay. A module whose ``forward`` calls a
    2D functional (e.g. ``F.interpolate(..., mode='bilinear')``) is not
    converted by this routine and must be handled by its owner.

    Temporal zero padding: at the ends of a clip a conv sees zeros, not copies
    of the frame, so the fixed point holds exactly only at positions whose
    temporal receptive field stays inside the clip.

    Args:
        module (nn.Module): The 2D network (or a single 2D layer).
        temporal (dict, optional): ``{qualified module name: (kernel_t,
            stride_t)}`` relative to ``module``. Every name must exist.

    Returns:
        nn.Module: ``module`` with inflated children (or the new layer, if
        ``module`` is itself a 2D layer).

    Raises:
        ValueError: A name of ``temporal`` is not a module of ``module``.
    """
    temporal = dict(temporal or {})
    names = dict(module.named_modules())
    unknown = sorted(set(temporal) - set(names))
    if unknown:
        raise ValueError(f'inflate_module: temporal names {unknown} are not '
                         f'modules of {type(module).__name__}; e.g. '
                         f'{sorted(names)[1:6]}')
    root = _inflate_layer(module, '', temporal)
    if root is not None:
        return root
    for name, parent in list(module.named_modules()):
        for child_name, child in list(parent.named_children()):
            qualified = f'{name}.{child_name}' if name else child_name
            inflated = _inflate_layer(child, qualified, temporal)
            if inflated is not None:
                setattr(parent, child_name, inflated)
    return module


def inflate_state_dict(state_dict_2d: Mapping[str, Tensor],
                       model_3d: nn.Module) -> Dict[str, Tensor]:
    """Bootstrap ``model_3d``'s state dict from a 2D network's (section 2.4).

    A tensor whose 3D shape is the 2D shape with a temporal axis inserted at
    dim 2 (conv kernels) is inflated with :func:`inflate_weight`; a tensor of the
    same shape (BN parameters and statistics, biases, fc layers) is copied.

    Args:
        state_dict_2d (Mapping[str, Tensor]): The 2D weights, keyed as
            ``model_3d``'s (inflation keeps module names).
        model_3d (nn.Module): The inflated network.

    Returns:
        dict: A complete state dict for ``model_3d``.

    Raises:
        ValueError: A key of one side is missing on the other (both lists
            named), or a tensor's shapes do not correspond (key and shapes).
    """
    target = model_3d.state_dict()
    missing = sorted(set(target) - set(state_dict_2d))
    unexpected = sorted(set(state_dict_2d) - set(target))
    if missing or unexpected:
        raise ValueError(
            f'inflate_state_dict: the 2D state dict does not match '
            f'{type(model_3d).__name__}: missing keys {missing[:8]}'
            f'{" ..." if len(missing) > 8 else ""}, unexpected keys '
            f'{unexpected[:8]}{" ..." if len(unexpected) > 8 else ""}. Strip a '
            'checkpoint prefix (e.g. "backbone.") with `prefix`.')
    inflated = {}
    for key, value_3d in target.items():
        value_2d = state_dict_2d[key]
        shape_2d, shape_3d = tuple(value_2d.shape), tuple(value_3d.shape)
        if shape_2d == shape_3d:
            inflated[key] = value_2d.clone()
        elif (len(shape_3d) == 5 and len(shape_2d) == 4
              and shape_3d[:2] + shape_3d[3:] == shape_2d):
            inflated[key] = inflate_weight(value_2d, shape_3d[2])
        else:
            raise ValueError(
                f'inflate_state_dict: {key!r} has shape {shape_2d} in the 2D '
                f'state dict but {shape_3d} in {type(model_3d).__name__}; a '
                '2D kernel (C_out, C_in, k_h, k_w) inflates only into '
                '(C_out, C_in, k_t, k_h, k_w). Was the 2D network built with '
                'the same widths (e.g. branch2_kernel_size, num_classes)?')
    return inflated


def load_inflated_checkpoint(model_3d: nn.Module,
                             checkpoint: str,
                             prefix: Optional[str] = None) -> None:
    """Load a 2D checkpoint into an inflated network (weights-only loading).

    Args:
        model_3d (nn.Module): The inflated network.
        checkpoint (str): Path or URL of a 2D checkpoint (a state dict, or a
            dict with ``state_dict``, e.g. an MMEngine checkpoint).
        prefix (str, optional): Keep only keys starting with it, stripped
            (e.g. ``'backbone.'`` for a recognizer's checkpoint).
    """
    state_dict = _load_checkpoint(checkpoint, map_location='cpu')
    state_dict = state_dict.get('state_dict', state_dict)
    if prefix:
        state_dict = {
            k[len(prefix):]: v
            for k, v in state_dict.items() if k.startswith(prefix)
        }
        if not state_dict:
            raise ValueError(f'{checkpoint}: no key starts with {prefix!r}')
    try:
        model_3d.load_state_dict(inflate_state_dict(state_dict, model_3d))
    except ValueError as error:
        raise ValueError(f'{checkpoint}: {error}') from error
    MMLogger.get_current_instance().info(
        f'{type(model_3d).__name__}: inflated the 2D weights of {checkpoint}')
