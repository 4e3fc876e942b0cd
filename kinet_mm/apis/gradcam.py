"""Grad-CAM of a 2D recognizer's action branch through MMAction2's ``GradCAM``.

``mmaction.utils.GradCAM`` fits KINet as it is: KINet is a ``Recognizer2D``,
and although its backbone returns a tuple of branch maps, the module that
produces the *action* map (the CBI after the last residual block, or that block
itself) returns one tensor, which is all ``GradCAM`` hooks. The only adapter
needed is around the call: ``GradCAM`` registers hooks it never removes and
switches ``cls_head.average_clips`` to ``'score'`` for good, so it runs on a
throwaway copy of the model.
"""
import copy
import warnings
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmaction.utils import GradCAM
from torch import Tensor

from ..models.backbones import EfficientNetLite, KINetBackbone


def default_target_layer(model: nn.Module) -> str:
    """``GradCAM`` name (``/``-separated) of the layer giving the action map.

    - KINet: the CBI after the action branch's last block if there is one
      (its output is what ``cls_head`` reads), else that block.
    - An MMAction2 ``ResNet`` (TSN): its last residual block.
    - :class:`EfficientNetLite` (TSN): the backbone itself, whose one output
      is the head conv's map (its own activation module also runs in the stem,
      so hooking it would mix two maps).

    Raises:
        ValueError: For other backbones; pass ``target_layer_name``.
    """
    backbone = model.backbone
    if isinstance(backbone, KINetBackbone):
        return 'backbone/' + backbone.last_action_layer.replace('.', '/')
    if isinstance(backbone, EfficientNetLite):
        return 'backbone'
    res_layers = getattr(backbone, 'res_layers', None)
    if res_layers:
        layer = res_layers[-1]
        return f'backbone/{layer}/{len(getattr(backbone, layer)) - 1}'
    raise ValueError(f'no default Grad-CAM layer for a {type(backbone).__name__} '
                     "backbone; pass a target layer name such as 'backbone/"
                     "layer4/1' (module names joined by '/')")


def resolve_layer(model: nn.Module, name: str) -> nn.Module:
    """The module ``GradCAM`` would hook for ``name``, or a ``KeyError``."""
    module = model
    for i, part in enumerate(name.split('/')):
        children = module._modules
        if part not in children:
            parent = '/'.join(name.split('/')[:i]) or 'the model'
            raise KeyError(f'Grad-CAM target layer {name!r}: {parent} has no '
                           f'child {part!r}; its children are {list(children)}')
        module = children[part]
    return module


def class_activation_maps(
        model: nn.Module,
        data: Dict,
        target_class: Optional[int] = None,
        target_layer_name: Optional[str] = None) -> Tuple[Tensor, Tensor]:
    """Grad-CAM maps of one class for every input frame.

    For frame ``t`` with target-layer map ``A_t`` ``(C', h, w)`` and class
    score ``y`` (the head's scores before softmax, averaged over views):
    ``M_t = ReLU(sum_c mean_hw(dy / dA_t[c]) * A_t[c])``, upsampled to the
    input size, then min-max normalised over all frames of a video together
    (a frame with no positive evidence for the class stays 0). With an AKG
    head ``y`` also depends on the human and scene maps; the default layer
    shows where the *action* map supports the class.

    Args:
        model (nn.Module): A ``Recognizer2D`` (KINet, TSN, ...); not modified.
        data (dict): A collated test batch, ``inputs`` and ``data_samples``.
        target_class (int, optional): The class to explain; defaults to each
            video's top-scoring class.
        target_layer_name (str, optional): Defaults to
            :func:`default_target_layer`.

    Returns:
        tuple[Tensor, Tensor]: Maps ``(N, num_views * num_segs, H, W)`` in
        ``[0, 1]`` and the raw scores ``(N, num_classes)``.
    """
    layer_name = target_layer_name or default_target_layer(model)
    resolve_layer(model, layer_name)
    cam_model = copy.deepcopy(model)
    data = copy.deepcopy(data)  # test_step writes predictions into the samples
    if target_class is not None:
        for sample in data['data_samples']:
            sample.set_gt_label(int(target_class))
    with torch.enable_grad(), warnings.catch_warnings():
        # GradCAM's non-full backward hook lacks some grad_input, which torch
        # warns about; it reads only grad_output, which is complete.
        warnings.filterwarnings(
            'ignore', message='Using (a )?non-full backward', category=FutureWarning)
        cam = GradCAM(cam_model, layer_name)
        # The map itself, not GradCAM's colour blend: the caller overlays it.
        maps, scores = cam._calculate_localization_map(
            data, use_labels=target_class is not None)
    return maps.detach(), scores.detach()
