# KINet-ResNet50 on Kinetics-400, the recipe of section 4.2 of the paper:
# Nseg=3, frames resized to 256x340, MultiScaleCrop, SGD lr 0.01 (x0.1 at epochs
# 20/40/60), 70 epochs, momentum 0.9, weight decay 1e-5.
_base_ = 'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'  # noqa: E501
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

num_scene_classes = 365
model = dict(
    type='KINet',
    backbone=dict(
        _delete_=True,
        type='KINetBackbone',
        backbone={{_base_.model.backbone}},
        branch_from='res4',
        aux_branches=('human', 'scene'),
        cbi=dict(type='CrossBranchIntegration'),
        cbi_positions=(('res4', -1), ('res5', -1))),
    cls_head=dict(
        _delete_=True,
        type='AKGHead',
        num_classes=400,
        in_channels=2048,
        relation='dot',
        dropout_ratio=0.4,
        init_std=0.01,
        average_clips='prob'),
    human_head=dict(
        type='FCNHead',
        _scope_='mmseg',
        in_channels=2048,
        in_index=-1,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False),
    scene_head=dict(
        type='LinearClsHead',
        _scope_='mmpretrain',
        num_classes=num_scene_classes,
        in_channels=2048),
    # The paper's teachers: convert the public LIP / Places365 weights to these
    # paths with tools/model_converters/ (docs/teachers.md), or extract a
    # pseudo-label cache once (tools/extract_pseudo_labels.py) and train from it
    # (docs/pseudo_labels.md, "Training from a cache").
    teachers=dict(
        human=dict(
            type='MMSegHumanTeacher',
            config='kinet_mm::teachers/pspnet_densenet121_lip.py',
            checkpoint='checkpoints/teachers/pspnet_densenet121_lip.pth'),
        scene=dict(
            type='MMPretrainSceneTeacher',
            config='kinet_mm::teachers/resnet152_places365.py',
            checkpoint='checkpoints/teachers/resnet152_places365.pth')),
    loss_human=dict(type='CrossEntropyLoss', loss_weight=0.01),
    loss_scene=dict(type='CrossEntropyLoss', loss_weight=0.01))

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
model['test_cfg'] = dict(
    _delete_=True, num_segs=25, window_size=3, max_testing_views=50)
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline, **checked))
