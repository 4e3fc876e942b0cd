"""Synthetic inputs shaped as MMAction2 pipelines give them (benchmarks,
tests)."""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

#: Crop transforms of test pipelines and the number of views each makes.
CROP_VIEWS = dict(TenCrop=10, ThreeCrop=3, CenterCrop=1)
#: The crop size the ``--input-size`` stands for.
REFERENCE_CROP = 224


@dataclass
class ClipShape:
    """What a pipeline makes of one video.

    Attributes:
        num_clips (int): Clips (segments) sampled.
        clip_len (int): Frames per clip.
        num_crops (int): Spatial views per clip.
        size (int): Side of the (square) crops.
        input_format (str): ``'NCHW'`` or ``'NCTHW'``.
    """
    num_clips: int
    clip_len: int
    num_crops: int
    size: int
    input_format: str

    @property
    def num_frames(self) -> int:
        return self.num_clips * self.clip_len * self.num_crops

    @property
    def sample_shape(self) -> Tuple[int, ...]:
        """Shape of one packed sample (``PackActionInputs``' ``inputs``)."""
        if self.input_format == 'NCTHW':
            return (self.num_clips * self.num_crops, 3, self.clip_len, self.size,
                    self.size)
        return (self.num_frames, 3, self.size, self.size)

    @property
    def num_views(self) -> int:
        """Independent views the recognizer scores (crops, clips of 3D)."""
        if self.input_format == 'NCTHW':
            return self.num_clips * self.num_crops
        return self.num_crops

    def describe(self) -> str:
        views = f'{self.num_clips}x{self.num_crops}'
        if self.clip_len > 1:
            views = f'{self.num_clips}x{self.clip_len}fx{self.num_crops}'
        return f'{views} @{self.size}'


def clip_shape(pipeline: Sequence[dict], input_size: int, test: bool) -> ClipShape:
    """Read clips, frames, crops and format from a pipeline.

    Args:
        pipeline (Sequence[dict]): A train or test pipeline.
        input_size (int): Side that a 224 crop becomes.
        test (bool): Whether multi-crop transforms make views.

    Returns:
        ClipShape: The shape of one video.
    """
    types = {step['type']: step for step in pipeline}
    sampler = next((step for step in pipeline if 'num_clips' in step), None)
    if sampler is None:
        raise ValueError('the pipeline has no frame sampler with num_clips')
    crop = next((step for step in pipeline if step['type'] in CROP_VIEWS), None)
    num_crops, size = 1, input_size
    if test and crop is not None:
        num_crops = CROP_VIEWS[crop['type']]
        size = round(
            crop.get('crop_size', REFERENCE_CROP) * input_size / REFERENCE_CROP)
    input_format = types.get('FormatShape', {}).get('input_format', 'NCHW')
    return ClipShape(sampler['num_clips'], sampler.get('clip_len', 1), num_crops, size,
                     input_format)


def synthetic_pseudo_labels(sample,
                            tasks: Dict,
                            num_frames: int,
                            size: Tuple[int, int],
                            generator: Optional[torch.Generator] = None):
    """Add random cached pseudo labels of every knowledge task, as
    ``PackKINetInputs`` packs them (each task's ``random_fields``).

    Args:
        sample (ActionDataSample): Gets the tasks' fields.
        tasks (dict): The model's knowledge tasks.
        num_frames (int): Frames of the sample (``num_clips * clip_len``).
        size (tuple[int, int]): ``(H, W)`` of the frames.
        generator (torch.Generator, optional): For reproducible labels.
    """
    for task in tasks.values():
        if task.distils:
            for key, value in task.random_fields(num_frames, size, generator).items():
                sample.set_field(value, key)
    return sample


def uses_cached_pseudo_labels(model_cfg: Dict) -> bool:
    """Whether a KINet model config reads its pseudo labels from the data."""
    return model_cfg.get('pseudo_label_source') == 'cache'


def make_batch(cfg: Config, shape: ClipShape, batch: int,
               device: str) -> Dict[str, list]:
    """A batch as the dataloader gives it: uint8 inputs and data samples.

    Cache-mode KINet samples carry synthetic cached pseudo labels. The tensors
    are put on ``device`` beforehand, so that timings hold no input copy.
    """
    from mmaction.structures import ActionDataSample

    from ..models.knowledge import build_knowledge
    num_classes = cfg.model.cls_head.get('num_classes', 2)
    tasks = (
        build_knowledge(cfg.model, 'cache')
        if uses_cached_pseudo_labels(cfg.model) else {})
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(
            torch.randint(0, 256, shape.sample_shape, dtype=torch.uint8, device=device))
        sample = ActionDataSample().set_gt_label(torch.randint(0, num_classes, (1, )))
        synthetic_pseudo_labels(sample, tasks, shape.num_clips * shape.clip_len,
                                (shape.size, shape.size))
        samples.append(sample.to(device))
    return dict(inputs=inputs, data_samples=samples)
