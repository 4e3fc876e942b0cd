# Stage 2 on the real clips' features, the full method (alpha = beta = 0.5,
# tau = 1, as the UCF-101 config); the frozen teacher comes from stage 1:
#   python tools/train.py configs/early_recognition/realclips/bigru256-teacher_realclips.py
#   python tools/train.py configs/early_recognition/realclips/gru512-kd_realclips.py
_base_ = [
    '../_base_/models/gru512-student_bigru256-teacher.py',
    '../_base_/datasets/realclips_features.py',
    '../_base_/schedules/sgd_lr0.01_30e_realclips.py', '../_base_/default_runtime.py'
]
# BN1d on the input features as in the teacher stage (not in the paper).
model = dict(
    head=dict(num_classes=10, in_channels=2048, norm_cfg=dict(type='BN1d')),
    teacher=dict(num_classes=10, in_channels=2048, norm_cfg=dict(type='BN1d')),
    teacher_checkpoint='work_dirs/bigru256-teacher_realclips')
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=30, save_best=None))
