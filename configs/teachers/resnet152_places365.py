# Scene recognition teacher of KINet (Sec. 3.1): ResNet-152 with a 365-way
# Places365 head (class names: ../shared/data/labels/places365_categories.txt).
#
# No Places365 checkpoint ships offline. Trained weights go in the teacher wrapper:
#   dict(type='MMPretrainSceneTeacher',
#        config='configs/teachers/resnet152_places365.py',
#        checkpoint='checkpoints/resnet152_places365.pth')  # MMPretrain state dict
_base_ = 'mmpretrain::_base_/models/resnet152.py'

model = dict(head=dict(num_classes=365))
# ImageNet mean/std on RGB frames, as MMPretrain's ImageNet recipes.
data_preprocessor = dict(
    num_classes=365,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
