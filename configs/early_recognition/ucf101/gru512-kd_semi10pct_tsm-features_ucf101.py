# Semi-supervised stage 2 (paper Tab. 3, UCF-101 AUC 88.8): 10 % labelled; the
# other 90 % enter only L_ts and L_self. The paper "lowers the contribution of
# the prediction loss" without a value; we keep 1.0 (change loss_cls.loss_weight).
_base_ = './gru512-kd_tsm-features_ucf101.py'
model = dict(
    teacher_checkpoint='work_dirs/bigru256-teacher_semi10pct_tsm-features_ucf101')
train_dataloader = dict(dataset=dict(labelled_fraction=0.1))
