# Semi-supervised stage 2: the 6 unlabelled videos enter only L_ts and L_self.
_base_ = './gru512-kd_realclips.py'
model = dict(teacher_checkpoint='work_dirs/bigru256-teacher_semi50pct_realclips')
train_dataloader = dict(dataset=dict(labelled_fraction=0.5))
