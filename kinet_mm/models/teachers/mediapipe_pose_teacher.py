"""Pose teacher: MediaPipe Pose's pretrained body landmarks, shipped in its wheel."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import Tensor

from .base import BaseTeacher
from .utils import check_frames

#: MediaPipe Pose's 33 landmarks in its output order (``mediapipe.solutions.
#: pose.PoseLandmark``, lower case). Spelt out so that building the teacher
#: needs no (slow) mediapipe import; the tests compare it with the enum.
MEDIAPIPE_POSE_LANDMARKS = ('nose', 'left_eye_inner', 'left_eye', 'left_eye_outer',
                            'right_eye_inner', 'right_eye', 'right_eye_outer',
                            'left_ear', 'right_ear', 'mouth_left', 'mouth_right',
                            'left_shoulder', 'right_shoulder', 'left_elbow',
                            'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky',
                            'right_pinky', 'left_index', 'right_index', 'left_thumb',
                            'right_thumb', 'left_hip', 'right_hip', 'left_knee',
                            'right_knee', 'left_ankle', 'right_ankle', 'left_heel',
                            'right_heel', 'left_foot_index', 'right_foot_index')

#: The 13 body keypoints of the default order (COCO's body without eyes and
#: ears): nose, then left/right shoulders, elbows, wrists, hips, knees, ankles.
BODY13_KEYPOINTS = ('nose', 'left_shoulder', 'right_shoulder', 'left_elbow',
                    'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
                    'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

#: ``model_complexity`` -> the landmark model file it runs.
_LANDMARK_MODELS = {
    0: 'pose_landmark_lite.tflite',
    1: 'pose_landmark_full.tflite',
    2: 'pose_landmark_heavy.tflite'
}


def landmark_model_path(model_complexity: int) -> str:
    """Path of the landmark model of a complexity inside the mediapipe wheel
    (whether or not it is there)."""
    import importlib.util
    spec = importlib.util.find_spec('mediapipe')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('MediaPipePoseTeacher needs the mediapipe package '
                          '(pinned in requirements/runtime.txt)')
    root = list(spec.submodule_search_locations)[0]
    return osp.join(root, 'modules', 'pose_landmark',
                    _LANDMARK_MODELS[model_complexity])


def keypoint_flip_pairs(names: Sequence[str]) -> Tuple[Tuple[int, int], ...]:
    """``(left, right)`` index pairs of the ``left_*`` / ``right_*`` names
    (MediaPipe's mouth corners are ``mouth_left`` / ``mouth_right``)."""
    index = {name: i for i, name in enumerate(names)}
    pairs = []
    for i, name in enumerate(names):
        if name.startswith('left_'):
            partner = 'right_' + name[len('left_'):]
        elif name.endswith('_left'):
            partner = name[:-len('_left')] + '_right'
        else:
            continue
        if partner in index:
            pairs.append((i, index[partner]))
    return tuple(pairs)


@MODELS.register_module()
class MediaPipePoseTeacher(BaseTeacher):
    """Body keypoints from MediaPipe Pose, run on the CPU.

    The pose teacher of :class:`~kinet_mm.models.knowledge.pose.PoseKnowledge`,
    needing no download: the models ship in the ``mediapipe`` wheel
    (``mediapipe/modules/pose_detection/pose_detection.tflite`` and
    ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``; the wheel
    bundles only the ``full`` landmark model, ``model_complexity=1``). They run
    through the legacy ``mediapipe.solutions.pose`` graph with
    ``static_image_mode``: every frame is detected and landmarked on its own,
    nothing is tracked or smoothed across calls. MediaPipe Pose finds one
    person, the most prominent.

    Output ``(x, y, confidence)`` per keypoint: ``x, y`` normalised to the
    frame (``0`` left/top edge, ``1`` right/bottom edge), the confidence
    MediaPipe's landmark visibility. A frame without a detected person gives
    confidence 0 everywhere, and so does a landmark outside the frame (MediaPipe
    extrapolates occluded limbs past the border): as a keypoint cropped away
    by :func:`~kinet_mm.models.knowledge.keypoints.warp_keypoints`, so online
    and cached labels agree.

    The teacher has no torch parameters; the MediaPipe graph is created on
    first use (and dropped when the module is pickled or deep-copied).

    Args:
        keypoints (Sequence[str], optional): Landmark names to output, in
            order (:data:`MEDIAPIPE_POSE_LANDMARKS`). Defaults to the 13 body
            keypoints :data:`BODY13_KEYPOINTS`.
        min_detection_confidence (float): Person detector score needed to
            landmark a frame. Defaults to 0.5.
        min_presence_confidence (float): Pose presence score of the landmark
            model below which the frame counts as without person (MediaPipe's
            ``min_tracking_confidence``, which in static mode only does
            this). Defaults to 0.5.
        model_complexity (int): MediaPipe's landmark model: 0 lite, 1 full,
            2 heavy. Only a model the installed wheel bundles can be used
            (mediapipe would download the others). Defaults to 1.
        init_cfg (dict, optional): Unused.
    """

    #: For the default keypoints; other ``keypoints`` list their names instead.
    label_space = 'mediapipe-pose->body13'

    def __init__(self,
                 keypoints: Optional[Sequence[str]] = None,
                 min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5,
                 model_complexity: int = 1,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        names = tuple(BODY13_KEYPOINTS if keypoints is None else keypoints)
        unknown = [name for name in names if name not in MEDIAPIPE_POSE_LANDMARKS]
        if not names or unknown or len(set(names)) != len(names):
            raise ValueError(
                f'MediaPipePoseTeacher keypoints must be distinct names of '
                f'{MEDIAPIPE_POSE_LANDMARKS}, got {list(names)}' +
                (f' (unknown: {unknown})' if unknown else ''))
        for arg, value in (('min_detection_confidence', min_detection_confidence),
                           ('min_presence_confidence', min_presence_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'{arg} must be in [0, 1], got {value}')
        if model_complexity not in _LANDMARK_MODELS:
            raise ValueError(f'model_complexity must be 0, 1 or 2, got '
                             f'{model_complexity}')
        model_path = landmark_model_path(model_complexity)
        if not osp.isfile(model_path):
            raise FileNotFoundError(
                f'MediaPipe Pose model_complexity={model_complexity} needs '
                f'{model_path}, which the installed mediapipe wheel does not '
                'bundle (and mediapipe would download it): use '
                'model_complexity=1, the bundled pose_landmark_full.tflite')
        self.keypoint_names = names
        self.num_keypoints = len(names)
        self.flip_pairs = keypoint_flip_pairs(names)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_presence_confidence = float(min_presence_confidence)
        self.model_complexity = model_complexity
        if names != BODY13_KEYPOINTS:
            self.label_space = 'mediapipe-pose->' + ','.join(names)
        self._landmark_index = [MEDIAPIPE_POSE_LANDMARKS.index(name) for name in names]
        self._pose = None
        self.freeze()

    @torch.no_grad()
    def predict_frames(self, frames: Tensor) -> Tensor:
        """Keypoints of raw frames.

        Args:
            frames (Tensor): ``(B, 3, H, W)`` RGB frames, values in [0, 255].

        Returns:
            Tensor: ``(B, K, 3)`` float32 ``(x, y, confidence)`` on the frames'
            device, ``x, y`` in ``[0, 1]`` of the frame where confident.
        """
        check_frames(frames)
        images = frames.detach().float().round().clamp(0, 255).to(torch.uint8)
        images = images.permute(0, 2, 3, 1).cpu().numpy()
        pose = self._get_pose()
        keypoints = np.zeros((len(images), self.num_keypoints, 3), np.float32)
        for i, image in enumerate(images):
            landmarks = pose.process(np.ascontiguousarray(image)).pose_landmarks
            if landmarks is None:  # nobody found: confidence 0 everywhere
                continue
            for k, index in enumerate(self._landmark_index):
                landmark = landmarks.landmark[index]
                keypoints[i, k] = (landmark.x, landmark.y, landmark.visibility)
        outside = ((keypoints[..., :2] < 0) | (keypoints[..., :2] > 1)).any(-1)
        keypoints[..., 2][outside] = 0
        return torch.from_numpy(keypoints).to(frames.device)

    def _get_pose(self):
        if self._pose is None:
            # Imported here: mediapipe is slow to import and only the teacher needs it.
            from mediapipe.python.solutions.pose import Pose
            self._pose = Pose(
                static_image_mode=True,
                model_complexity=self.model_complexity,
                enable_segmentation=False,
                min_detection_confidence=self.min_detection_confidence,
                min_tracking_confidence=self.min_presence_confidence)
        return self._pose

    def close(self) -> None:
        """Release the MediaPipe graph (it is recreated if needed)."""
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __getstate__(self) -> Dict:
        # The graph holds native resources that cannot be pickled or copied.
        state = super().__getstate__().copy()
        state['_pose'] = None
        return state

    @property
    def fingerprint(self) -> Dict:
        """Base fingerprint plus the model, thresholds and keypoints."""
        return dict(
            super().fingerprint,
            model_complexity=self.model_complexity,
            min_detection_confidence=self.min_detection_confidence,
            min_presence_confidence=self.min_presence_confidence,
            keypoints=list(self.keypoint_names))
