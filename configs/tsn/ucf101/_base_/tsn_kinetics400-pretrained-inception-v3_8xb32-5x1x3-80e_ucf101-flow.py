# TSN-InceptionV3 flow stream transferred from Kinetics-400 to UCF-101, the
# temporal stream of the paper's "TS KINet" (Table 6: 97.8 top-1; reported, not
# reproduced). The R50 flow transfer recipe of
# ./tsn_kinetics400-pretrained-r50_8xb32-5x1x3-80e_ucf101-flow.py (TSN's
# temporal fine-tuning: lr 0.005, steps at 60%/90%, dropout 0.7; partial BN;
# 80 epochs) on the Kinetics TSN-InceptionV3 flow stream.
_base_ = '../../tsn_imagenet-pretrained-inception-v3_8xb32-5x1x3-110e_kinetics400-flow.py'  # noqa: E501

load_from = ('work_dirs/tsn_imagenet-pretrained-inception-v3_8xb32-5x1x3-'
             '110e_kinetics400-flow/epoch_110.pth')
custom_hooks = [dict(type='CheckpointFilterHook', reinit=[r'^cls_head\.fc_cls\.'])]

model = dict(
    backbone=dict(partial_bn=True, backbone=dict(init_cfg=None)),
    cls_head=dict(num_classes=101, dropout_ratio=0.7))

# Rawframes of MMAction2's build_rawframes.py --task flow and its file lists.
data_root = 'data/ucf101/rawframes'
split = 1  # official train/test split: 1, 2 or 3 (set by the split configs)
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_rawframes.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_rawframes.txt'
frames = dict(
    type='CheckedRawframeDataset',
    num_classes=101,
    modality='Flow',
    filename_tmpl='flow_{}_{:05d}.jpg',
    data_prefix=dict(img=data_root))
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, **frames))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, **frames))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, **frames))

train_cfg = dict(max_epochs=80, val_interval=5)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=80,
        by_epoch=True,
        milestones=[48, 72],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
