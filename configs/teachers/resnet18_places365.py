# A lighter scene teacher: CSAILVision/places365's PyTorch ResNet-18
# (resnet18_places365.pth.tar; models CC BY), torchvision layout. Converted with
#   python tools/model_converters/places365_pytorch_to_mmpretrain.py \
#       resnet18_places365.pth.tar checkpoints/teachers/resnet18_places365.pth \
#       --config configs/teachers/resnet18_places365.py
_base_ = 'mmpretrain::_base_/models/resnet18.py'

model = dict(head=dict(num_classes=365))
# ImageNet mean/std on RGB frames, as the source's run_placesCNN_basic.py.
data_preprocessor = dict(
    num_classes=365,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
