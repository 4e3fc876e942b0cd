# The README demo's KINet-Lite2 with a third kind of knowledge, beyond the
# paper: body pose from MediaPipe Pose (its pose_detection and
# pose_landmark_full models ship inside the mediapipe wheel, so it runs
# offline). The pose branch is one more copy of the res4/res5 stages; its
# light decoder predicts Gaussian heatmaps of the teacher's 13 body keypoints
# at 1/8 of the input, and KnowledgeAgreementMetric reports its PCK@0.2
# against the teacher beside the human IoU and the scene agreement.
#
# Its cache holds all three teachers' labels and serves every real-clip cache
# config (they read the tasks they have):
#
#   python tools/extract_pseudo_labels.py \
#       configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache_human-scene-pose.py \
#       --split all --stride 2 --out work_dirs/pseudo_labels/realclips
_base_ = './kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py'

model = dict(
    knowledge=dict(
        pose=dict(
            type='PoseKnowledge',
            num_keypoints=13,
            head=dict(
                type='FCNHead',
                _scope_='mmseg',
                in_channels={{_base_.feat_dim}},
                in_index=-1,
                channels=64,
                num_convs=1,
                concat_input=False,
                dropout_ratio=0.,
                num_classes=13,
                align_corners=False),
            # Softmax over cells: learns within the demo's few steps (the
            # MSE default first learns flat maps).
            loss=dict(type='KeypointHeatmapLoss', loss_weight=1.0, mode='softmax'),
            teacher=dict(type='MediaPipePoseTeacher'))))
# Epoch 0 of the log is the freshly initialised model: the distilled
# branches' agreement is read against it.
custom_hooks = [dict(type='ValidateBeforeTrainHook')]
