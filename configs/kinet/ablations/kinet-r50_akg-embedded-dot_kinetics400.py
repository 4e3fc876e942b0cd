# Table 1, "AKG+Multitask": the Action Knowledge Graph with the 'embedded_dot'
# relation function, without CBI.
_base_ = '../kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'
model = dict(backbone=dict(cbi_positions=()), cls_head=dict(relation='embedded_dot'))
