# Table 1, "Baseline+human+scene": the three branches trained jointly by
# distillation, without CBI or AKG (a TSN head on the action branch).
_base_ = '../kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'
model = dict(
    backbone=dict(cbi_positions=()),
    cls_head=dict(
        _delete_=True,
        type='TSNHead',
        num_classes=400,
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.4,
        init_std=0.01,
        average_clips='prob'))
