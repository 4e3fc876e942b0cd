# KINet-ResNet50 (sections 3-4.2): MMAction2's TSN-R50 model (ImageNet
# ResNet-50, Kinetics-400 classes) with KINet's parts: the backbone split at
# res4 into action, human and scene branches, CBI after res4 and res5, the
# AKG head with the dot relation, and the paper's teachers, distilled with
# weight 0.01 each (eq. 6). The backbone's aux_branches and the AKG's
# num_branches are derived from `knowledge`.
_base_ = 'mmaction::_base_/models/tsn_r50.py'
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(
    type='KINet',
    backbone=dict(
        _delete_=True,
        type='KINetBackbone',
        # MMAction2's TSN-R50 backbone (mmaction::_base_/models/tsn_r50.py).
        backbone=dict(
            type='ResNet',
            pretrained='https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
            depth=50,
            norm_eval=False),
        branch_from='res4',
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
    # The paper's teachers: convert the public LIP / Places365 weights to these
    # paths with tools/model_converters/ (docs/teachers.md), or extract a
    # pseudo-label cache once (tools/extract_pseudo_labels.py) and train from it
    # (docs/pseudo_labels.md, "Training from a cache").
    knowledge=dict(
        human=dict(
            type='HumanParsingKnowledge',
            head=dict(
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
            loss=dict(type='CrossEntropyLoss', loss_weight=0.01),
            teacher=dict(
                type='MMSegHumanTeacher',
                config='kinet_mm::teachers/pspnet_densenet121_lip.py',
                checkpoint='checkpoints/teachers/pspnet_densenet121_lip.pth')),
        scene=dict(
            type='SceneKnowledge',
            head=dict(
                type='LinearClsHead',
                _scope_='mmpretrain',
                num_classes=365,
                in_channels=2048),
            loss=dict(type='CrossEntropyLoss', loss_weight=0.01),
            teacher=dict(
                type='MMPretrainSceneTeacher',
                config='kinet_mm::teachers/resnet152_places365.py',
                checkpoint='checkpoints/teachers/resnet152_places365.pth'))))
