# Table 1, "Baseline TSN-ResNet50", trained with KINet's recipe for a fair
# comparison: no auxiliary branch, head or teacher, i.e. exactly a TSN.
_base_ = './kinet-r50_multitask-human-scene_kinetics400.py'
model = dict(knowledge=dict(_delete_=True))
