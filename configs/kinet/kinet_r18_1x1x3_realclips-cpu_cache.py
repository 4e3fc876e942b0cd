# KINet-R18 on the real clips, reading pseudo labels from a cache that
# tools/extract_pseudo_labels.py wrote with this config's teachers, and
# reporting the student's agreement with them (KnowledgeAgreementMetric):
#
#   python tools/extract_pseudo_labels.py configs/kinet/kinet_r18_1x1x3_realclips-cpu_cache.py \
#       --split all --out work_dirs/pseudo_labels/realclips
_base_ = [
    '../_base_/models/kinet_r18.py',
    '../_base_/schedules/realclips_cpu_from-scratch.py',
    '../_base_/datasets/realclips_1x1x3_pseudo-label-cache.py',
]
model = dict(
    pseudo_label_source='cache', test_cfg=dict(knowledge_agreement=True))
