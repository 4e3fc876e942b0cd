# I3D: Inflated Inception-v1 (Carreira & Zisserman, CVPR 2017, Figure 3) in
# MMAction2's Recognizer3D. The head averages 2x7x7 windows and classifies every
# position (predictions convolutional in time, averaged), as the paper draws it;
# MMAction2's I3DHead pools the whole map first (see
# kinet_mm/models/heads/i3d_conv_head.py).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='I3DInceptionV1',
        # A 2D InceptionV1 checkpoint to inflate (section 2.4); None: random.
        pretrained=None,
        pretrained2d=True,
        norm_eval=False),
    cls_head=dict(
        type='I3DConvHead',
        num_classes=400,
        in_channels=1024,
        pool_size=(2, 7, 7),
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
