# Baseline: the GRU-512 student with L_cls only (no teacher, no distillation).
_base_ = './gru512-kd_tsm-features_ucf101.py'
model = dict(teacher=None, teacher_checkpoint=None, loss_ts=None, loss_self=None)
