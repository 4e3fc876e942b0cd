"""Inception-v1, its inflation (I3D), the boring-video fixed point, I3D's head."""
import copy

import pytest
import torch
from fixtures import REPO_ROOT
from fixtures.inflation import boring_video, randomize
from mmaction.models.heads import I3DHead
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from torchvision.models import googlenet

from kinet_mm.converters import convert_torchvision_googlenet
from kinet_mm.converters.googlenet import MIXED, NORM_CFG
from kinet_mm.models.backbones import I3DInceptionV1, InceptionV1
from kinet_mm.models.heads import I3DConvHead
from kinet_mm.models.utils import (inflate_module, inflate_state_dict,
                                   load_inflated_checkpoint)


def test_inception_v1_follows_googlenet_table1():
    """Output channels and map sizes of GoogLeNet's Table 1 at 224x224."""
    net = InceptionV1().eval()
    sizes = {}
    for name, module in net.named_children():
        module.register_forward_hook(
            lambda m, i, o, name=name: sizes.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        out = net(torch.rand(1, 3, 224, 224))
    assert out.shape == (1, 1024, 7, 7)
    expected = dict(
        conv1a=(64, 112, 112),
        pool2a=(64, 56, 56),
        conv2c=(192, 56, 56),
        pool3a=(192, 28, 28),
        mixed_3b=(256, 28, 28),
        mixed_3c=(480, 28, 28),
        mixed_4b=(512, 14, 14),
        mixed_4c=(512, 14, 14),
        mixed_4d=(512, 14, 14),
        mixed_4e=(528, 14, 14),
        mixed_4f=(832, 14, 14),
        mixed_5b=(832, 7, 7),
        mixed_5c=(1024, 7, 7))
    assert {k: sizes[k] for k in expected} == expected
    # BN after every conv, no LRN, 5x5 only with GoogLeNet's branch kernel.
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == len(norms) == 3 + 9 * 6
    assert {c.kernel_size for c in convs} == {(7, 7), (1, 1), (3, 3)}
    googlenet = InceptionV1(branch2_kernel_size=5)
    assert googlenet.mixed_3b.branch2[1].conv.kernel_size == (5, 5)


def test_i3d_follows_figure3_and_table1():
    net = I3DInceptionV1().eval()
    assert net.conv1a.conv.kernel_size == (7, 7, 7)
    assert net.conv1a.conv.stride == (2, 2, 2)
    assert (net.pool2a.kernel_size, net.pool2a.stride) == ((1, 3, 3), (1, 2, 2))
    assert (net.pool3a.kernel_size, net.pool3a.stride) == ((1, 3, 3), (1, 2, 2))
    assert (net.pool4a.kernel_size, net.pool4a.stride) == ((3, 3, 3), (2, 2, 2))
    assert (net.pool5a.kernel_size, net.pool5a.stride) == ((2, 2, 2), (2, 2, 2))
    assert net.mixed_4c.branch1[1].conv.kernel_size == (3, 3, 3)
    assert not any(
        isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.MaxPool2d))
        for m in net.modules())
    with torch.no_grad():  # 64 frames -> 8 positions (stride 8 in time)
        assert net(torch.rand(1, 3, 64, 32, 32)).shape == (1, 1024, 8, 1, 1)
    # Table 1: 25M parameters for the two streams, 400-way 1x1x1 classifiers.
    rgb = sum(p.numel() for p in net.parameters()) + 1024 * 400 + 400
    flow = sum(p.numel() for p in I3DInceptionV1(in_channels=2).parameters())
    flow += 1024 * 400 + 400
    assert 12.0e6 < rgb < 13.0e6 and 12.0e6 < flow < rgb
    assert round((rgb + flow) / 1e6) == 25


# Temporal receptive field of mixed_5c along its longest path (conv1a k7 s2 p3,
# conv2c k3 p1 at jump 2, one k3 p1 per mixed block: 3b, 3c at jump 2, pool4a
# k3 s2 p1 at jump 2, 4b..4f at jump 4, pool5a k2 s2, 5b, 5c at jump 8):
# size 7 + 4 + 8 + 4 + 40 + 4 + 32 = 99 frames, first frame 8 t - 47 for
# position t. With zero temporal padding the fixed point holds exactly where
# that window lies inside the clip: 8 t - 47 >= 0 and 8 t + 51 <= T - 1, i.e.
# t = 6, 7 of the 14 positions of a T = 112 clip. Max-pools pad with -inf and
# so never break it; the border positions do differ (checked, so the clean
# positions are not clean by accident).
NUM_FRAMES, CLEAN = 112, [6, 7]


def test_boring_video_fixed_point_of_the_inflated_network():
    """Section 2.4: an inflated network's pooled features on a boring video
    equal the 2D network's on the frame.

    float64 and random BN statistics: the two networks sum the same products in
    a different order, so they agree to ~1e-15 relative; 1e-9 leaves room
    for the depth (58 layers) while a missing 1/N (a factor 3 or 7 in every
    conv) changes the features by O(1).
    """
    torch.manual_seed(0)
    net2d = randomize(InceptionV1())
    net3d = I3DInceptionV1().double().eval()
    net3d.load_state_dict(inflate_state_dict(net2d.state_dict(), net3d))
    frame = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        feat2d = net2d(frame).mean(dim=(2, 3))  # (1, 1024)
        feat3d = net3d(boring_video(frame, NUM_FRAMES)).mean(dim=(3, 4))
    assert feat3d.shape == (1, 1024, 14)
    for t in CLEAN:
        torch.testing.assert_close(feat3d[..., t], feat2d, rtol=1e-9, atol=1e-9)
    for t in (0, 13):  # zero padding: the ends are not the 2D answer
        assert not torch.allclose(feat3d[..., t], feat2d, rtol=1e-3, atol=1e-3)


def test_inflate_module_keeps_the_fixed_point_of_the_current_weights():
    """The in-place conversion also inflates the weights a layer already has:
    a 7x7/2 conv inflated to 7x7x7/2 answers the 2D conv on a boring video
    wherever its window (7 frames, 3 of zero padding) stays inside the clip."""
    conv2d = randomize(torch.nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=True))
    pool2d = torch.nn.MaxPool2d(3, stride=2, padding=1)
    net3d = inflate_module(
        torch.nn.Sequential(copy.deepcopy(conv2d), pool2d), {'1': (1, 1)})
    assert net3d[0].weight.dtype == torch.float64
    frame = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        out2d = pool2d(conv2d(frame))
        out3d = net3d(boring_video(frame, 12))  # 12 frames -> 6 positions
    assert out3d.shape == (2, 8, 6, 4, 4)
    for t in (2, 3):  # frames 2t - 3 .. 2t + 3 inside [0, 11]
        torch.testing.assert_close(out3d[:, :, t], out2d, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(out3d[:, :, 0], out2d)  # zero padding in time
    with pytest.raises(ValueError, match="'pool9z'"):
        inflate_module(net3d, {'pool9z': (1, 1)})


def test_inflation_from_a_checkpoint_and_errors_naming_key_and_shapes(tmp_path):
    # A recognizer's 2D checkpoint, from a config: `pretrained` + prefix.
    net2d = InceptionV1()
    path = tmp_path / 'inception_v1.pth'
    torch.save(
        {'state_dict': {
            f'backbone.{k}': v
            for k, v in net2d.state_dict().items()
        }}, path)
    net3d = I3DInceptionV1(pretrained=str(path), pretrained_prefix='backbone.')
    net3d.init_weights()
    torch.testing.assert_close(
        net3d.conv1a.conv.weight.sum(dim=2), net2d.conv1a.conv.weight)
    torch.testing.assert_close(net3d.mixed_5c.branch0.bn.running_var,
                               net2d.mixed_5c.branch0.bn.running_var)
    with pytest.raises(ValueError, match='inception_v1.pth'):
        load_inflated_checkpoint(net3d, str(path), prefix='cls_head.')
    state = net2d.state_dict()
    state['mixed_4b.branch0.conv.weight'] = torch.zeros(192, 480, 3, 3)
    with pytest.raises(
            ValueError,
            match=r"mixed_4b.branch0.conv.weight.*"
            r"\(192, 480, 3, 3\).*\(192, 480, 1, 1, 1\)"):
        inflate_state_dict(state, net3d)
    del state['conv1a.bn.weight']
    with pytest.raises(ValueError, match=r'missing keys \[.conv1a.bn.weight.\]'):
        inflate_state_dict(state, net3d)


def test_conv_head_predicts_per_position_and_averages():
    torch.manual_seed(0)
    head = I3DConvHead(num_classes=5, in_channels=8, dropout_ratio=0)
    head.init_weights()
    x = torch.randn(2, 8, 8, 9, 9)
    # Independent: a 1x1x1 Conv3d after a (2, 7, 7) average pool, mean over
    # every output position (Figure 3).
    conv = torch.nn.Conv3d(8, 5, 1)
    conv.weight.data = head.fc_cls.weight.data.view(5, 8, 1, 1, 1)
    conv.bias.data = head.fc_cls.bias.data
    expected = conv(torch.nn.AvgPool3d((2, 7, 7), stride=1)(x)).mean(dim=(2, 3, 4))
    torch.testing.assert_close(head(x), expected)
    # Not MMAction2's I3DHead: the ends of the clip weigh half (T' = 8).
    i3d_head = I3DHead(num_classes=5, in_channels=8, dropout_ratio=0)
    i3d_head.load_state_dict(head.state_dict())
    x = torch.randn(2, 8, 8, 7, 7)
    weights = torch.tensor([1., 2, 2, 2, 2, 2, 2, 1]) / 14
    pooled = (x.mean(dim=(3, 4)) * weights).sum(dim=2)
    torch.testing.assert_close(head(x), head.fc_cls(pooled))
    assert not torch.allclose(head(x), i3d_head(x), atol=1e-4)
    # A clip shorter than the window: one prediction per remaining position.
    assert head(torch.randn(1, 8, 1, 3, 3)).shape == (1, 5)


CONFIG_DIR = REPO_ROOT / 'configs' / 'i3d'


def test_kinetics_config_follows_the_paper_recipe():
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'i3d_imagenet-inflated-inception-v1_8xb8-64x1x1-100e_'
            'kinetics400-rgb.py'))
    assert cfg.model.backbone.type == 'I3DInceptionV1'
    assert cfg.model.cls_head.type == 'I3DConvHead'
    # The converted ImageNet GoogLeNet's conventions (converters/googlenet.py).
    assert cfg.model.backbone.norm_cfg.eps == NORM_CFG['eps']
    assert cfg.model.data_preprocessor.std == [127.5] * 3
    train = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    test = {t['type']: t for t in cfg.test_dataloader.dataset.pipeline}
    assert (train['SampleFrames']['clip_len'],
            train['SampleFrames']['frame_interval']) == (64, 1)
    assert train['RandomCrop']['size'] == 224 and 'Flip' in train
    assert test['SampleFrames']['clip_len'] == 250  # whole 10 s videos
    assert test['CenterCrop']['crop_size'] == 224
    # The pools of the torchvision weights the config loads.
    assert cfg.model.backbone.pool_mode == 'ceil'


@pytest.mark.parametrize(
    'which,video,clip_len',
    [
        ('train', 'cleaning_pool.mp4', 64),  # 30 fps
        ('test', 'arm_wrestling.mp4', 250),  # 28 fps, 280 frames (10 s)
    ])
def test_kinetics_config_samples_at_25_fps(which, video, clip_len, real_clips):
    """The paper's 25 fps, whatever the video's rate: 64 frames span 2.56 s,
    the 250 test frames 10 s."""
    from mmaction.registry import TRANSFORMS
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'i3d_imagenet-inflated-inception-v1_8xb8-64x1x1-100e_'
            'kinetics400-rgb.py'))
    pipeline = cfg[f'{which}_pipeline']
    init, sample = (TRANSFORMS.build(t) for t in pipeline[:2])
    results = sample(
        init(
            dict(
                filename=str(real_clips / 'videos' / video),
                start_index=0,
                modality='RGB')))
    fps, inds = results['avg_fps'], results['frame_inds']
    assert fps > 27 and len(inds) == clip_len
    span = (inds.max() - inds.min() + 1) / fps
    assert span == pytest.approx(clip_len / 25, abs=1 / fps)


def test_realclips_config_builds_and_trains_one_step():
    cfg = Config.fromfile(str(CONFIG_DIR / 'i3d_inception-v1_realclips-cpu-rgb.py'))
    assert cfg.test_dataloader.dataset.pipeline[-2].input_format == 'NCTHW'
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    inputs = [torch.randint(0, 256, (1, 3, 16, 32, 32), dtype=torch.uint8)]
    samples = [ActionDataSample().set_gt_label(torch.tensor([3]))]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    loss = model(**data, mode='loss')['loss_cls']
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.slow
def test_converted_googlenet_computes_torchvision_features(real_clips, tmp_path):
    """End to end: the converted InceptionV1 with torchvision's pools
    (``pool_mode='ceil'``) and the I3D config's input normalisation computes
    what torchvision's GoogLeNet computes up to inception5b, including its
    ``transform_input`` (ImageNet-normalised input -> [-1, 1]), on a real
    frame and on an odd-sized input, where rounding up changes the map sizes.
    """
    from test_teacher_converters import real_frames

    # torchvision's normalisation, in float64 (float32 constants alone move
    # inception5b by ~1e-5).
    imagenet_mean = torch.tensor([0.485, 0.456, 0.406],
                                 dtype=torch.float64).view(1, 3, 1, 1)
    imagenet_std = torch.tensor([0.229, 0.224, 0.225],
                                dtype=torch.float64).view(1, 3, 1, 1)
    source = randomize(
        googlenet(
            weights=None, aux_logits=True, transform_input=True, init_weights=False),
        seed=1)
    generator = torch.Generator().manual_seed(0)
    inputs = [
        real_frames(real_clips, 224).double(),
        torch.rand(1, 3, 199, 199, generator=generator, dtype=torch.float64) * 255
    ]
    # BN statistics of the real frames (then random affine parameters): with
    # random statistics the activations fade layer by layer and inception5b
    # barely depends on the input, hiding a shifted pooling window.
    norms = [m for m in source.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for module in norms:
        module.momentum = 1.0
    with torch.no_grad():
        source.train()((inputs[0] / 255 - imagenet_mean) / imagenet_std)
    source.eval()
    for module in norms:  # counters as a trained network has them
        module.num_batches_tracked.fill_(1234)
    # googlenet-1378be20.pth (2019): a plain float32 state dict, with the
    # counters; the comparison runs in float64 from the same float32 values.
    torch.save(source.float().state_dict(), tmp_path / 'googlenet.pth')
    source.double()
    converted = convert_torchvision_googlenet(
        str(tmp_path / 'googlenet.pth'), str(tmp_path / 'inception_v1.pth'))
    assert {int(v)
            for k, v in converted.items()
            if k.endswith('num_batches_tracked')} == {1234}
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'i3d_imagenet-inflated-inception-v1_8xb8-64x1x1-100e_'
            'kinetics400-rgb.py'))
    mean, std = (
        torch.tensor(cfg.model.data_preprocessor[k],
                     dtype=torch.float64).view(1, 3, 1, 1) for k in ('mean', 'std'))
    net = InceptionV1(
        norm_cfg=cfg.model.backbone.norm_cfg, pool_mode=cfg.model.backbone.pool_mode)
    net.load_state_dict(converted, strict=True)
    net = net.double().eval()
    features = {}
    source.inception5b.register_forward_hook(
        lambda m, i, o: features.__setitem__('5b', o))
    for frames in inputs:
        with torch.no_grad():
            source((frames / 255 - imagenet_mean) / imagenet_std)
            ours = net((frames - mean) / std)
        # Features that vary over positions, where a pooling shift shows.
        assert features['5b'].std(dim=(2, 3)).mean() > 0.1
        assert ours.shape == features['5b'].shape
        torch.testing.assert_close(ours, features['5b'], atol=1e-5, rtol=0)


def test_torchvision_googlenet_converts_module_by_module(tmp_path):
    """Every stem conv and mixed block of the converted InceptionV1 answers as
    torchvision's GoogLeNet module it came from (locates a failure of the end
    to end test above)."""
    torch.manual_seed(0)
    source = randomize(googlenet(weights=None, aux_logits=True, init_weights=False))
    # Saved without BatchNorm counters, as PyTorch < 0.4.1 would: a file of
    # that era converts too (counters 0, tests/test_teacher_converters.py).
    torch.save(
        {
            k: v
            for k, v in source.state_dict().items()
            if not k.endswith('num_batches_tracked')
        }, tmp_path / 'googlenet.pth')
    convert_torchvision_googlenet(
        str(tmp_path / 'googlenet.pth'), str(tmp_path / 'inception_v1.pth'))
    net = InceptionV1(
        norm_cfg=NORM_CFG,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'inception_v1.pth')))
    net.init_weights()
    net = net.double().eval()
    pairs = [('conv1', 'conv1a', 3), ('conv2', 'conv2b', 64), ('conv3', 'conv2c', 64)]
    pairs += [(f'inception{k}', v, getattr(net, v).branch0.conv.in_channels)
              for k, v in MIXED.items()]
    with torch.no_grad():
        for theirs, ours, channels in pairs:
            x = torch.randn(1, channels, 9, 9, dtype=torch.float64)
            torch.testing.assert_close(
                getattr(net, ours)(x), getattr(source, theirs)(x), msg=ours)
