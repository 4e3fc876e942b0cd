# CSAILVision/places365's PyTorch ResNet-50 (resnet50_places365.pth.tar):
# the ResNet-18 teacher with a deeper backbone.
_base_ = './resnet18_places365.py'

model = dict(backbone=dict(depth=50), head=dict(in_channels=2048))
