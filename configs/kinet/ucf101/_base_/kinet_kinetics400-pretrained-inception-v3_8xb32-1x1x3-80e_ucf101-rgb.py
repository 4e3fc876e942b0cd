# KINet-InceptionV3 transferred from Kinetics-400 to UCF-101, the RGB stream of
# the paper's "TS KINet" (Table 6: 97.8 top-1, three-split average, with the
# flow stream of configs/tsn/ucf101/; reported, not reproduced). The R50
# transfer recipe of ./kinet_kinetics400-pretrained-r50_8xb32-1x1x3-80e_ucf101-
# rgb.py (section 4.5: all but the first BatchNorm frozen, 80 epochs; TSN's lr,
# steps and dropout) on the Kinetics KINet-InceptionV3 and its 299x299 input.
_base_ = '../../kinet_imagenet-pretrained-inception-v3_8xb32-1x1x3-70e_kinetics400-rgb.py'  # noqa: E501

load_from = ('work_dirs/kinet_imagenet-pretrained-inception-v3_8xb32-1x1x3-'
             '70e_kinetics400-rgb/epoch_70.pth')
custom_hooks = [dict(type='CheckpointFilterHook', reinit=[r'^cls_head\.fc_cls\.'])]

model = dict(
    # load_from replaces every weight: no ImageNet download first.
    backbone=dict(partial_bn=True, backbone=dict(init_cfg=None)),
    cls_head=dict(num_classes=101, dropout_ratio=0.8))

data_root = 'data/ucf101/videos'
split = 1  # official train/test split: 1, 2 or 3 (set by the split configs)
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
checked = dict(num_classes=101, data_prefix=dict(video=data_root))
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, **checked))
# Validation every 5 epochs on the test protocol's 25 segments, one centre crop.
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(454, 342), keep_ratio=False),
    dict(type='CenterCrop', crop_size=299),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, pipeline=val_pipeline, **checked))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, **checked))

# As the R50 transfer: TSN's spatial fine-tuning schedule over 80 epochs.
train_cfg = dict(max_epochs=80, val_interval=5)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=80,
        by_epoch=True,
        milestones=[36, 71],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.001))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
