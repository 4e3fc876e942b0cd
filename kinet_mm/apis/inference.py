"""One video in: action scores, what each knowledge branch predicts, Grad-CAM."""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmaction.apis import init_recognizer
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch import Tensor

from ..compat import VideoReadError
from ..deploy import without_teachers
from ..pseudo_labels import LoadPseudoLabels
from ..utils.frames import preprocessed_to_rgb
from .checkpoint import load_checkpoint_strict
from .gradcam import class_activation_maps

ConfigType = Union[str, Path, Config]


def init_kinet(config: ConfigType,
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[Dict] = None) -> nn.Module:
    """Build a recognizer for inference, as MMAction2's ``init_recognizer``.

    Differences, both for inference: a KINet's teachers (training-only) are
    not built, and the checkpoint must match the model key for key and shape
    for shape (:func:`load_checkpoint_strict`); ``init_recognizer`` would only
    warn and leave mismatched layers random. Works for any MMAction2
    recognizer config (e.g. the TSN of Figure 5).

    Args:
        config (str | Path | Config): Config file or object (not modified).
        checkpoint (str, optional): Weights; ``None`` keeps the random init.
        device (str | torch.device): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with the config as ``model.cfg``.
    """
    name = str(config) if isinstance(config, (str, Path)) else None
    cfg = Config.fromfile(config) if name else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # Prediction never runs the teachers; model.cfg stays the user's config
    # (it still names each teacher's label space, for instance).
    # Nor measures agreement: a video has no teacher labels to agree with.
    model_cfg = without_teachers(cfg.model)
    if model_cfg.get('test_cfg'):
        model_cfg['test_cfg'].pop('knowledge_agreement', None)
    model = init_recognizer(
        Config(dict(cfg.to_dict(), model=model_cfg)), checkpoint=None, device='cpu')
    model.cfg = cfg
    if checkpoint is not None:
        loaded = load_checkpoint_strict(model, checkpoint, config_name=name)
        dataset_meta = loaded.get('meta', {}).get('dataset_meta')
        if dataset_meta:
            model.dataset_meta = dataset_meta
    return model.to(device).eval()


def prepare_video(model: nn.Module,
                  video: Union[str, Path, Dict],
                  test_pipeline: Optional[Compose] = None) -> Dict:
    """Decode and sample a video with the test pipeline; collate a batch of one.

    Args:
        model (nn.Module): A model from :func:`init_kinet` (for ``model.cfg``).
        video (str | Path | dict): A video file, or a pipeline input dict as
            MMAction2's ``inference_recognizer`` takes.
        test_pipeline (Compose, optional): Defaults to ``cfg.test_pipeline``.

    Returns:
        dict: ``inputs`` and ``data_samples`` (lists of one); the sample's
        metainfo has ``frame_inds``, the sampled frames' indices in the video.

    Raises:
        FileNotFoundError: If the video file does not exist.
        VideoReadError: If the pipeline cannot decode it (names the file).
    """
    if isinstance(video, (str, Path)):
        video = str(video)
        if not osp.isfile(video):
            raise FileNotFoundError(f'video not found: {video}')
        results = dict(filename=video, label=-1, start_index=0, modality='RGB')
    elif isinstance(video, dict):
        results = dict(video)
    else:
        raise TypeError(f'video must be a file path or a pipeline dict, got '
                        f'{type(video).__name__}')
    if test_pipeline is None:
        init_default_scope(model.cfg.get('default_scope', 'mmaction'))
        test_pipeline = Compose(model.cfg.test_pipeline)
    source = results.get('filename', 'the video')
    frame_inds = None
    # Step by step, to keep the sampled frame indices that packing drops. A
    # video need not be in the pseudo-label cache of the config's pipeline.
    for transform in test_pipeline.transforms:
        if isinstance(transform, LoadPseudoLabels):
            continue
        try:
            results = transform(results)
        except (FileNotFoundError, VideoReadError):
            raise
        except Exception as err:
            raise VideoReadError(
                f'cannot read {source}: {type(transform).__name__} of the test '
                f'pipeline failed: {err}') from err
        if results is None:
            raise VideoReadError(f'{type(transform).__name__} of the test '
                                 f'pipeline dropped {source}')
        if 'frame_inds' in results:
            frame_inds = results['frame_inds']
    if frame_inds is not None:
        results['data_samples'].set_metainfo(
            dict(frame_inds=torch.as_tensor(frame_inds).flatten()))
    return pseudo_collate([results])


@torch.no_grad()
def predict_auxiliary_chunked(model: nn.Module,
                              inputs: Tensor,
                              chunk_size: int = 32,
                              progress: bool = False) -> Dict[str, Tensor]:
    """``KINet.predict_auxiliary`` over the frames of one video, in chunks.

    The auxiliary outputs are per frame, so chunks of frames bound the memory
    of a long video without changing the result.

    Args:
        inputs (Tensor): Preprocessed ``(1, S, 3, H, W)``.
        chunk_size (int): Frames per forward pass.
        progress (bool): Show a progress bar when there is more than one chunk.

    Returns:
        dict: Each knowledge task's prediction ``(S, ...)`` (e.g. human
        ``(S, H, W)`` and scene ``(S, K)`` probabilities).
    """
    chunks = inputs.split(chunk_size, dim=1)
    bar = ProgressBar(len(chunks)) if progress and len(chunks) > 1 else None
    outputs: Dict[str, list] = {}
    for chunk in chunks:
        for key, value in model.predict_auxiliary(chunk).items():
            outputs.setdefault(key, []).append(value)
        if bar is not None:
            bar.update()
    return {key: torch.cat(values) for key, values in outputs.items()}


def inference_kinet(model: nn.Module,
                    video: Union[str, Path, Dict],
                    test_pipeline: Optional[Compose] = None,
                    gradcam: bool = False,
                    target_class: Optional[int] = None,
                    target_layer_name: Optional[str] = None,
                    chunk_size: int = 32,
                    progress: bool = False) -> ActionDataSample:
    """Recognize one video and return what every KINet branch saw.

    ``pred_score`` is exactly MMAction2's ``inference_recognizer`` result;
    the other fields are per input frame ``t`` (``S = num_views * num_segs``
    frames, in the order the test pipeline made them) and pixel-aligned with
    ``frames[t]``, the model's input after resizing and cropping.

    Args:
        model (nn.Module): From :func:`init_kinet` (a TSN works too; it has no
            auxiliary fields).
        video (str | Path | dict): A video file, a pipeline input dict, or a
            batch from :func:`prepare_video` (to reuse one decoding).
        test_pipeline (Compose, optional): Defaults to ``cfg.test_pipeline``.
        gradcam (bool): Also compute Grad-CAM maps of the action branch.
        target_class (int, optional): Class of the Grad-CAM maps; defaults to
            the top-1 prediction.
        target_layer_name (str, optional): See :func:`class_activation_maps`.
        chunk_size (int): Frames per auxiliary forward pass.
        progress (bool): Progress bar over the chunks of a long video.

    Returns:
        ActionDataSample: ``pred_score`` ``(num_classes, )``; ``frames``
        ``(S, H, W, 3)`` uint8 RGB; ``frame_inds`` ``(S', )`` in the metainfo
        when the pipeline samples frames; for each knowledge task with a head
        ``pred_<task>``, its ``predict`` per frame (e.g. ``pred_human``
        ``(S, H, W)``, the student's human probability, and ``pred_scene``
        ``(S, num_scene_classes)``); with
        ``gradcam`` also ``gradcam`` ``(S, H, W)`` in ``[0, 1]`` and
        ``gradcam_class``.
    """
    if isinstance(video, dict) and 'inputs' in video:
        data = video
    else:
        data = prepare_video(model, video, test_pipeline)
    with torch.no_grad():
        result = model.test_step(copy.deepcopy(data))[0]
        inputs = model.data_preprocessor(copy.deepcopy(data), False)['inputs']
    frames = preprocessed_to_rgb(inputs, model.data_preprocessor)
    result.frames = frames.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3,
                                                                         1).cpu()
    if getattr(model, 'distilling', None):
        aux = predict_auxiliary_chunked(model, inputs, chunk_size, progress)
        for key, value in aux.items():
            result.set_field(value.cpu(), f'pred_{key}')
    if gradcam:
        if target_class is None:
            target_class = int(result.pred_score.argmax())
        maps, _ = class_activation_maps(model, data, target_class, target_layer_name)
        result.gradcam = maps[0].cpu()
        result.gradcam_class = target_class
    return result
