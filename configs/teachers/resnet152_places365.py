# Scene recognition teacher of KINet (Sec. 3.1): the Caffe ResNet-152 fine-tuned
# on Places365 by CSAILVision/places365 (deploy_resnet152_places365.prototxt,
# resnet152_places365.caffemodel; models CC BY). Converted with
#   python tools/model_converters/places365_caffe_to_mmpretrain.py \
#       resnet152_places365.caffemodel checkpoints/teachers/resnet152_places365.pth
# (docs/teachers.md). Class names: ../shared/data/labels/places365_categories.txt.
_base_ = 'mmpretrain::_base_/models/resnet152.py'

model = dict(
    backbone=dict(
        type='CaffeResNet',  # Caffe's stem pooling (no padding, ceil mode)
        style='caffe'),  # stride on the first 1x1 conv of a block
    head=dict(num_classes=365))
# Caffe input: BGR on the 0-255 scale minus the per-channel mean, no std.
# The mean is the per-channel average of the project's 256x256 mean image,
# places365CNN_mean.binaryproto (read with kinet_mm.converters.caffe:
# 104.0510, 112.5145, 116.6760); the converter's --mean-file re-checks it.
data_preprocessor = dict(
    num_classes=365,
    mean=[104.051, 112.514, 116.676],
    std=[1.0, 1.0, 1.0],
    to_rgb=False)
