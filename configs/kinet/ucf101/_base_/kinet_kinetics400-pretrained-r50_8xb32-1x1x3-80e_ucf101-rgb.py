# KINet-R50 transferred from Kinetics-400 to UCF-101 (paper section 4.5, Table 6):
# "we follow (Wang et al. 2016a) to fine tune the pretrained weights on Kinetics,
# where we have all but the first batch normalization layer frozen and the model
# is trained for 80 epochs". The split configs beside this file pick the
# official train/test split (docs/ucf101.md builds the annotation files).
_base_ = '../../kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'

# The Kinetics-400 KINet: tools/train.py's default work dir of the base config.
load_from = ('work_dirs/kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_'
             'kinetics400-rgb/epoch_70.pth')
# Everything loads except the 400-way action classifier, which keeps its fresh
# initialisation; the hook logs the loaded count and the skipped keys, and
# refuses any other mismatch (a wrong checkpoint).
custom_hooks = [dict(type='CheckpointFilterHook', reinit=[r'^cls_head\.fc_cls\.'])]

model = dict(
    # load_from replaces every weight: no ImageNet download first.
    backbone=dict(partial_bn=True, backbone=dict(pretrained=None)),
    # TSN's spatial-network fine-tuning (Wang et al. 2016a, section 4.1):
    # dropout 0.8 against over-fitting the ~9.5k training videos.
    cls_head=dict(num_classes=101, dropout_ratio=0.8))

data_root = 'data/ucf101/videos'
split = 1  # official train/test split: 1, 2 or 3 (set by the split configs)
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
checked = dict(num_classes=101, data_prefix=dict(video=data_root))
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, **checked))
# Validation every 5 epochs on the test protocol's 25 segments (one view: the
# AKG slides its window as in testing), one centre crop instead of ten.
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, pipeline=val_pipeline, **checked))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, **checked))

# TSN's spatial fine-tuning: lr 0.001, /10 every 2000 of 4500 iterations; the
# same fractions of KINet's 80 epochs (the paper gives no UCF-101 lr).
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
