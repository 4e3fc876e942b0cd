# Segment features of the real clips from KINet-R18's action branch
# (configs/kinet/kinet_r18_1x1x3_realclips-cpu.py): the action map after the
# CBI modules, averaged over space -> (10, 512) per video. Pseudo labels are
# not needed to extract features, so no teacher is built.
#   python tools/misc/extract_segment_features.py \
#       configs/early_recognition/features/kinet_r18_realclips_progression10.py \
#       --split all --out work_dirs/early_recognition_realclips/features/kinet_r18
_base_ = [
    '../../kinet/kinet_r18_1x1x3_realclips-cpu.py',
]
model = dict(pseudo_label_source='none')

num_levels = 10
frames_per_level = 1
randomness = dict(seed=0)
segment_features = dict(
    num_levels=num_levels,
    frames_per_level=frames_per_level,
    stage='backbone',
    branch='action',
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
