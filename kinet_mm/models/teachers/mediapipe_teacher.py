"""Human teacher of the offline demo: MediaPipe's pretrained selfie segmentation."""
from typing import Dict, Optional

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import Tensor

from .base import BaseTeacher
from .utils import check_frames


@MODELS.register_module()
class MediaPipeHumanTeacher(BaseTeacher):
    """Person masks from MediaPipe Selfie Segmentation, run on the CPU.

    A stand-in for the paper's LIP parser that needs no download: the TFLite
    models ship in the ``mediapipe`` wheel
    (``mediapipe/modules/selfie_segmentation/``). They are run through the legacy
    ``mediapipe.solutions.selfie_segmentation`` graph that ships with them, so
    resizing and normalization are the ones they were released with (the files
    carry no metadata for the Tasks ``ImageSegmenter`` to take them from). The
    graph smooths nothing across calls: every frame is segmented on its own.
    The models were trained on selfies and video calls: they are most reliable
    on people who fill a good part of the frame and miss small or distant ones.

    The teacher has no torch parameters; the MediaPipe graph is created on first
    use (and dropped when the module is pickled or deep-copied).

    Args:
        threshold (float): A pixel is human when its person probability is above
            this. Defaults to 0.5.
        model_selection (int): 0 for the general model (256x256 input), 1 for the
            landscape model (144x256, faster). Defaults to 0.
        init_cfg (dict, optional): Unused.
    """

    label_space = 'selfie->human'

    def __init__(self,
                 threshold: float = 0.5,
                 model_selection: int = 0,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f'threshold must be in (0, 1), got {threshold}')
        if model_selection not in (0, 1):
            raise ValueError(f'model_selection must be 0 or 1, got {model_selection}')
        self.threshold = threshold
        self.model_selection = model_selection
        self._segmenter = None
        self.freeze()

    def predict_frames(self, frames: Tensor) -> Tensor:
        """Human masks of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, H, W)`` long on the frames' device, 1 = human.
        """
        probs = self.person_probability(frames)
        return (probs > self.threshold).long()

    @torch.no_grad()
    def person_probability(self, frames: Tensor) -> Tensor:
        """Per-pixel person probabilities of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, H, W)`` float32 on the frames' device.
        """
        check_frames(frames)
        images = frames.detach().float().round().clamp(0, 255).to(torch.uint8)
        images = images.permute(0, 2, 3, 1).cpu().numpy()
        segmenter = self._get_segmenter()
        masks = [
            segmenter.process(np.ascontiguousarray(image)).segmentation_mask
            for image in images
        ]
        return torch.from_numpy(np.stack(masks)).float().to(frames.device)

    def _get_segmenter(self):
        if self._segmenter is None:
            # Imported here: mediapipe is a demo dependency, slow to import.
            from mediapipe.python.solutions.selfie_segmentation import \
                SelfieSegmentation
            self._segmenter = SelfieSegmentation(model_selection=self.model_selection)
        return self._segmenter

    def close(self) -> None:
        """Release the MediaPipe graph (it is recreated if needed)."""
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None

    def __getstate__(self) -> Dict:
        # The graph holds native resources that cannot be pickled or copied.
        state = super().__getstate__().copy()
        state['_segmenter'] = None
        return state

    @property
    def fingerprint(self) -> Dict:
        """Base fingerprint plus the model and threshold."""
        return dict(
            super().fingerprint,
            model_selection=self.model_selection,
            threshold=self.threshold)
