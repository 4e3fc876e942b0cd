# KINet-ResNet50 on Kinetics-400, the recipe of section 4.2 of the paper:
# Nseg=3, frames resized to 256x340, MultiScaleCrop, SGD lr 0.01 (x0.1 at epochs
# 20/40/60), 70 epochs, momentum 0.9, weight decay 1e-5.
_base_ = [
    '../_base_/models/kinet_r50.py',
    'mmaction::_base_/schedules/sgd_100e.py',
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/kinetics400_1x1x3.py',
]

file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# Annotation lines, label range and video files are checked before the first
# step (docs/data_check.md); Kinetics' base config names no class list.
checked = dict(type='CheckedVideoDataset', num_classes=400)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, **checked))
val_dataloader = dict(dataset=checked)

default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=256)
train_cfg = dict(max_epochs=70)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=70,
        by_epoch=True,
        milestones=[20, 40, 60],
        gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-5))

# Test protocol of section 4.2: 25 segments x 10 crops (TenCrop 224 of 256x340
# frames); the AKG slides a window of Nseg=3 segments over the 25 of each crop
# and the window scores are averaged. The backbone runs once per frame.
model = dict(
    test_cfg=dict(_delete_=True, num_segs=25, window_size=3, max_testing_views=50))
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline, **checked))
