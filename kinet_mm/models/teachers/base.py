"""Frozen teacher networks that produce KINet's pseudo labels."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor


class BaseTeacher(BaseModule, metaclass=ABCMeta):
    """A frozen network that turns raw RGB frames into pseudo labels.

    A teacher is always in eval mode (also under ``model.train()``, so its
    BatchNorm statistics never move), none of its parameters require gradients,
    and :meth:`forward` runs under ``torch.no_grad()``.

    Subclasses build their network in ``__init__``, then call
    :meth:`freeze`, and implement :meth:`predict_frames`.

    Args:
        mean (Sequence[float]): Per-channel RGB mean the network expects,
            on the 0-255 scale.
        std (Sequence[float]): Per-channel RGB std, on the 0-255 scale.
        rgb_input (bool): Whether the network takes RGB (else BGR) channels.
            Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    #: Names the label space of the pseudo labels (e.g. ``'human-vs-background'``
    #: or ``'places365'``). Caches record it, and a mismatch is an error.
    label_space: str = ''

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 rgb_input: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.rgb_input = rgb_input
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), False)

    def freeze(self) -> None:
        """Stop gradients and put every submodule in eval mode."""
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> 'BaseTeacher':
        """Teachers stay in eval mode whatever the student does."""
        return super().train(False)

    def init_weights(self) -> None:
        """Teachers keep the weights they were built or loaded with."""

    def normalize(self, frames: Tensor) -> Tensor:
        """Normalize raw frames as this teacher expects.

        Args:
            frames (Tensor): RGB frames, ``(B, 3, H, W)``, values in [0, 255].

        Returns:
            Tensor: ``(B, 3, H, W)`` normalized frames (BGR if not ``rgb_input``).
        """
        if not self.rgb_input:
            frames = frames.flip(1)
        return (frames - self.mean) / self.std

    @torch.no_grad()
    def forward(self, frames: Tensor) -> Tensor:
        """Predict pseudo labels for raw RGB frames ``(B, 3, H, W)`` in [0, 255]."""
        return self.predict_frames(frames)

    @abstractmethod
    def predict_frames(self, frames: Tensor) -> Tensor:
        """Return the pseudo labels of a batch of raw frames.

        Human teachers return a ``(B, H, W)`` long mask (1 = human, 0 = background)
        at the input resolution; scene teachers return ``(B, num_classes)``
        probabilities.
        """

    @property
    def fingerprint(self) -> Dict:
        """What identifies this teacher's output, recorded in pseudo-label caches."""
        return dict(type=type(self).__name__, label_space=self.label_space)
