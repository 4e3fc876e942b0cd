# Stage 2 on UCF-101, the full method: GRU-512 student with L_cls, teacher-student
# KL (alpha 0.5) and self-distillation (beta 0.5, tau 1). The frozen teacher is
# loaded from stage 1's work dir (its last_checkpoint), so run stage 1 first:
#   python tools/train.py configs/early_recognition/ucf101/bigru256-teacher_tsm-features_ucf101.py
#   python tools/train.py configs/early_recognition/ucf101/gru512-kd_tsm-features_ucf101.py
# Paper (Tab. 1, UCF-101): AUC 92.0 (91.7 without distillation, 91.8 without
# L_self).
_base_ = [
    '../_base_/models/gru512-student_bigru256-teacher.py',
    '../_base_/datasets/ucf101-groups_tsm-features.py',
    '../_base_/schedules/sgd_lr0.01_50e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint='work_dirs/bigru256-teacher_tsm-features_ucf101')
