# The real-clip CPU schedule for a student trained from scratch on 12 clips
# (no ImageNet weights offline): a larger step than the baseline's linearly
# scaled fine-tuning lr, for 15 epochs.
_base_ = './realclips_cpu.py'

optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg = dict(max_epochs=15, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=15, by_epoch=True, milestones=[10])
]
default_hooks = dict(checkpoint=dict(interval=5))
