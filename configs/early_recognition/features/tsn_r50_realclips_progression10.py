# Segment features of the real clips for early recognition: the TSN-R50 of
# configs/tsn/tsn_r50_1x1x3_realclips-cpu.py, N = 10 progression levels (the
# video cut into 10 equal parts), one centre frame per part, backbone map
# averaged over space -> (10, 2048) per video. Without --checkpoint the weights
# are random (seeded by ``randomness.seed``), which meta.json records.
#   python tools/misc/extract_segment_features.py \
#       configs/early_recognition/features/tsn_r50_realclips_progression10.py \
#       --split all --out work_dirs/early_recognition_realclips/features/tsn_r50
_base_ = '../../tsn/tsn_r50_1x1x3_realclips-cpu.py'

num_levels = 10
frames_per_level = 1
randomness = dict(seed=0)
segment_features = dict(
    num_levels=num_levels,
    frames_per_level=frames_per_level,
    stage='backbone',
    branch=None,
    # MMAction2's test-mode SampleFrames takes the centres of N * F equal
    # segments: F per progression level, none shared between two levels.
    pipeline=[
        dict(type='DecordInit', io_backend='disk'),
        dict(
            type='SampleFrames',
            clip_len=1,
            frame_interval=1,
            num_clips=num_levels * frames_per_level,
            test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 128)),
        dict(type='CenterCrop', crop_size=112),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ])
