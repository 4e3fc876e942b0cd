_base_ = './_base_/kinet_r18_1x1x3_ucf101-proxy_realclips-cpu.py'
split = 1
train_dataloader = dict(
    dataset=dict(ann_file='work_dirs/ucf101_proxy/ucf101_train_split_1_videos.txt')
)  # noqa: E501
val_dataloader = dict(
    dataset=dict(
        ann_file='work_dirs/ucf101_proxy/ucf101_val_split_1_videos.txt'))  # noqa: E501
test_dataloader = val_dataloader
