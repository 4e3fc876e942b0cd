# Table 1, "CBI+Multitask": CBI modules after the given residual blocks
# (block -1 is the last of its stage; 2 is the middle one of res4's six).
_base_ = './kinet-r50_multitask-human-scene_kinetics400.py'
model = dict(backbone=dict(cbi_positions=(('res4', -1), ('res5', -1))))
