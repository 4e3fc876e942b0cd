# Table 1, "Baseline+human".
_base_ = './kinet-r50_multitask-human-scene_kinetics400.py'
model = dict(
    backbone=dict(aux_branches=('human', )),
    scene_head=None,
    teachers=dict(scene=None))
