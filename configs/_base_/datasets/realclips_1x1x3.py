# Real-clip data settings: 16 real action videos, 10 classes (12 train, 4 val),
# decoded with decord, TSN-style sampling of 3 segments x 1 frame, at a small
# resolution so that a 2-core CPU trains and tests in seconds.
#
# The clips live outside the repository (see ../shared/data/real_clips/README.md).
# Paths are relative to the repository root, where the tools are run; set the
# environment variable KINET_SHARED to use another copy of the shared folder.
# MMAction2's VideoDataset that first checks its annotation file: malformed lines,
# labels outside [0, len(classes)) and missing videos fail when the dataloader is
# built, each named as <annotation file>:<line> (docs/data_check.md). Same config
# keys as VideoDataset; `check_videos=True` also decodes every video with
# MMAction2's tools/analysis_tools/check_videos.py.
dataset_type = 'CheckedVideoDataset'
data_root = '{{$KINET_SHARED:../shared}}/data/real_clips'
ann_file_train = f'{data_root}/train.txt'
ann_file_val = f'{data_root}/val.txt'
ann_file_test = f'{data_root}/val.txt'
# ``classes`` given as a file is read line by line into ``dataset_meta``.
metainfo = dict(classes=f'{data_root}/classes.txt')
num_classes = 10

file_client_args = dict(io_backend='disk')

train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(
        type='MultiScaleCrop',
        input_size=112,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# 8 segments and one centre crop (MMAction2 tests TSN with 25 x TenCrop),
# so that testing stays fast on a CPU.
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=f'{data_root}/videos'),
        metainfo=metainfo,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=f'{data_root}/videos'),
        metainfo=metainfo,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=f'{data_root}/videos'),
        metainfo=metainfo,
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
