"""Synthetic inputs shaped as MMAction2 pipelines give them, for benchmarks and tests."""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from ..pseudo_labels.fields import HUMAN_MASK, SCENE_IDX, SCENE_PROB

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
            return (self.num_clips * self.num_crops, 3, self.clip_len,
                    self.size, self.size)
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


def clip_shape(pipeline: Sequence[dict], input_size: int,
               test: bool) -> ClipShape:
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
        size = round(crop.get('crop_size', REFERENCE_CROP) * input_size /
                     REFERENCE_CROP)
    input_format = types.get('FormatShape', {}).get('input_format', 'NCHW')
    return ClipShape(sampler['num_clips'], sampler.get('clip_len', 1),
                     num_crops, size, input_format)


def synthetic_pseudo_labels(sample,
                            num_frames: int,
                            mask_size: Tuple[int, int],
                            num_scene_classes: int,
                            topk: int = 5,
                            generator: Optional[torch.Generator] = None):
    """Add random cached pseudo labels, as ``PackKINetInputs`` packs them.

    Args:
        sample (ActionDataSample): Gets the three pseudo-label fields.
        num_frames (int): Frames of the sample (``num_clips * clip_len``).
        mask_size (tuple[int, int]): ``(h, w)`` of the masks.
        num_scene_classes (int): Scene classes to draw ``topk`` distinct from.
        topk (int): Classes per frame. Defaults to 5.
        generator (torch.Generator, optional): For reproducible labels.

    Returns:
        ActionDataSample: ``sample``, with uint8 ``(num_frames, h, w)`` masks,
        int64 ``(num_frames, topk)`` classes and their float32 probabilities.
    """
    sample.set_field(torch.randint(0, 2, (num_frames, *mask_size),
                                   dtype=torch.uint8, generator=generator),
                     HUMAN_MASK)
    sample.set_field(torch.stack([
        torch.randperm(num_scene_classes, generator=generator)[:topk]
        for _ in range(num_frames)
    ]), SCENE_IDX)
    sample.set_field(torch.full((num_frames, topk), 1.0 / topk), SCENE_PROB)
    return sample


def uses_cached_pseudo_labels(model_cfg: Dict) -> bool:
    """Whether a KINet model config reads its pseudo labels from the data."""
    labeler = model_cfg.get('pseudo_labeler') or {}
    return (model_cfg.get('pseudo_label_source') == 'cache'
            or labeler.get('type') == 'CachedPseudoLabeler')


def make_batch(cfg: Config, shape: ClipShape, batch: int,
               device: str) -> Dict[str, list]:
    """A batch as the dataloader gives it: uint8 inputs and data samples.

    Cache-mode KINet samples carry synthetic cached pseudo labels. The tensors
    are put on ``device`` beforehand, so that timings hold no input copy.
    """
    from mmaction.structures import ActionDataSample
    num_classes = cfg.model.cls_head.get('num_classes', 2)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, shape.sample_shape,
                                    dtype=torch.uint8, device=device))
        sample = ActionDataSample().set_gt_label(
            torch.randint(0, num_classes, (1, )))
        if uses_cached_pseudo_labels(cfg.model):
            scene = cfg.model.get('scene_head') or {}
            stride = (cfg.model.get('pseudo_labeler') or {}).get('mask_stride', 8)
            synthetic_pseudo_labels(sample, shape.num_clips * shape.clip_len,
                                    (shape.size // stride, ) * 2,
                                    scene.get('num_classes', 365))
        samples.append(sample.to(device))
    return dict(inputs=inputs, data_samples=samples)
