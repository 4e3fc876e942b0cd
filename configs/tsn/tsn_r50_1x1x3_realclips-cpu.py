# TSN-R50 baseline on the real clips, sized for a 2-core CPU.
#
# The model is MMAction2's TSN-R50 (untrained: no download offline); schedule
# and runtime are MMAction2's, shortened for the CPU
# (configs/_base_/schedules/realclips_cpu.py); the data are the real clips of
# configs/_base_/datasets/realclips_1x1x3.py.
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    '../_base_/schedules/realclips_cpu.py',
    '../_base_/datasets/realclips_1x1x3.py',
]
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(backbone=dict(pretrained=None), cls_head=dict(num_classes=10))
