# RGB I3D (Inflated Inception-v1) on Kinetics-400.
#
# From the I3D paper (sections 2.4 and 3, Table 1): the model; 64-frame
# snippets of consecutive frames at 25 fps with a random start, random 224x224
# crops of videos resized to 256 on the short side, random left-right flips;
# testing on the whole video with centre crops, predictions averaged over time
# by the head; ImageNet initialisation. Kinetics videos come at various frame
# rates and the paper processed them "at 25 frames per second": MMAction2's
# SampleFrames(target_fps=25) picks the frames of a 25 fps resampling of each
# video from its decoded avg_fps, so a 64-frame snippet spans 2.56 s and the
# 250-frame test clip 10 s, the length of a Kinetics video (shorter videos are
# looped, as the paper does in training).
#
# From MMAction2's I3D-R50 Kinetics config (the base), not from the paper
# (which trained 110k steps on 32 GPUs, SGD momentum 0.9, with a learning rate
# tuned on the validation set and cut 10x when the validation loss
# saturated): datasets, batch 8 x 8 GPUs, SGD lr 0.01, momentum 0.9, weight
# decay 1e-4, gradient clipping at 40, 100 epochs with the lr /10 at epochs 40
# and 80, runtime.
#
# ImageNet initialisation (section 2.4): torchvision's GoogLeNet weights
# converted once into a 2D InceptionV1 checkpoint,
#   python tools/model_converters/torchvision_googlenet_to_inception_v1.py \
#       googlenet-1378be20.pth checkpoints/inception_v1_imagenet.pth
# are inflated when the model is initialised (kernels repeated in time and
# divided by their temporal size). Those weights were trained with BN eps 1e-3,
# torchvision's stride-2 max-pools (no padding, rounding up: pool_mode='ceil',
# also TF-slim's SAME pooling of the paper's network on even-sized maps) and
# inputs in [-1, 1], hence norm_cfg, pool_mode and the data preprocessor below.
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
        pool_mode='ceil',
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
    dict(
        type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1, target_fps=25),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=64,
        frame_interval=1,
        num_clips=1,
        target_fps=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=250,
        frame_interval=1,
        num_clips=1,
        target_fps=25,
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
