# The 16 real clips (../shared/data/real_clips) as feature sequences: 12 train,
# 4 held-out val videos, N = 10 progression levels. A pipeline check on this
# machine, not a benchmark. ``feature_root`` is a cache written by
# tools/misc/extract_segment_features.py; tools/analysis/early_recognition_table.py
# points it at the caches it extracts.
dataset_type = 'SegmentFeatureDataset'
data_root = '{{$KINET_SHARED:../shared}}/data/real_clips'
feature_root = 'work_dirs/early_recognition_realclips/features/tsn_r50'
expected_meta = dict(num_levels=10)

train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/train.txt',
        feature_root=feature_root,
        expected_meta=expected_meta,
        # Fraction of the videos that keep their label (paper, Tab. 3: 0.1).
        labelled_fraction=1.0))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/val.txt',
        feature_root=feature_root,
        expected_meta=expected_meta,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='EarlyRecognitionMetric')
test_evaluator = val_evaluator
