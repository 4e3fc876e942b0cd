# UCF-101 segment features as the paper extracts them (Sec. 3.1): a Kinetics-400
# TSM-R50 (MMAction2's tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb),
# N = 10 progression levels, each part fed to TSM as its own 8-frame clip (so
# the temporal shift never mixes two parts), backbone map averaged over space
# and the 8 frames -> (10, 2048) per video.
#   python tools/misc/extract_segment_features.py \
#       configs/early_recognition/features/tsm_r50_k400_ucf101_progression10.py \
#       --checkpoint https://download.openmmlab.com/mmaction/v1.0/recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb_20220831-64d69186.pth \
#       --split all --out data/ucf101/features/tsm_r50_k400_progression10
_base_ = ('mmaction::recognition/tsm/'
          'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py')
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

num_levels = 10
frames_per_level = 8  # one TSM clip of num_segments frames per part

# The Kinetics checkpoint replaces every weight: no ImageNet download.
model = dict(backbone=dict(pretrained=None, num_segments=frames_per_level))

data_root = 'data/ucf101/videos'
ann_file_all = 'data/ucf101/ucf101_all_videos.txt'
# Every split lists all UCF-101 videos; the early-recognition configs select
# groups 1-15 / 16-18 / 19-25 from the file names.
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_all, data_prefix=dict(video=data_root)))
val_dataloader = train_dataloader
test_dataloader = train_dataloader

segment_features = dict(
    num_levels=num_levels,
    frames_per_level=frames_per_level,
    stage='backbone',
    branch=None,
    pipeline=[
        dict(type='DecordInit', io_backend='disk'),
        dict(
            type='SampleFrames',
            clip_len=1,
            frame_interval=1,
            num_clips=num_levels * frames_per_level,
            test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 256)),
        dict(type='CenterCrop', crop_size=224),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ])
