# Semi-supervised baseline (paper Tab. 3, UCF-101 AUC 85.0): L_cls on the 10 %
# labelled videos; it cannot use the unlabelled ones.
_base_ = './gru512-baseline_tsm-features_ucf101.py'
train_dataloader = dict(dataset=dict(labelled_fraction=0.1))
