# Table 1, "Baseline+scene".
_base_ = './kinet-r50_multitask-human-scene_kinetics400.py'
model = dict(
    backbone=dict(aux_branches=('scene', )),
    human_head=None,
    teachers=dict(human=None))
