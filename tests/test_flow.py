"""Optical flow: extraction (resumable), the flow input pipeline, cross-modality
initialisation of the first conv."""
import os

import cv2
import numpy as np
import pytest
import torch
from fixtures import REPO_ROOT
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import Compose

from kinet_mm.converters import convert_rgb_to_flow, cross_modality_weight
from kinet_mm.extraction import flow as flow_extraction
from kinet_mm.utils.io import TMP_PREFIX

TSN_FLOW_CFG = REPO_ROOT / 'configs/tsn/tsn_r50_5x1x3_realclips-cpu-flow.py'


def write_video(path, num_frames=6, size=32):
    """A small MJPG video of a white square moving right by 2 pixels a
    frame (so that TV-L1 has motion to find)."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (size, size))
    for t in range(num_frames):
        frame = np.zeros((size, size, 3), np.uint8)
        frame[10:20, 4 + 2 * t:14 + 2 * t] = 255
        writer.write(frame)
    writer.release()


# -- extraction ---------------------------------------------------------------


def test_extract_flow_resumes(tmp_path):
    """Finished videos are skipped, interrupted ones redone, and the
    rawframe annotation files hold the flow frame counts."""
    videos, out = tmp_path / 'videos', tmp_path / 'flow'
    videos.mkdir()
    write_video(videos / 'done.avi')
    write_video(videos / 'cut.avi', num_frames=7)
    ann = tmp_path / 'train.txt'
    ann.write_text('done.avi 3\ncut.avi 1\n')
    # A finished video (its folder exists) and an interrupted one (only the
    # temporary folder of an unfinished extraction is left).
    (out / 'done').mkdir(parents=True)
    (out / 'done' / 'marker').write_text('kept')
    for i in (1, 2, 3, 4, 5):
        for axis in 'xy':
            (out / 'done' / f'{axis}_{i:05d}.jpg').write_bytes(b'old')
    stale = out / f'{TMP_PREFIX}cut.abc123'
    stale.mkdir()
    (stale / 'x_00001.jpg').write_bytes(b'half')

    # In-process: tools/misc/extract_flow.py only parses arguments for it,
    # and a command would spend ~10 s importing kinet_mm.
    stats = flow_extraction.extract_dataset_flow([str(ann)], str(videos), str(out))
    assert (stats['videos'], stats['skipped'], stats['flow_frames']) == \
        (2, 1, 6)
    assert (out / 'done' / 'marker').read_text() == 'kept'
    assert (out / 'done' / 'x_00001.jpg').read_bytes() == b'old'
    assert not stale.exists()
    assert not [p for p in os.listdir(out) if p.startswith(TMP_PREFIX)]
    cut = sorted(os.listdir(out / 'cut'))
    assert cut == [f'{axis}_{i:05d}.jpg' for axis in 'xy' for i in range(1, 7)]
    assert (out / 'train_rawframes.txt').read_text() == 'done 5 3\ncut 6 1\n'
    # The square moves right by 2 px (128 + 2 * 255 / 40 = 140.75 at bound
    # 20): TV-L1 smooths it a little, so only ask for a clearly positive x.
    x = cv2.imread(str(out / 'cut' / 'x_00001.jpg'), cv2.IMREAD_GRAYSCALE)
    assert x[12:18, 8:14].mean() > 136


def test_interrupted_extraction_leaves_no_frame_dir(tmp_path, monkeypatch):
    video = tmp_path / 'a.avi'
    write_video(video)
    tool = flow_extraction.load_mmaction_tool(flow_extraction.FLOW_TOOL)
    calls = []

    def failing_flow_to_img(flow, bound=20.):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return np.zeros(flow.shape, np.uint8)

    monkeypatch.setattr(tool, 'flow_to_img', failing_flow_to_img)
    with pytest.raises(KeyboardInterrupt):
        flow_extraction.extract_flow(str(video), str(tmp_path / 'out' / 'a'))
    assert os.listdir(tmp_path / 'out') == []


# -- the flow input pipeline ----------------------------------------------------


@pytest.fixture
def rawframes(tmp_path):
    """12 flow frames of constant images: x_i = 10 i, y_i = 250 - 10 i."""
    frame_dir = tmp_path / 'clip'
    frame_dir.mkdir()
    for i in range(1, 13):
        for axis, value in (('x', 10 * i), ('y', 250 - 10 * i)):
            cv2.imwrite(
                str(frame_dir / f'{axis}_{i:05d}.jpg'),
                np.full((48, 64), value, np.uint8))
    ann = tmp_path / 'val_rawframes.txt'
    ann.write_text('clip 12 2\n')
    return tmp_path, ann


def test_tsn_flow_stacks_five_flow_frames_into_ten_channels(rawframes):
    root, ann = rawframes
    cfg = Config.fromfile(str(TSN_FLOW_CFG))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(
        ann_file=str(ann),
        data_prefix=dict(img=str(root)),
        metainfo=dict(classes=[str(i) for i in range(10)]))
    sample = DATASETS.build(ds_cfg)[0]
    inputs = sample['inputs']
    assert tuple(inputs.shape) == (8, 10, 112, 112)  # (num_segs, 2 * 5, H, W)
    clip_len = 5
    # Segment k starts at frame s_k; channels are x_s, y_s, x_s+1, y_s+1, ...
    for seg in inputs.numpy().astype(float):
        means = seg.mean(axis=(1, 2))
        start = round(means[0] / 10)
        expected = [
            v for i in range(start, start + clip_len) for v in (10 * i, 250 - 10 * i)
        ]
        np.testing.assert_allclose(means, expected, atol=2)
    # Normalisation of MMAction2's TSN flow configs: (v - 128) / 128.
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    data = preprocessor(dict(inputs=[inputs], data_samples=[sample['data_samples']]))
    np.testing.assert_allclose(
        data['inputs'][0].numpy(), (inputs.numpy() - 128.) / 128., atol=1e-5)


def test_i3d_flow_clip_is_two_channels_in_time(rawframes):
    """I3D's flow input: ``(1, 2, T, H, W)`` with MMAction2's NCTHW format."""
    root, ann = rawframes
    pipeline = Compose([
        dict(
            type='SampleFrames',
            clip_len=8,
            frame_interval=1,
            num_clips=1,
            test_mode=True),
        dict(type='RawFrameDecode'),
        dict(type='CenterCrop', crop_size=32),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])
    inputs = pipeline(
        dict(
            frame_dir=str(root / 'clip'),
            total_frames=12,
            label=2,
            start_index=1,
            modality='Flow',
            filename_tmpl='{}_{:05d}.jpg'))['inputs']
    assert tuple(inputs.shape) == (1, 2, 8, 32, 32)
    means = inputs[0].float().mean(dim=(2, 3)).numpy()  # (2, T)
    start = round(means[0, 0] / 10)
    frames = np.arange(start, start + 8)
    np.testing.assert_allclose(means, [10 * frames, 250 - 10 * frames], atol=2)


I3D_FLOW_CFG = REPO_ROOT / 'configs/i3d/i3d_inception-v1_realclips-cpu-flow.py'


def test_i3d_flow_config_reads_two_channel_clips(rawframes):
    root, ann = rawframes
    cfg = Config.fromfile(str(I3D_FLOW_CFG))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(
        ann_file=str(ann),
        data_prefix=dict(img=str(root)),
        metainfo=dict(classes=[str(i) for i in range(10)]))
    inputs = DATASETS.build(ds_cfg)[0]['inputs']
    assert tuple(inputs.shape) == (3, 2, 16, 112, 112)  # 3 clips, x/y, T
    cfg.model.backbone.init_cfg = None  # no RGB stream checkpoint here
    model = MODELS.build(cfg.model)
    first_conv = next(m for m in model.backbone.modules()
                      if isinstance(m, torch.nn.Conv3d))
    assert first_conv.in_channels == 2


# -- cross-modality initialisation --------------------------------------------


def assert_cross_modality(w_flow, w_rgb, in_channels):
    """``W_flow[:, c] = (W_r + W_g + W_b) / 3`` for every flow channel."""
    assert w_flow.shape == (w_rgb.shape[0], in_channels) + w_rgb.shape[2:]
    r, g, b = w_rgb[:, 0], w_rgb[:, 1], w_rgb[:, 2]
    for c in range(in_channels):
        np.testing.assert_allclose(w_flow[:, c], (r + g + b) / 3, rtol=1e-6, atol=1e-7)


def test_torchvision_rgb_weights_initialise_the_tsn_flow_conv(tmp_path):
    """The Kinetics path: ImageNet torchvision weights, converted, loaded by
    MMAction2's ResNet (``backbone.pretrained``) with 10 input channels."""
    from torchvision.models import resnet18
    torch.manual_seed(0)
    rgb = resnet18().state_dict()
    torch.save(rgb, tmp_path / 'resnet18.pth')
    key = convert_rgb_to_flow(
        str(tmp_path / 'resnet18.pth'), str(tmp_path / 'flow.pth'), in_channels=10)
    assert key == 'conv1.weight'
    flow = MODELS.build(
        dict(
            type='ResNet',
            depth=18,
            in_channels=10,
            pretrained=str(tmp_path / 'flow.pth')))
    flow.init_weights()
    assert_cross_modality(flow.conv1.conv.weight.detach().numpy(),
                          rgb['conv1.weight'].numpy(), 10)
    torch.testing.assert_close(flow.layer4[1].conv2.conv.weight,
                               rgb['layer4.1.conv2.weight'])


def test_rgb_recognizer_initialises_the_flow_recognizer(tmp_path):
    """The real-clip path: the RGB stream's checkpoint, converted, loaded with
    ``init_cfg=dict(type='Pretrained', prefix='backbone.')``."""

    def tsn_r18(in_channels, **backbone):
        return MODELS.build(
            dict(
                type='Recognizer2D',
                backbone=dict(
                    type='ResNet',
                    depth=18,
                    in_channels=in_channels,
                    pretrained=None,
                    **backbone),
                cls_head=dict(type='TSNHead', num_classes=4, in_channels=512)))

    torch.manual_seed(0)
    rgb = tsn_r18(3)
    rgb.init_weights()
    torch.save(dict(state_dict=rgb.state_dict()), tmp_path / 'rgb.pth')
    convert_rgb_to_flow(
        str(tmp_path / 'rgb.pth'), str(tmp_path / 'flow.pth'), in_channels=10)
    flow = tsn_r18(
        10,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint=str(tmp_path / 'flow.pth')))
    flow.init_weights()
    assert_cross_modality(flow.backbone.conv1.conv.weight.detach().numpy(),
                          rgb.backbone.conv1.conv.weight.detach().numpy(), 10)
    torch.testing.assert_close(flow.backbone.layer4[1].conv2.conv.weight,
                               rgb.backbone.layer4[1].conv2.conv.weight)


def test_imagenet_inception_v1_initialises_the_i3d_flow_conv(tmp_path):
    """The Kinetics I3D flow path: a 2D InceptionV1 checkpoint converted to 2
    channels, then inflated by I3DInceptionV1 (kernel / 7 at each of the 7
    time steps)."""
    torch.manual_seed(0)
    rgb = MODELS.build(dict(type='InceptionV1'))
    rgb.init_weights()
    torch.save(rgb.state_dict(), tmp_path / 'inception_v1.pth')
    key = convert_rgb_to_flow(
        str(tmp_path / 'inception_v1.pth'), str(tmp_path / 'flow.pth'), in_channels=2)
    flow = MODELS.build(
        dict(
            type='I3DInceptionV1', in_channels=2,
            pretrained=str(tmp_path / 'flow.pth')))
    flow.init_weights()
    w_flow = flow.get_parameter(key).detach().numpy()  # (64, 2, 7, 7, 7)
    assert w_flow.shape == (64, 2, 7, 7, 7)
    for t in range(7):
        assert_cross_modality(w_flow[:, :, t] * 7,
                              rgb.get_parameter(key).detach().numpy(), 2)


def test_cross_modality_weight_inflates_2d_kernels():
    """A 2D RGB kernel for a 3D flow conv (I3D): averaged over RGB, repeated
    over time and divided by its length (I3D section 2.4)."""
    rgb = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    flow = cross_modality_weight(rgb, 2, time=3)
    assert flow.shape == (4, 2, 3, 5, 5)
    expected = rgb.numpy().sum(axis=1) / 3 / 3
    for c in range(2):
        for t in range(3):
            np.testing.assert_allclose(flow[:, c, t].numpy(), expected)


def test_rgb_to_flow_names_a_wrong_key(tmp_path):
    torch.save(
        dict(state_dict={'backbone.conv1.conv.weight': torch.ones(2, 3, 3, 3)}),
        tmp_path / 'rgb.pth')
    with pytest.raises(KeyError, match=r'no "conv1.weight".*backbone\.conv1'):
        convert_rgb_to_flow(
            str(tmp_path / 'rgb.pth'),
            str(tmp_path / 'flow.pth'),
            10,
            key='conv1.weight')
