# Table 1, "Baseline+human".
_base_ = './kinet-r50_multitask-human-scene_kinetics400.py'
model = dict(knowledge=dict(scene=None))
