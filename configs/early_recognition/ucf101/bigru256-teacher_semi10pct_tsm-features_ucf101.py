# Semi-supervised stage 1 (paper Tab. 3): only 10 % of the training videos keep
# their label, so the teacher learns from those alone (the others are masked
# out of L_cls).
_base_ = './bigru256-teacher_tsm-features_ucf101.py'
train_dataloader = dict(dataset=dict(labelled_fraction=0.1))
