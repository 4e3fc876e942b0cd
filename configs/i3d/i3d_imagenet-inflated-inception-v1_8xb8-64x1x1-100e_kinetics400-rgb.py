# RGB I3D (Inflated Inception-v1) on Kinetics-400 with the paper's recipe:
# 64-frame snippets of consecutive frames (25 fps), random 224x224 crops of
# videos resized to 256 on the short side, random flips, and testing
# on whole videos (250 frames, 10 s) with centre crops, predictions averaged
# over time by the head (section 3 and Table 1 of the I3D paper).
#
# Datasets, schedule and runtime are MMAction2's I3D-R50 Kinetics config; only
# the model and the temporal sampling differ. ImageNet initialisation (section
# 2.4): torchvision's GoogLeNet weights converted once into a 2D InceptionV1
# checkpoint,
#   python tools/model_converters/torchvision_googlenet_to_inception_v1.py \
#       googlenet-1378be20.pth checkpoints/inception_v1_imagenet.pth
# are inflated when the model is initialised (kernels repeated in time and
# divided by their temporal size). Those weights were trained with BN eps 1e-3
# on inputs in [-1, 1], hence norm_cfg and the data preprocessor below.
_base_ = [
    'mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py',  # noqa: E501
]
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='I3DInceptionV1',
        pretrained='checkpoints/inception_v1_imagenet.pth',
        pretrained2d=True,
        norm_cfg=dict(type='BN', eps=1e-3, requires_grad=True),
        norm_eval=False),
    cls_head=dict(
        _delete_=True,
        type='I3DConvHead',
        num_classes=400,
        in_channels=1024,
        pool_size=(2, 7, 7),
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]))

file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=250, frame_interval=1, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
