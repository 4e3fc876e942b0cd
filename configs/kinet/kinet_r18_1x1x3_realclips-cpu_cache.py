# KINet-R18 on the real clips, reading pseudo labels from a cache that
# tools/extract_pseudo_labels.py wrote with this config's teachers:
#
#   python tools/extract_pseudo_labels.py configs/kinet/kinet_r18_1x1x3_realclips-cpu_cache.py \
#       --split all --out work_dirs/pseudo_labels/realclips
_base_ = './kinet_r18_1x1x3_realclips-cpu.py'

pseudo_label_cache = 'work_dirs/pseudo_labels/realclips'
model = dict(pseudo_label_source='cache')

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
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
    # After every geometric transform: the masks follow the frames' crop/flip.
    dict(
        type='LoadPseudoLabels',
        cache_root=pseudo_label_cache,
        mask_stride=8,
        expected=dict(
            teachers=dict(
                human=dict(type='MediaPipeHumanTeacher'),
                scene=dict(
                    type='EfficientNetLiteSceneTeacher',
                    num_classes={{_base_.num_scene_classes}})))),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackKINetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
