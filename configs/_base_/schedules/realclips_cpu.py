# Schedule and runtime of the real-clip configs on a 2-core CPU: MMAction2's
# SGD schedule and runtime, shortened, with the lr linearly scaled to a batch
# of 4 clips, logs every step and the gloo backend for CPU process groups.
_base_ = [
    'mmaction::_base_/schedules/sgd_100e.py',
    'mmaction::_base_/default_runtime.py',
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, val_begin=1, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=3, by_epoch=True, milestones=[2], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.01 * 4 / 256))
auto_scale_lr = dict(enable=False, base_batch_size=4)

default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=3))

env_cfg = dict(dist_cfg=dict(backend='gloo'))
