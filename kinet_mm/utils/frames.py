"""Between the student's preprocessed inputs and the 0-255 RGB frames teachers see."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

Stats = Union[Sequence[float], Tensor]


def unnormalize(frames: Tensor, mean: Optional[Stats], std: Optional[Stats]) -> Tensor:
    """Undo ``(x - mean) / std`` on ``(..., 3, H, W)`` frames.

    This is the one place where the student's input normalisation is inverted:
    online teachers, teacher-feature branches and visualisations all see the
    augmented frames as 0-255 RGB through it.

    Args:
        frames (Tensor): ``(..., 3, H, W)`` normalised frames.
        mean (Sequence[float] | Tensor, optional): Per-channel mean on the 0-255
            scale; ``None`` (no normalisation) returns ``frames`` as they are.
        std (Sequence[float] | Tensor, optional): Per-channel std.

    Returns:
        Tensor: ``(..., 3, H, W)`` frames on the 0-255 scale.
    """
    if mean is None or std is None:
        return frames
    shape = (3, 1, 1)
    mean = torch.as_tensor(mean, dtype=frames.dtype, device=frames.device)
    std = torch.as_tensor(std, dtype=frames.dtype, device=frames.device)
    return frames * std.reshape(shape) + mean.reshape(shape)


def preprocessed_to_rgb(inputs: Tensor, data_preprocessor) -> Tensor:
    """0-255 RGB frames ``(N * num_segs, 3, H, W)`` of a preprocessed 2D batch.

    Args:
        inputs (Tensor): ``(N, num_segs, 3, H, W)`` as MMAction2's
            ``ActionDataPreprocessor`` gives them (format ``NCHW``).
        data_preprocessor: The preprocessor that normalised them; without
            ``mean``/``std`` (normalisation off) the frames are returned flat.
    """
    enabled = getattr(data_preprocessor, '_enable_normalize', False)
    return unnormalize(
        inputs.flatten(0, 1), data_preprocessor.mean if enabled else None,
        data_preprocessor.std if enabled else None)
