# TSN-R50 flow stream on Kinetics-400, for KINet-R50 RGB + TSN-R50 flow (the
# paper's two-stream system on ResNet-50; the paper's own, Table 5, is
# Inception-V3: ./tsn_imagenet-pretrained-inception-v3_8xb32-5x1x3-110e_
# kinetics400-flow.py):
# MMAction2's own TSN flow recipe (5 stacked TV-L1 flow frames x/y = 10
# channels, mean 128 / std 128, 3 segments, 110 epochs) with cross-modality
# pre-training (TSN, section 3.2). MMAction2's config loads the ImageNet
# ResNet-50 with in_channels=10, which silently skips conv1 (shapes differ) and
# leaves it random; here conv1 is the ImageNet conv1 averaged over RGB and
# replicated to 10 channels:
#
#   python tools/model_converters/rgb_to_flow.py \
#       https://download.pytorch.org/models/resnet50-11ad3fa6.pth \
#       checkpoints/resnet50-11ad3fa6_flow10.pth --in-channels 10
#
# Flow rawframes and *_rawframes.txt lists: tools/misc/extract_flow.py (see
# docs/two_stream.md); MMAction2's Flip on such flow is fixed by kinet_mm.compat.
_base_ = ('mmaction::recognition/tsn/'
          'tsn_imagenet-pretrained-r50_8xb32_5x1x3-110e_kinetics400-flow.py')
custom_imports = dict(imports=['kinet_mm'], allow_failed_imports=False)

model = dict(backbone=dict(pretrained='checkpoints/resnet50-11ad3fa6_flow10.pth'))
