# UCF-101 early-recognition protocol (paper Sec. 3.1, following its refs
# [12, 19]): groups 1-15 train, 16-18 validation, 19-25 test, read from the
# official file names (v_<Class>_gXX_cYY.avi), N = 10 progression levels of
# Kinetics-400 TSM-R50 features.
#
# ``ann_file_all`` lists all 13,320 videos in MMAction2's video-list format:
# the two split-1 lists of MMAction2's tools/data/ucf101 concatenated, e.g.
#   cat data/ucf101/ucf101_train_split_1_videos.txt \
#       data/ucf101/ucf101_val_split_1_videos.txt > data/ucf101/ucf101_all_videos.txt
# The features come from ../../features/tsm_r50_k400_ucf101_progression10.py
# (tools/misc/extract_segment_features.py, see docs/early_recognition.md).
dataset_type = 'SegmentFeatureDataset'
ann_file_all = 'data/ucf101/ucf101_all_videos.txt'
feature_root = 'data/ucf101/features/tsm_r50_k400_progression10'
expected_meta = dict(num_levels=10, feature_dim=2048)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_all,
        feature_root=feature_root,
        expected_meta=expected_meta,
        groups=(1, 15),
        # Fraction of the videos that keep their label (paper, Tab. 3: 0.1).
        labelled_fraction=1.0))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_all,
        feature_root=feature_root,
        expected_meta=expected_meta,
        groups=(16, 18),
        test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_all,
        feature_root=feature_root,
        expected_meta=expected_meta,
        groups=(19, 25),
        test_mode=True))
val_evaluator = dict(type='EarlyRecognitionMetric')
test_evaluator = val_evaluator
