# KINet-Lite2 with pose as its only kind of knowledge: one auxiliary branch,
# CBIs and an AKG over action and pose nodes (derived from the one task).
_base_ = './kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache_human-scene-pose.py'

model = dict(knowledge=dict(human=None, scene=None))
