# Stage 1 on the real clips' features (a pipeline check, not a benchmark): the
# BiGRU-256 teacher on fully observed sequences of 12 training videos.
_base_ = [
    '../_base_/models/gru512-student_bigru256-teacher.py',
    '../_base_/datasets/realclips_features.py',
    '../_base_/schedules/sgd_lr0.01_30e_realclips.py', '../_base_/default_runtime.py'
]
# TSN-R50 features (2048-d); tools/analysis/early_recognition_table.py sets
# in_channels from each feature cache's meta.json. BN1d on the input features
# (not in the paper): random-weight features are near-parallel (cosine ~0.998).
model = dict(
    head=dict(
        num_classes=10,
        in_channels=2048,
        hidden_channels=256,
        bidirectional=True,
        norm_cfg=dict(type='BN1d')),
    teacher=None,
    loss_ts=None,
    loss_self=None)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=30, save_best=None))
