# Early recognition with knowledge distillation
# (../shared/papers/early_recognition_kd.txt, Sec. 2 and 3.1):
# student = one-layer GRU, hidden 512, a prediction at every progression level;
# teacher = one-layer BiGRU, 256 per direction, trained on full sequences first
# (stage 1, see ../../ucf101/bigru256-teacher_tsm-features_ucf101.py), then
# frozen and loaded from ``teacher_checkpoint`` (its ``head.*`` weights).
#
# Eq. (4): L = L_cls + alpha * L_ts + beta * L_self; alpha and beta are the
# loss weights below, tau is ``lead_time``. The paper gives alpha = beta = 0.5
# for UCF-101 (1.0 for SYSU 3DHOI / NTU RGB-D) and no tau; tau = 1 is ours.
num_classes = 101
feature_dim = 2048

model = dict(
    type='EarlyRecognizer',
    head=dict(
        type='GRUHead',
        num_classes=num_classes,
        in_channels=feature_dim,
        hidden_channels=512),
    teacher=dict(
        type='GRUHead',
        num_classes=num_classes,
        in_channels=feature_dim,
        hidden_channels=256,
        bidirectional=True),
    teacher_checkpoint=None,
    loss_cls=dict(type='StepwiseCrossEntropyLoss'),
    loss_ts=dict(type='StepwiseKLDivLoss', loss_weight=0.5),
    loss_self=dict(type='SelfDistillationLoss', lead_time=1, loss_weight=0.5))
