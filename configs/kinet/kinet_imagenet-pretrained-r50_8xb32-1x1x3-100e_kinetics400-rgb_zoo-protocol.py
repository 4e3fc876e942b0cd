# KINet-ResNet50 under MMAction2's model-zoo protocol: MMAction2's
# ``tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py`` (zoo top-1
# 72.83, top-5 90.65) with only the model made KINet. Data, pipelines
# (short side 256), dataloaders, 100-epoch schedule (lr 0.01, x0.1 at 40/80,
# weight decay 1e-4, grad clip 40) and the 25 x 10 test views are the zoo's.
#
# Compare this config's result with the zoo's 72.83, not with the paper's TSN
# (69.5): the zoo's TSN-R50 is already above the paper's KINet-R50 (72.4), so
# the paper's +2.9 is a gain over a weaker TSN, not over the zoo.
#
# MMAction2's TSN config is exactly its TSN-R50 model, SGD 100e schedule and
# runtime bases plus the Kinetics data; here the model base is KINet's.
_base_ = [
    '../_base_/models/kinet_r50.py',
    'mmaction::_base_/schedules/sgd_100e.py',
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/kinetics400_1x1x3.py',
]

# The zoo's 25 x 10 views; the AKG reads windows of Nseg=3 of the 25 segments
# (section 4.2) where TSN's head averages all 25.
model = dict(
    test_cfg=dict(_delete_=True, num_segs=25, window_size=3, max_testing_views=50))

default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=256)
