# Ablation: teacher-student distillation only (no self-distillation).
_base_ = './gru512-kd_realclips.py'
model = dict(loss_self=None)
