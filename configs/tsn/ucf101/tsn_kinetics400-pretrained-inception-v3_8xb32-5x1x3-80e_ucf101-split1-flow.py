_base_ = './_base_/tsn_kinetics400-pretrained-inception-v3_8xb32-5x1x3-80e_ucf101-flow.py'  # noqa: E501
split = 1
train_dataloader = dict(
    dataset=dict(
        ann_file='data/ucf101/ucf101_train_split_1_rawframes.txt'))  # noqa: E501
val_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_val_split_1_rawframes.txt'))  # noqa: E501
test_dataloader = val_dataloader
