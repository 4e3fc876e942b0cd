_base_ = './_base_/tsn_kinetics400-pretrained-r50_8xb32-5x1x3-80e_ucf101-flow.py'
split = 2
train_dataloader = dict(
    dataset=dict(
        ann_file='data/ucf101/ucf101_train_split_2_rawframes.txt'))  # noqa: E501
val_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_val_split_2_rawframes.txt'))  # noqa: E501
test_dataloader = val_dataloader
