_base_ = './_base_/kinet_kinetics400-pretrained-inception-v3_8xb32-1x1x3-80e_ucf101-rgb.py'  # noqa: E501
split = 3
train_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_train_split_3_videos.txt'))  # noqa: E501
val_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_val_split_3_videos.txt'))  # noqa: E501
test_dataloader = val_dataloader
