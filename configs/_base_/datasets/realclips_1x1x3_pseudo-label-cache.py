# The real clips with the offline teachers' pseudo labels read from a cache
# that tools/extract_pseudo_labels.py wrote (--split all), on the training and
# the (single-crop) validation and test frames: training distils them, and
# KnowledgeAgreementMetric compares the student's auxiliary predictions with
# them beside acc/top1 (the model's test_cfg.knowledge_agreement).
#
# One cache of all three offline teachers serves every config on this base
# (each reads the tasks it has; tools/run_demo.sh writes it):
#
#   python tools/extract_pseudo_labels.py \
#       configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache_human-scene-pose.py \
#       --split all --stride 2 --out work_dirs/pseudo_labels/realclips
_base_ = './realclips_1x1x3.py'

pseudo_label_cache = 'work_dirs/pseudo_labels/realclips'
# After every geometric transform: the labels follow the frames' crop/flip.
load_pseudo_labels = dict(
    type='LoadPseudoLabels',
    cache_root=pseudo_label_cache,
    mask_stride=8,
    expected=dict(
        knowledge=dict(
            human=dict(teacher=dict(type='MediaPipeHumanTeacher')),
            scene=dict(
                teacher=dict(type='EfficientNetLiteSceneTeacher', num_classes=1000)))))

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
    dict(type='Flip', flip_ratio=0.5), load_pseudo_labels,
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackKINetInputs')
]


def _test_pipeline(num_clips):
    return [
        dict(type='DecordInit', **file_client_args),
        dict(
            type='SampleFrames',
            clip_len=1,
            frame_interval=1,
            num_clips=num_clips,
            test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 128)),
        dict(type='CenterCrop', crop_size=112), load_pseudo_labels,
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackKINetInputs')
    ]


val_pipeline = _test_pipeline(num_clips=3)
test_pipeline = _test_pipeline(num_clips=8)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

val_evaluator = [dict(type='AccMetric'), dict(type='KnowledgeAgreementMetric')]
test_evaluator = val_evaluator
