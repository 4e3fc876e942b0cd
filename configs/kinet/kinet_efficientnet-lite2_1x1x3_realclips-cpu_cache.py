# KINet on an ImageNet-pretrained EfficientNet-Lite2 (configs/_base_/models/
# kinet_lite2.py) on the real clips (2-core CPU), with the offline teachers'
# pseudo-label cache: the README's demo student. Its schedule is that of its
# TSN twin (configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py): same
# backbone, data, schedule and seed, so the two differ only by KINet's parts
# (tests/test_efficientnet_lite.py checks that they agree).
_base_ = [
    '../_base_/models/kinet_lite2.py',
    '../_base_/schedules/realclips_cpu.py',
    '../_base_/datasets/realclips_1x1x3_pseudo-label-cache.py',
]
model = dict(
    pseudo_label_source='cache',
    test_cfg=dict(knowledge_agreement=True),
    # Demo deviation from the paper's 0.01 (eq. 6): with 30 steps and people
    # on 1.6-7 % of the validation pixels, a 0.01-weighted per-pixel loss
    # leaves the student's masks empty (IoU 0.000 against the teacher); at
    # 1.0, the human class weighted 5x against the background, it predicts
    # them (docs/knowledge.md, "The demo's student").
    knowledge=dict(human=dict(loss=dict(loss_weight=1.0, class_weight=[1.0, 5.0]))))

# AdamW: see the TSN config.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=3e-4, weight_decay=1e-4))
train_cfg = dict(max_epochs=10, val_begin=5, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=10, by_epoch=True, milestones=[7])
]
default_hooks = dict(checkpoint=dict(interval=5))
randomness = dict(seed=0)
log_processor = dict(window_size=1)
