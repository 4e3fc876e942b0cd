# Human parsing teacher of KINet (Sec. 3.1): PSPNet with a DenseNet-121 backbone,
# trained on LIP. LIP has 20 labels: 0 = background, 1-19 = body parts and
# clothes; MMSegHumanTeacher merges 1-19 into one "human" label.
#
# No LIP checkpoint ships offline. Trained weights go in the teacher wrapper:
#   dict(type='MMSegHumanTeacher',
#        config='configs/teachers/pspnet_densenet121_lip.py',
#        checkpoint='checkpoints/pspnet_densenet121_lip.pth')  # MMSeg state dict
#
# MMPretrain's DenseNet cannot dilate, so unlike MMSeg's PSPNet-ResNet (stride 8)
# the features are at stride 32; the logits are upsampled to the frame size.
# Mean/std: ImageNet (RGB), inherited from the base's data_preprocessor.
_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'

# SyncBN (the base's) needs distributed training; a teacher runs anywhere.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.DenseNet',
        arch='121',
        # Stage 2 (512 ch, after its transition) feeds the auxiliary head kept
        # from the training recipe; stage 3 (1024 ch) feeds the PSP head.
        out_indices=(2, 3)),
    decode_head=dict(
        in_channels=1024, in_index=1, num_classes=20, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=512, in_index=0, num_classes=20, norm_cfg=norm_cfg))
