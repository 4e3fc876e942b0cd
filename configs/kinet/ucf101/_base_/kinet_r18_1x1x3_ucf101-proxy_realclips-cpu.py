# The UCF-101 transfer recipe (./kinet_kinetics400-pretrained-r50_8xb32-1x1x3-
# 80e_ucf101-rgb.py: 101-way classifier re-initialised, auxiliary heads and AKG
# kept, partial BN) at CPU scale: a KINet-R18 trained on the 10 real-clip
# classes (docs/ucf101.md, section 5) stands in for the Kinetics checkpoint, and the proxy
# UCF-101 of tools/data/build_ucf101_file_lists.py --realclip-proxy (6 real
# clips, 4 UCF-101 classes) for UCF-101. A pipeline check, not Table 6.
_base_ = '../../kinet_r18_1x1x3_realclips-cpu.py'

load_from = 'work_dirs/kinet_r18_realclips/epoch_15.pth'  # docs/ucf101.md
# A checkpoint saved before KINetBackbone's generic stage split names the
# wrapped ResNet `resnet` and the branch stages layer1..4 (now net, res2..5);
# one saved before the knowledge tasks keeps the auxiliary heads in
# `aux_heads.<task>` (now knowledge.<task>.head). The renames match nothing in
# a newer checkpoint (docs/knowledge.md).
legacy_keys = [(r'^backbone\.resnet\.', 'backbone.net.')] + [
    (rf'^(backbone\.(aux_branches\.\w+|cbis)\.)layer{i}', rf'\1res{i + 1}')
    for i in (1, 2, 3, 4)
] + [(r'^aux_heads\.(\w+)\.', r'knowledge.\1.head.')]
custom_hooks = [
    dict(
        type='CheckpointFilterHook',
        reinit=[r'^cls_head\.fc_cls\.'],
        revise_keys=legacy_keys)
]
model = dict(
    backbone=dict(partial_bn=True),
    cls_head=dict(num_classes=101),
    # The paper's test protocol in time (25 segments, AKG window of 3), with
    # one centre crop instead of ten on this CPU.
    test_cfg=dict(_delete_=True, num_segs=25, window_size=3, max_testing_views=25))

data_root = 'work_dirs/ucf101_proxy'
split = 1
ann_file_train = f'{data_root}/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_{split}_videos.txt'
# UCF-101's labels index classInd.txt: no class-name file to check against.
ucf101 = dict(
    num_classes=101, metainfo=None, data_prefix=dict(video=f'{data_root}/videos'))
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, **ucf101))
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# Validation on the test pipeline too (25 segments, one view).
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, pipeline=test_pipeline, **ucf101))
test_dataloader = val_dataloader

# 4 training clips: one step an epoch.
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_cfg = dict(max_epochs=10, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=10, by_epoch=True, milestones=[8])
]
default_hooks = dict(checkpoint=dict(interval=10))
