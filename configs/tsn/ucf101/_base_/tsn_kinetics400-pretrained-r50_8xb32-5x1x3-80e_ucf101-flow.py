# The flow stream of two-stream KINet (paper section 4.4: "the optical flow
# stream CNN is normal TSN structure") transferred from Kinetics-400 to UCF-101
# as the RGB stream is (section 4.5): the Kinetics flow TSN, 101-way classifier
# re-initialised, all but the first BatchNorm frozen, 80 epochs. The split
# configs beside this file pick the official split (docs/ucf101.md).
_base_ = '../../tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_kinetics400-flow.py'

load_from = ('work_dirs/tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_'
             'kinetics400-flow/epoch_110.pth')
custom_hooks = [dict(type='CheckpointFilterHook', reinit=[r'^cls_head\.fc_cls\.'])]

model = dict(
    # MMAction2's ResNet: every BN but the first in eval mode, affine frozen.
    backbone=dict(partial_bn=True, pretrained=None),
    # TSN's temporal-network fine-tuning (Wang et al. 2016a): dropout 0.7.
    cls_head=dict(num_classes=101, dropout_ratio=0.7))

# TV-L1 flow frames of MMAction2's tools/data/build_rawframes.py --task flow
# (flow_x_00001.jpg, flow_y_00001.jpg) and its build_file_list.py lists.
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

# TSN's temporal fine-tuning: lr 0.005, /10 after 12000 and 18000 of 20000
# iterations; the same fractions of 80 epochs, as the RGB stream.
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
