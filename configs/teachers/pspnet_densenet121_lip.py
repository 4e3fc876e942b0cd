# Human parsing teacher of KINet (Sec. 3.1): PSPNet with a DenseNet-121 backbone
# trained on LIP, as published by Yukun-Huang/Single-Human-Parsing-LIP (MIT,
# file `PSPNet_last`). This config describes that network exactly, so the
# converted checkpoint loads strictly:
#   python tools/model_converters/lip_pspnet_to_mmseg.py \
#       PSPNet_last checkpoints/teachers/pspnet_densenet121_lip.pth
# (docs/teachers.md). LIP has 20 labels: 0 = background, 1-19 = body parts and
# clothes; MMSegHumanTeacher merges 1-19 into one "human" label.
_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'

# SyncBN (the base's) needs distributed training; a teacher runs anywhere.
norm_cfg = dict(type='BN', requires_grad=True)
# The source normalises RGB frames with ImageNet's mean/std: the base's
# data_preprocessor already does.
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='DenseNetStride8',  # transitions 2, 3 do not pool; no final norm
        arch='121',
        # Stage 2 (512 ch, after transition 3) is the map the source's
        # image-level classifier read; stage 3 (1024 ch) feeds the PSP head.
        # Both at 1/8 of the input.
        out_indices=(2, 3)),
    decode_head=dict(
        _delete_=True,
        type='PSPUpsampleHead',
        in_channels=1024,
        in_index=1,
        channels=64,
        pool_scales=(1, 2, 3, 6),
        psp_channels=1024,
        up_channels=(256, 64, 64),
        num_classes=20,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    # The source's image-level classifier only served its training loss.
    auxiliary_head=None)
