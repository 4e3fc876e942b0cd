"""One video in: action scores and what each branch saw (inference), class
names, strict checkpoint loading, Grad-CAM, and models exported by MMDeploy
(:func:`init_deployed`: ONNX Runtime or TorchScript). Experiment drivers are
in :mod:`kinet_mm.experiments`."""
from ..deployment.backend import init_deployed  # MMDeploy imported on call
from .checkpoint import CheckpointMismatchError, load_checkpoint_strict
from .gradcam import class_activation_maps, default_target_layer
from .inference import (inference_kinet, init_kinet, predict_auxiliary_chunked,
                        prepare_video)
from .labels import LabelMapError, action_class_names, read_label_map

__all__ = [
    'CheckpointMismatchError', 'LabelMapError', 'action_class_names',
    'class_activation_maps', 'default_target_layer', 'inference_kinet', 'init_deployed',
    'init_kinet', 'load_checkpoint_strict', 'predict_auxiliary_chunked',
    'prepare_video', 'read_label_map'
]
