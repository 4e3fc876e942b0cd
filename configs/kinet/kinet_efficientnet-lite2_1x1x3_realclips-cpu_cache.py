# KINet on an ImageNet-pretrained EfficientNet-Lite2, on the real clips (2-core
# CPU), with the offline teachers' pseudo-label cache: the README's demo student.
#
# A diff on the from-scratch KINet-R18 (kinet_r18_1x1x3_realclips-cpu_cache.py:
# teachers, heads, data, cache) in the backbone, the channels and the schedule,
# which is that of its TSN twin
# (configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py): same backbone,
# data, schedule and seed, so the two differ only by KINet's parts.
# Lite2, not Lite0: the scene teacher is the ImageNet Lite0, and a scene branch
# starting from the teacher's own weights would begin with its task solved.
# The stages are named by stride (res4 = 1/16, res5 = 1/32, see
# EfficientNetLiteStageAdapter), so the base's branch_from and CBI positions
# mean the same resolutions as on the ResNet.
_base_ = './kinet_r18_1x1x3_realclips-cpu_cache.py'

feat_dim = 1280  # EfficientNetLite's head conv
model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='EfficientNetLite',
            arch='lite2',
            pretrained=True,
            # Batches of 4 clips x 3 frames are too small for BN statistics.
            norm_eval=True)),
    cls_head=dict(in_channels=feat_dim),
    human_head=dict(in_channels=feat_dim),
    scene_head=dict(in_channels=feat_dim))

# The TSN twin's schedule and logging (tests/test_efficientnet_lite.py checks
# that they agree); AdamW: see the TSN config.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=3e-4, weight_decay=1e-4))
train_cfg = dict(max_epochs=10, val_begin=5, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=10, by_epoch=True, milestones=[7])
]
default_hooks = dict(checkpoint=dict(interval=5))
randomness = dict(seed=0)
log_processor = dict(window_size=1)
