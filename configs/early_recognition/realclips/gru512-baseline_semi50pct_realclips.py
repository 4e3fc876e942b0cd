# Semi-supervised baseline: L_cls on the 6 labelled videos only.
_base_ = './gru512-baseline_realclips.py'
train_dataloader = dict(dataset=dict(labelled_fraction=0.5))
