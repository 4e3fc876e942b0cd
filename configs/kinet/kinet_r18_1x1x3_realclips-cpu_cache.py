# KINet-R18 on the real clips, reading pseudo labels from the real-clip cache
# of the offline teachers (tools/run_demo.sh writes it; see
# configs/_base_/datasets/realclips_1x1x3_pseudo-label-cache.py), and
# reporting the student's agreement with them (KnowledgeAgreementMetric).
_base_ = [
    '../_base_/models/kinet_r18.py',
    '../_base_/schedules/realclips_cpu_from-scratch.py',
    '../_base_/datasets/realclips_1x1x3_pseudo-label-cache.py',
]
model = dict(pseudo_label_source='cache', test_cfg=dict(knowledge_agreement=True))
