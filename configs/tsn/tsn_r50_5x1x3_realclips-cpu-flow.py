# TSN-R50 flow stream on the real clips, sized for a 2-core CPU: the recipe of
# ./tsn_r50_1x1x3_realclips-cpu.py on 5 stacked TV-L1 flow frames (x, y: 10
# input channels), normalised as MMAction2's TSN flow config (mean 128, std
# 128), its first conv initialised across modalities from the RGB stream.
#
# Needs the flow (docs/two_stream.md) and the RGB stream's checkpoint:
#
#   python tools/misc/extract_flow.py ../shared/data/real_clips/{train,val,all}.txt \
#       --video-root ../shared/data/real_clips/videos \
#       --out work_dirs/flow/realclips --short-side 64 --step 5
#   python tools/train.py configs/tsn/tsn_r50_1x1x3_realclips-cpu.py
#   python tools/model_converters/rgb_to_flow.py \
#       work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3.pth \
#       work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3_flow10.pth --in-channels 10
_base_ = './tsn_r50_1x1x3_realclips-cpu.py'

clip_len = 5
# Cross-modality pre-training (TSN, section 3.2) from the RGB stream, whose
# input conv tools/model_converters/rgb_to_flow.py averaged over RGB and
# replicated to 10 channels (on Kinetics: from ImageNet, see
# tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_kinetics400-flow.py).
flow_init_checkpoint = 'work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3_flow10.pth'
model = dict(
    backbone=dict(
        in_channels=2 * clip_len,
        init_cfg=dict(
            type='Pretrained', checkpoint=flow_init_checkpoint, prefix='backbone.')),
    data_preprocessor=dict(mean=[128, 128] * clip_len, std=[128, 128] * clip_len))

# tools/misc/extract_flow.py output: <video name>/{x,y}_00001.jpg ... and
# <split>_rawframes.txt (<frame dir> <flow frames> <label>).
flow_root = 'work_dirs/flow/realclips'
flow_dataset = dict(
    type='CheckedRawframeDataset',
    data_prefix=dict(img=flow_root),
    filename_tmpl='{}_{:05d}.jpg',
    modality='Flow',
    metainfo={{_base_.metainfo}})

train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(
        type='MultiScaleCrop',
        input_size=112,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),
    # kinet_mm.compat shim 5: negates x of every (H, W, 2) flow frame.
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),  # (3, 10, 112, 112)
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=3,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=8,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        ann_file=f'{flow_root}/train_rawframes.txt',
        pipeline=train_pipeline,
        **flow_dataset))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        ann_file=f'{flow_root}/val_rawframes.txt',
        pipeline=val_pipeline,
        test_mode=True,
        **flow_dataset))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        ann_file=f'{flow_root}/val_rawframes.txt',
        pipeline=test_pipeline,
        test_mode=True,
        **flow_dataset))
