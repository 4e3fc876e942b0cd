# Baseline: the GRU-512 student with L_cls only.
_base_ = './gru512-kd_realclips.py'
model = dict(teacher=None, teacher_checkpoint=None, loss_ts=None, loss_self=None)
