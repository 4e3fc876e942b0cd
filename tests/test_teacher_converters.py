"""The converters of the paper's published teachers (tools/model_converters/).

For each source, the test builds a randomly initialised network in the *source*
layout, written here from the published facts (docs/teachers.md), saves it as
the source publishes it *in the era it was published* (the Places365 ResNets:
PyTorch 0.2, whose BatchNorm had no ``num_batches_tracked``), converts it, and
checks that the kinet_mm teacher built from the shipped config gives the same
outputs on real frames.
"""
import sys
from collections import OrderedDict
from pathlib import Path

import decord
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from fixtures import run_command
from mmaction.registry import MODELS
from mmengine.registry import DefaultScope
from torch import nn

from kinet_mm.converters import (ConversionError, KeyAccountant, convert_lip_pspnet,
                                 convert_places365_caffe, convert_places365_pytorch)
from kinet_mm.converters.caffe import read_caffemodel

REPO = Path(__file__).resolve().parents[1]
LIP_CONFIG = str(REPO / 'configs/teachers/pspnet_densenet121_lip.py')
CAFFE_CONFIG = str(REPO / 'configs/teachers/resnet152_places365.py')
R18_CONFIG = str(REPO / 'configs/teachers/resnet18_places365.py')
R50_CONFIG = str(REPO / 'configs/teachers/resnet50_places365.py')
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
PLACES_MEAN_BGR = [104.051, 112.514, 116.676]


@pytest.fixture(scope='module', autouse=True)
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def real_frames(real_clips: Path, size: int) -> torch.Tensor:
    """One RGB frame of each of two real clips, ``(2, 3, size, size)`` 0-255."""
    frames = []
    for name in ('arm_wrestling.mp4', 'v_SoccerJuggling_g23_c01.avi'):
        reader = decord.VideoReader(str(real_clips / 'videos' / name))
        frame = torch.from_numpy(reader[len(reader) // 2].asnumpy())
        frames.append(frame.permute(2, 0, 1).float())
    frames = torch.stack([
        F.interpolate(
            f[None],
            size=(size, size),
            mode='bilinear',
            align_corners=False,
            antialias=True)[0] for f in frames
    ])
    return frames.clamp(0, 255)


def build_teacher(cfg: dict):
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Random weights *and* BN statistics, so that no mix-up of mean, var,
    gamma and beta can go unnoticed; scaled to keep activations near 1."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            m.weight.data = torch.randn(
                m.weight.shape, generator=gen) * (2 / fan_in)**0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
        elif isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) * 0.5 + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5
            m.num_batches_tracked = torch.tensor(1234)
        elif isinstance(m, nn.PReLU):
            m.weight.data = torch.rand(m.weight.shape, generator=gen) * 0.3
    return module.eval()


def published_state_dict(model: nn.Module, era: str) -> 'OrderedDict':
    """``model``'s state dict as a DataParallel model saved it (``module.``).

    ``era='legacy'``: as PyTorch before 0.4.1 saved it, without BatchNorm's
    ``num_batches_tracked`` (added in 0.4.1); ``'current'``: with them.
    """
    return OrderedDict(('module.' + k, v) for k, v in model.state_dict().items()
                       if era == 'current' or not k.endswith('num_batches_tracked'))


def save_legacy(obj, path: Path) -> None:
    """PyTorch's pre-1.6 (non-zip) serialisation, the format of 2017-2019 files."""
    torch.save(obj, path, _use_new_zipfile_serialization=False)


def assert_counters(state_dict, era: str) -> None:
    """Converted BatchNorm counters: 0 from a legacy file (PyTorch's own default
    for checkpoints older than the counter), the file's values otherwise."""
    counters = [v for k, v in state_dict.items() if k.endswith('num_batches_tracked')]
    assert counters
    assert all(int(v) == (0 if era == 'legacy' else 1234) for v in counters)


# ---------------------------------------------------------- key accounting


def test_key_accountant_lists_every_problem():
    source = OrderedDict(
        a=torch.zeros(2), b=torch.zeros(3), c=torch.ones(1), c_copy=torch.zeros(1))
    expected = OrderedDict(x=torch.zeros(2), y=torch.zeros(4), z=torch.zeros(1))
    acc = KeyAccountant(source, 'src.pth')
    acc.put('x', acc.take('a'))
    acc.put('y', acc.take('b'))  # 3 values where the model has 4
    acc.take_duplicate('c_copy', 'a')  # not equal to 'a': flagged
    with pytest.raises(ConversionError) as err:
        acc.finish(expected)
    message = str(err.value)
    assert 'src.pth' in message
    assert '1 source keys never used:\n    c\n' in message
    assert '1 target keys never filled:\n    z' in message
    assert 'y: converted (3,), model (4,)' in message
    assert "'c_copy' should duplicate 'a'" in message
    with pytest.raises(ConversionError, match="'a' is read twice"):
        acc.take('a')
    with pytest.raises(ConversionError, match="'w' is missing"):
        acc.take('w')


def test_key_accountant_passes_a_complete_mapping():
    source = OrderedDict(a=torch.ones(2), aux=torch.ones(1))
    acc = KeyAccountant(source, 'src.pth')
    acc.put('x', acc.take('a'))
    assert acc.discard('aux', 'not needed') == ['aux']
    out = acc.finish(OrderedDict(x=torch.zeros(2, dtype=torch.float64)))
    assert list(out) == ['x'] and out['x'].dtype == torch.float64
    assert '1 source tensors discarded (not needed)' in acc.summary()


# ------------------------------------------------ LIP PSPNet-DenseNet-121


class SourceDenseNet121(nn.Module):
    """DenseNet-121 at output stride 8 as Single-Human-Parsing-LIP builds it:
    ``start_features``, blocks registered twice (``blocks`` and
    ``denseblockN``/``transitionN``), stride-1 transitions 2-3, no final norm.
    """

    def __init__(self):
        super().__init__()
        self.start_features = nn.Sequential(
            OrderedDict(
                conv0=nn.Conv2d(3, 64, 7, 2, 3, bias=False),
                norm0=nn.BatchNorm2d(64),
                relu0=nn.ReLU(),
                pool0=nn.MaxPool2d(3, 2, 1)))
        self.blocks = nn.ModuleList()
        channels = 64
        for i, depth in enumerate((6, 12, 24, 16)):
            block = nn.Module()
            for j in range(depth):
                cin = channels + 32 * j
                block.add_module(
                    f'denselayer{j + 1}',
                    nn.Sequential(
                        OrderedDict(
                            norm1=nn.BatchNorm2d(cin),
                            relu1=nn.ReLU(),
                            conv1=nn.Conv2d(cin, 128, 1, bias=False),
                            norm2=nn.BatchNorm2d(128),
                            relu2=nn.ReLU(),
                            conv2=nn.Conv2d(128, 32, 3, 1, 1, bias=False))))
            self.blocks.append(block)
            setattr(self, f'denseblock{i + 1}', block)
            channels += 32 * depth
            if i < 3:
                trans = nn.Sequential(
                    OrderedDict(
                        norm=nn.BatchNorm2d(channels),
                        relu=nn.ReLU(),
                        conv=nn.Conv2d(channels, channels // 2, 1, bias=False),
                        pool=nn.AvgPool2d(2, 2) if i == 0 else nn.AvgPool2d(1, 1)))
                self.blocks.append(trans)
                setattr(self, f'transition{i + 1}', trans)
                channels //= 2

    def forward(self, x):
        x = self.start_features(x)
        for module in self.blocks:
            if isinstance(module, nn.Sequential):
                x = module(x)
            else:  # dense block: each layer sees all earlier maps
                for layer in module.children():
                    x = torch.cat([x, layer(x)], dim=1)
        return x


class SourcePSPNet(nn.Module):
    """PSPNet(n_classes=20, psp_size=1024, deep_features_size=512,
    backend='densenet') of Single-Human-Parsing-LIP, eval-mode forward."""

    def __init__(self):
        super().__init__()
        self.feats = SourceDenseNet121()
        self.psp = nn.Module()
        self.psp.stages = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(s), nn.Conv2d(1024, 1024, 1, bias=False))
            for s in (1, 2, 3, 6))
        self.psp.bottleneck = nn.Conv2d(1024 * 5, 1024, 1)
        for name, cin, cout in (('up_1', 1024, 256), ('up_2', 256, 64), ('up_3', 64,
                                                                         64)):
            up = nn.Module()
            up.conv = nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.PReLU())
            setattr(self, name, up)
        self.final = nn.Sequential(nn.Conv2d(64, 20, 1), nn.LogSoftmax(dim=1))
        self.classifier = nn.Sequential(
            nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 20))

    def forward(self, x):
        f = self.feats(x)
        h, w = f.shape[2:]
        priors = [
            F.interpolate(stage(f), size=(h, w), mode='bilinear', align_corners=False)
            for stage in self.psp.stages
        ]
        p = F.relu(self.psp.bottleneck(torch.cat(priors + [f], 1)))
        for up in (self.up_1, self.up_2, self.up_3):
            p = F.interpolate(
                p,
                size=(2 * p.shape[2], 2 * p.shape[3]),
                mode='bilinear',
                align_corners=False)
            p = up.conv(p)
        return self.final(p)


@pytest.fixture(scope='module')
def lip_source(tmp_path_factory):
    """The published ``PSPNet_last``: a DataParallel state dict (every key has
    ``module.``), of a PyTorch version the repository does not pin, so saved
    without BatchNorm counters here (``lip_current`` has them)."""
    model = randomize_(SourcePSPNet(), seed=1)
    state = published_state_dict(model, 'legacy')
    path = tmp_path_factory.mktemp('lip') / 'PSPNet_last'
    save_legacy(state, path)
    return model, state, path


def test_lip_source_layout_has_the_published_facts(lip_source):
    _, state, _ = lip_source
    # Each dense block / transition tensor saved under two names.
    assert torch.equal(state['module.feats.blocks.2.denselayer3.conv1.weight'],
                       state['module.feats.denseblock2.denselayer3.conv1.weight'])
    assert 'module.feats.norm5.weight' not in state
    assert 'module.up_3.conv.2.weight' in state


def converted_teacher(convert, src, dst, teacher_type, config):
    """Convert ``src`` to ``dst`` for ``config``; the teacher loading it."""
    convert(str(src), str(dst), config=config)
    return build_teacher(dict(type=teacher_type, config=config, checkpoint=str(dst)))


def test_lip_converter_reproduces_the_source(lip_source, real_clips, tmp_path):
    source, _, path = lip_source
    dst = tmp_path / 'pspnet_densenet121_lip.pth'
    teacher = converted_teacher(convert_lip_pspnet, path, dst, 'MMSegHumanTeacher',
                                LIP_CONFIG)
    # Half the source's 256x256 input, to keep the test fast: the network is
    # fully convolutional (adaptive pyramid pooling), any multiple of 8 works.
    frames = real_frames(real_clips, 128)
    with torch.no_grad():
        expected = source((frames / 255 - IMAGENET_MEAN) / IMAGENET_STD)
    converted = teacher.segment(frames).log_softmax(dim=1)
    assert converted.shape == expected.shape == (2, 20, 128, 128)
    assert expected.std() > 0.1  # not a degenerate, constant output
    torch.testing.assert_close(converted, expected, atol=1e-4, rtol=0)
    human = teacher(frames)
    assert torch.equal(human, (expected.argmax(1) != 0).long())
    assert_counters(torch.load(dst, weights_only=True)['state_dict'], 'legacy')


def test_lip_converter_keeps_the_counters_of_a_current_file(lip_source, tmp_path):
    source, legacy, _ = lip_source
    torch.save(published_state_dict(source, 'current'), tmp_path / 'current')
    save_legacy(legacy, tmp_path / 'legacy')
    current = convert_lip_pspnet(
        str(tmp_path / 'current'), str(tmp_path / 'a.pth'), config=LIP_CONFIG)
    old = convert_lip_pspnet(
        str(tmp_path / 'legacy'), str(tmp_path / 'b.pth'), config=LIP_CONFIG)
    assert_counters(current, 'current')
    assert all(
        torch.equal(v, old[k]) for k, v in current.items()
        if not k.endswith('num_batches_tracked'))


def test_lip_converter_rejects_incomplete_or_foreign_files(lip_source, tmp_path):
    source = lip_source[0]
    broken = published_state_dict(source, 'current')
    broken.pop('module.up_2.conv.1.running_var')
    # A file with counters missing one: a damaged current file, not a legacy
    # one, so the counter is not made up.
    broken.pop('module.up_1.conv.1.num_batches_tracked')
    broken['module.extra.weight'] = torch.zeros(1)
    # A second name that no longer matches its first one.
    key = 'module.feats.blocks.0.denselayer1.conv1.weight'
    broken[key] = broken[key] + 1
    torch.save(broken, tmp_path / 'broken')
    with pytest.raises(ConversionError) as err:
        convert_lip_pspnet(
            str(tmp_path / 'broken'), str(tmp_path / 'out.pth'), config=LIP_CONFIG)
    message = str(err.value)
    assert 'extra.weight' in message
    assert 'decode_head.up_stages.1.bn.running_var' in message
    assert 'decode_head.up_stages.0.bn.num_batches_tracked' in message
    assert 'feats.blocks.0.denselayer1.conv1.weight' in message
    assert not (tmp_path / 'out.pth').exists()


# ------------------------------------------------- Places365, PyTorch


def save_places365(source: nn.Module,
                   arch: str,
                   path: Path,
                   era: str = 'legacy') -> None:
    """As published (CSAILVision's README: PyTorch 0.2): train_placesCNN.py's
    checkpoint ``{'epoch', 'arch', 'state_dict', 'best_prec1'}`` of a
    DataParallel model, BatchNorm without ``num_batches_tracked``."""
    state = published_state_dict(source, era)
    save_legacy(dict(epoch=90, arch=arch, state_dict=state, best_prec1=54.7), path)


@pytest.mark.parametrize('arch,config', [('resnet18', R18_CONFIG),
                                         ('resnet50', R50_CONFIG)])
def test_places365_pytorch_converter(arch, config, real_clips, tmp_path):
    source = randomize_(getattr(torchvision.models, arch)(num_classes=365), seed=2)
    src = tmp_path / f'{arch}_places365.pth.tar'
    save_places365(source, arch, src)
    dst = tmp_path / f'{arch}_places365.pth'
    teacher = converted_teacher(convert_places365_pytorch, src, dst,
                                'MMPretrainSceneTeacher', config)
    # In float64, so that 1e-5 measures the conversion, not float32 rounding
    # (ResNet-50's logits differ by ~1e-5 in float32 from summation order).
    frames = real_frames(real_clips, 160).double()
    source, teacher = source.double(), teacher.double()
    with torch.no_grad():
        expected = source((frames / 255 - IMAGENET_MEAN) / IMAGENET_STD)
        converted = teacher.classifier(teacher.normalize(frames), mode='tensor')
    assert expected.std() > 0.1
    torch.testing.assert_close(converted, expected, atol=1e-5, rtol=0)
    assert_counters(torch.load(dst, weights_only=True)['state_dict'], 'legacy')
    # A file saved by a current PyTorch converts too, counters kept.
    save_places365(source, arch, tmp_path / 'current.pth.tar', 'current')
    current = convert_places365_pytorch(
        str(tmp_path / 'current.pth.tar'), str(tmp_path / 'current.pth'), config=config)
    assert_counters(current, 'current')


@pytest.mark.slow
def test_converter_tool_runs_anywhere_with_its_default_config(tmp_path):
    """tools/model_converters/ from another folder, on a file in the published
    layout: the default --config is a ``kinet_mm::`` path, found next to the
    installed package."""
    source = torchvision.models.resnet18(num_classes=365)
    save_places365(source, 'resnet18', tmp_path / 'resnet18_places365.pth.tar')
    run_command(
        sys.executable,
        REPO / 'tools/model_converters/places365_pytorch_to_mmpretrain.py',
        'resnet18_places365.pth.tar',
        'out/resnet18_places365.pth',
        cwd=tmp_path)
    saved = torch.load(tmp_path / 'out/resnet18_places365.pth', weights_only=True)
    assert saved['meta']['config'] == \
        'kinet_mm::teachers/resnet18_places365.py'
    assert torch.equal(saved['state_dict']['head.fc.weight'], source.fc.weight)


# ---------------------------------------------------- Places365, Caffe


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob(array: np.ndarray) -> bytes:
    """caffe.BlobProto: shape (7) = BlobShape{dim (1), packed}, data (5)."""
    shape = _field(1, b''.join(_varint(d) for d in array.shape))
    data = array.astype('<f4').tobytes()  # packed floats: little-endian
    return _field(7, shape) + _field(5, data)


def write_caffemodel(path: Path, layers) -> None:
    """caffe.NetParameter with ``layer`` (100) = LayerParameter{name (1),
    type (2), blobs (7)}, hand-encoded (independent of the converter's
    protobuf schema)."""
    body = _field(1, b'resnet152-places365')
    for name, kind, blobs in layers:
        layer = _field(1, name.encode()) + _field(2, kind.encode())
        layer += b''.join(_field(7, _blob(b)) for b in blobs)
        body += _field(100, layer)
    path.write_bytes(body)


class CaffeResNet152:
    """Deploy-prototxt semantics of CSAILVision's ResNet-152-places365:
    Convolution (no bias), BatchNorm (running sums / factor, eps 1e-5), Scale,
    ReLU, Eltwise sum, Pooling pool1 3x3/2 without padding (Caffe rounds up),
    pool5 7x7 average, InnerProduct fc365. ``width`` narrows every layer by
    the same factor to keep the test fast; the topology stays ResNet-152's."""

    STAGES = (3, 8, 36, 3)

    def __init__(self, width: int, seed: int):
        self.gen = torch.Generator().manual_seed(seed)
        self.layers = []  # (name, type, blobs) in file order
        self.blobs = {}
        self._conv('conv1', 3, width, 7)
        cin = width
        for s, num in enumerate(self.STAGES):
            planes = width * 2**s
            for b in range(num):
                block = self.block_name(s + 2, b, num)
                if b == 0:
                    self._conv(f'res{block}_branch1', cin, planes * 4, 1)
                self._conv(f'res{block}_branch2a', cin, planes, 1)
                self._conv(f'res{block}_branch2b', planes, planes, 3)
                self._conv(f'res{block}_branch2c', planes, planes * 4, 1, gamma=0.2)
                cin = planes * 4
        weight = torch.randn(365, cin, generator=self.gen) * (1 / cin)**0.5
        self._add('fc365', 'InnerProduct',
                  [weight, torch.randn(365, generator=self.gen) * 0.1])
        self.out_channels = cin

    @staticmethod
    def block_name(stage: int, index: int, num: int) -> str:
        if index == 0:
            return f'{stage}a'
        return f'{stage}b{index}' if num > 3 else f'{stage}{"abc"[index]}'

    def _add(self, name, kind, blobs):
        self.layers.append((name, kind, [b.numpy() for b in blobs]))
        self.blobs[name] = blobs

    def _conv(self, name, cin, cout, k, gamma=1.0):
        gen = self.gen
        self._add(
            name, 'Convolution',
            [torch.randn(cout, cin, k, k, generator=gen) * (2 / (cin * k * k))**0.5])
        suffix = name[3:] if name.startswith('res') else '_conv1'
        factor = torch.rand(1, generator=gen) * 900 + 100  # running-sum weight
        mean = torch.randn(cout, generator=gen) * 0.1
        var = torch.rand(cout, generator=gen) + 0.5
        self._add(f'bn{suffix}', 'BatchNorm', [mean * factor, var * factor, factor])
        self._add(f'scale{suffix}', 'Scale',
                  [(torch.rand(cout, generator=gen) * 0.5 + 0.5) * gamma,
                   torch.randn(cout, generator=gen) * 0.1])

    def _conv_bn(self, x, name, stride=1, relu=True):
        weight = self.blobs[name][0]
        x = F.conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2)
        suffix = name[3:] if name.startswith('res') else '_conv1'
        mean_sum, var_sum, factor = self.blobs[f'bn{suffix}']
        gamma, beta = self.blobs[f'scale{suffix}']
        mean, var = mean_sum / factor, var_sum / factor
        x = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + 1e-5)
        x = x * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)
        return F.relu(x) if relu else x

    def __call__(self, bgr_minus_mean):
        x = self._conv_bn(bgr_minus_mean, 'conv1', stride=2)
        x = F.max_pool2d(x, 3, 2, padding=0, ceil_mode=True)
        for s, num in enumerate(self.STAGES):
            for b in range(num):
                block = self.block_name(s + 2, b, num)
                stride = 2 if b == 0 and s > 0 else 1  # on branch2a (1x1)
                shortcut = (
                    self._conv_bn(x, f'res{block}_branch1', stride, relu=False)
                    if b == 0 else x)
                y = self._conv_bn(x, f'res{block}_branch2a', stride)
                y = self._conv_bn(y, f'res{block}_branch2b')
                y = self._conv_bn(y, f'res{block}_branch2c', relu=False)
                x = F.relu(shortcut + y)
        x = F.avg_pool2d(x, 7, 1).flatten(1)  # pool5 on 7x7 maps (224 input)
        weight, bias = self.blobs['fc365']
        return x @ weight.t() + bias


def narrow(width: int) -> dict:
    return {
        'model.backbone.stem_channels': width,
        'model.backbone.base_channels': width,
        'model.head.in_channels': width * 32
    }


@pytest.fixture(scope='module')
def caffe_source(tmp_path_factory):
    source = CaffeResNet152(width=8, seed=3)
    path = tmp_path_factory.mktemp('caffe') / 'resnet152_places365.caffemodel'
    write_caffemodel(path, source.layers)
    return source, path


def test_caffe_reader_returns_every_blob(caffe_source):
    source, path = caffe_source
    layers = read_caffemodel(str(path))
    assert list(layers) == [name for name, _, _ in source.layers]
    assert 'res4b35_branch2c' in layers and 'res4b36_branch2a' not in layers
    for name, _, blobs in source.layers[:5]:
        assert [tuple(t.shape) for t in layers[name]] == [b.shape for b in blobs]
        assert all(
            torch.equal(t, torch.from_numpy(b)) for t, b in zip(layers[name], blobs))


def test_places365_caffe_converter_reproduces_the_source(caffe_source, real_clips,
                                                         tmp_path):
    source, path = caffe_source
    dst = tmp_path / 'resnet152_places365.pth'
    convert_places365_caffe(
        str(path), str(dst), config=CAFFE_CONFIG, cfg_options=narrow(8))
    teacher = build_teacher(
        dict(
            type='MMPretrainSceneTeacher',
            config=CAFFE_CONFIG,
            checkpoint=str(dst),
            cfg_options=narrow(8)))
    frames = real_frames(real_clips, 224)  # the deploy input size
    bgr = frames.flip(1) - torch.tensor(PLACES_MEAN_BGR).view(1, 3, 1, 1)
    expected = source(bgr)
    with torch.no_grad():
        converted = teacher.classifier(teacher.normalize(frames), mode='tensor')
    assert expected.std() > 0.1
    torch.testing.assert_close(converted, expected, atol=1e-4, rtol=0)


def test_places365_caffe_converter_checks_mean_file(caffe_source, tmp_path):
    _, path = caffe_source

    def mean_file(bgr):
        image = np.stack([np.full((4, 5), v, np.float32) for v in bgr])[None]
        out = tmp_path / 'mean.binaryproto'
        out.write_bytes(_blob(image))
        return str(out)

    dst = tmp_path / 'out.pth'
    with pytest.raises(ConversionError, match=r'103\.939, 116\.779, 123\.680'):
        convert_places365_caffe(
            str(path),
            str(dst),
            config=CAFFE_CONFIG,
            cfg_options=narrow(8),
            mean_file=mean_file([103.939, 116.779, 123.68]))
    assert not dst.exists()
    convert_places365_caffe(
        str(path),
        str(dst),
        config=CAFFE_CONFIG,
        cfg_options=narrow(8),
        mean_file=mean_file(PLACES_MEAN_BGR))
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['mean_bgr'] == pytest.approx(PLACES_MEAN_BGR, abs=1e-3)


def test_places365_caffe_converter_rejects_a_resnet101(caffe_source, tmp_path):
    _, path = caffe_source
    resnet101 = dict(narrow(8), **{'model.backbone.depth': 101})
    with pytest.raises(ConversionError) as err:
        convert_places365_caffe(
            str(path),
            str(tmp_path / 'x.pth'),
            config=CAFFE_CONFIG,
            cfg_options=resnet101)
    message = str(err.value)
    assert 'source keys never used' in message
    assert 'res3b7_branch2a/0' in message


# ------------------------------------------------------ the paper config


@pytest.mark.slow
def test_paper_config_trains_one_step_with_converted_teachers(
        lip_source, caffe_source, tmp_path, monkeypatch):
    """The paper's recipe with both teachers loaded from converted files.

    The LIP teacher is full size; the scene teacher is the narrow ResNet-152 of
    the Caffe test (``cfg_options``), to keep the step fast.
    """
    from mmaction.structures import ActionDataSample
    from mmengine.config import Config
    monkeypatch.chdir(REPO)  # the config names teacher files relative to it
    human = tmp_path / 'pspnet_densenet121_lip.pth'
    scene = tmp_path / 'resnet152_places365.pth'
    convert_lip_pspnet(str(lip_source[2]), str(human), config=LIP_CONFIG)
    convert_places365_caffe(
        str(caffe_source[1]), str(scene), config=CAFFE_CONFIG, cfg_options=narrow(8))
    cfg = Config.fromfile(
        'configs/kinet/'
        'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py')
    cfg.model.backbone.backbone.pretrained = None  # no download
    cfg.model.knowledge.human.teacher.checkpoint = str(human)
    cfg.model.knowledge.scene.teacher.update(
        checkpoint=str(scene), cfg_options=narrow(8))
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    model.train()
    inputs = [torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)]
    samples = [ActionDataSample().set_gt_label(torch.tensor([7]))]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_human', 'loss_scene'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    # The teachers hold the converted weights, untouched by the step.
    converted = torch.load(human, weights_only=True)['state_dict']
    segmentor = model.knowledge.human.teacher.segmentor.state_dict()
    assert all(torch.equal(segmentor[k], v) for k, v in converted.items())
    assert not any(p.requires_grad for task in model.knowledge.values()
                   for p in task.teacher.parameters())
