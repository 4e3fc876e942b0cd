# TSN-R50 baseline on the real clips, sized for a 2-core CPU.
#
# The model, schedule and runtime are those of MMAction2's
# ``recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py``
# (which is exactly these three bases plus Kinetics-400 data); the data are the
# real clips of ``configs/_base_/datasets/realclips_1x1x3.py``. MMEngine refuses
# a key defined by two bases, so the Kinetics file itself cannot be a sibling
# base of the data file.
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    'mmaction::_base_/schedules/sgd_100e.py',
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/realclips_1x1x3.py',
]
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

# No downloads are possible: train from scratch.
model = dict(
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=10))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=3, val_begin=1, val_interval=1)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=3,
        by_epoch=True,
        milestones=[2],
        gamma=0.1)
]
# MMAction2's lr 0.01 is for 8 GPUs x 32 videos; scaled linearly to one
# process x 4 videos. ``--auto-scale-lr`` scales it from this batch size.
optim_wrapper = dict(optimizer=dict(lr=0.01 * 4 / 256))
auto_scale_lr = dict(enable=False, base_batch_size=4)

default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=3))

# gloo also runs on CPUs (nccl is faster on GPUs): with kinet_mm's compat shim
# tools/dist_*.sh runs CPU ranks; MMEngine's slurm launcher still needs GPUs.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
