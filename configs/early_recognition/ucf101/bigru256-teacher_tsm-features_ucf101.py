# Stage 1 of early recognition on UCF-101: the teacher, a one-layer BiGRU (256
# per direction) trained with L_cls on fully observed feature sequences. Its
# checkpoints are the frozen teacher of the gru512-*_ucf101 configs:
#   python tools/train.py configs/early_recognition/ucf101/bigru256-teacher_tsm-features_ucf101.py
_base_ = [
    '../_base_/models/gru512-student_bigru256-teacher.py',
    '../_base_/datasets/ucf101-groups_tsm-features.py',
    '../_base_/schedules/sgd_lr0.01_50e.py', '../_base_/default_runtime.py'
]
model = dict(
    head=dict(hidden_channels=256, bidirectional=True),
    teacher=None,
    loss_ts=None,
    loss_self=None)
