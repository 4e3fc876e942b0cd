# MMAction2's runtime, keeping the checkpoint with the best early-recognition
# AUC; custom_imports registers EarlyRecognizer, GRUHead, the losses, the
# dataset and the metric.
_base_ = 'mmaction::_base_/default_runtime.py'
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)
default_hooks = dict(
    checkpoint=dict(
        interval=5, max_keep_ckpts=2, save_best='early/auc', rule='greater'),
    logger=dict(interval=20))
randomness = dict(seed=0)
