# Semi-supervised stage 1 on the real clips: 6 of the 12 training videos keep
# their label (the paper's 10 % would leave one labelled clip).
_base_ = './bigru256-teacher_realclips.py'
train_dataloader = dict(dataset=dict(labelled_fraction=0.5))
