# KINet-ResNet50 under MMAction2's model-zoo protocol: MMAction2's
# ``tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py`` (zoo top-1
# 72.83, top-5 90.65) with only the model made KINet. Data, pipelines
# (short side 256), dataloaders, 100-epoch schedule (lr 0.01, x0.1 at 40/80,
# weight decay 1e-4, grad clip 40) and the 25 x 10 test views are the zoo's.
#
# Compare this config's result with the zoo's 72.83, not with the paper's TSN
# (69.5): the zoo's TSN-R50 is already above the paper's KINet-R50 (72.4), so
# the paper's +2.9 is a gain over a weaker TSN, not over the zoo.
#
# The model is the one of ``kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_
# kinetics400-rgb.py`` (a test keeps the two equal): MMEngine refuses a key
# (``model``) defined by two bases, so it is written out here.
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
    loss_scene=dict(type='CrossEntropyLoss', loss_weight=0.01),
    # The zoo's 25 x 10 views; the AKG reads windows of Nseg=3 of the 25
    # segments (section 4.2) where TSN's head averages all 25.
    test_cfg=dict(
        _delete_=True, num_segs=25, window_size=3, max_testing_views=50))
