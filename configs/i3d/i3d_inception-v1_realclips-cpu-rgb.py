# RGB I3D (Inflated Inception-v1) on the 16 real clips, sized for a 2-core CPU:
# 16-frame clips (every 2nd frame), 112x112 crops, trained from scratch (no
# ImageNet weights offline). A pipeline check, not the paper's recipe; see
# i3d_imagenet-inflated-inception-v1_8xb8-64x1x1-100e_kinetics400-rgb.py and
# docs/i3d.md.
_base_ = [
    '../_base_/models/i3d_inception-v1.py',
    'mmaction::_base_/schedules/sgd_100e.py',
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/realclips_1x1x3.py',
]
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(cls_head=dict(num_classes=10))

file_client_args = dict(io_backend='disk')
clip = dict(clip_len=16, frame_interval=2)
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', num_clips=1, **clip),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomCrop', size=112),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', num_clips=1, test_mode=True, **clip),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Three clips spread over the video, predictions averaged (the paper runs the
# whole video through the network; these clips are up to 333 frames long).
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', num_clips=3, test_mode=True, **clip),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6, val_begin=1, val_interval=3)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=6, by_epoch=True, milestones=[4], gamma=0.1)
]
# From scratch on 12 clips, batch 4: a larger step than a linearly scaled
# fine-tuning lr (MMAction2's 0.01 for 8 x 8 clips).
optim_wrapper = dict(optimizer=dict(lr=0.01), clip_grad=dict(max_norm=40))
auto_scale_lr = dict(enable=False, base_batch_size=4)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=3, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
