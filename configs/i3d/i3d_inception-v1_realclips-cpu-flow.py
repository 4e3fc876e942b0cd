# I3D flow stream (Inflated Inception-v1, 2 input channels: x, y) on the real
# clips, sized for a 2-core CPU: the recipe of ./i3d_inception-v1_realclips-cpu-rgb.py
# on 16 consecutive TV-L1 flow frames, normalised as MMAction2's flow configs
# (mean 128, std 128), initialised from the RGB stream across modalities. A
# pipeline check, not the paper's recipe (docs/two_stream.md):
#
#   python tools/misc/extract_flow.py ../shared/data/real_clips/{train,val,all}.txt \
#       --video-root ../shared/data/real_clips/videos \
#       --out work_dirs/flow/realclips --short-side 64 --step 5
#   python tools/train.py configs/i3d/i3d_inception-v1_realclips-cpu-rgb.py
#   python tools/model_converters/rgb_to_flow.py \
#       work_dirs/i3d_inception-v1_realclips-cpu-rgb/epoch_6.pth \
#       work_dirs/i3d_inception-v1_realclips-cpu-rgb/epoch_6_flow2.pth --in-channels 2
_base_ = './i3d_inception-v1_realclips-cpu-rgb.py'

flow_init_checkpoint = \
    'work_dirs/i3d_inception-v1_realclips-cpu-rgb/epoch_6_flow2.pth'
model = dict(
    backbone=dict(
        in_channels=2,
        init_cfg=dict(
            type='Pretrained', checkpoint=flow_init_checkpoint, prefix='backbone.')),
    data_preprocessor=dict(mean=[128, 128], std=[128, 128]))

# tools/misc/extract_flow.py output (flow already every 5th frame).
flow_root = 'work_dirs/flow/realclips'
flow_dataset = dict(
    type='CheckedRawframeDataset',
    data_prefix=dict(img=flow_root),
    filename_tmpl='{}_{:05d}.jpg',
    modality='Flow',
    metainfo={{_base_.metainfo}})
clip = dict(clip_len=16, frame_interval=1)
train_pipeline = [
    dict(type='SampleFrames', num_clips=1, **clip),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomCrop', size=112),
    # kinet_mm.compat shim 5: negates x of every (H, W, 2) flow frame.
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),  # (1, 2, 16, 112, 112)
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', num_clips=1, test_mode=True, **clip),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='SampleFrames', num_clips=3, test_mode=True, **clip),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
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
