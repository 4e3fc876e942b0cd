"""Public workflows: one video in, action scores and what each branch saw
(inference); the early-recognition table and the UCF-101 split averaging (used
by tools/)."""
from .checkpoint import CheckpointMismatchError, load_checkpoint_strict
from .early_recognition_table import (markdown_table, plot_curves, run_table,
                                      stage_config, train_and_test)
from .gradcam import class_activation_maps, default_target_layer
from .inference import (inference_kinet, init_kinet, predict_auxiliary_chunked,
                        prepare_video)
from .labels import (LabelMapError, action_class_names, read_label_map,
                     scene_class_names)
from .split_average import (dump_test_scores, fused_top1, load_scores,
                            markdown_split_table, split_table)

__all__ = [
    'CheckpointMismatchError', 'LabelMapError', 'action_class_names',
    'class_activation_maps', 'default_target_layer', 'dump_test_scores',
    'fused_top1', 'inference_kinet', 'init_kinet', 'load_checkpoint_strict', 'load_scores',
    'markdown_split_table', 'markdown_table', 'plot_curves',
    'predict_auxiliary_chunked', 'prepare_video', 'read_label_map', 'run_table',
    'scene_class_names', 'split_table', 'stage_config', 'train_and_test'
]
