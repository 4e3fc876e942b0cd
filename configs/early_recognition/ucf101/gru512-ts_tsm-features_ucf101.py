# Ablation: teacher-student distillation only (no self-distillation).
_base_ = './gru512-kd_tsm-features_ucf101.py'
model = dict(loss_self=None)
