"""Tests of the frozen teachers (kinet_mm/models/teachers).

The MMSeg/MMPretrain teachers are built from the shipped configs with random
weights (no checkpoint exists offline) and run on tiny frames; the demo teachers
(MediaPipe, EfficientNet-Lite0) run their real pretrained weights on real clips.
"""
import copy
from pathlib import Path
from typing import Callable

import decord
import pytest
import torch
from fixtures import REPO_ROOT
from mmaction.registry import MODELS
from mmengine.registry import DefaultScope

import kinet_mm  # noqa: F401  (registers the teachers)
from kinet_mm.models.teachers import (BaseTeacher, EfficientNetLiteSceneTeacher,
                                      MediaPipeHumanTeacher, MMPretrainSceneTeacher,
                                      MMSegHumanTeacher)

SEG_CONFIG = str(REPO_ROOT / 'configs/teachers/pspnet_densenet121_lip.py')
CLS_CONFIG = str(REPO_ROOT / 'configs/teachers/resnet152_places365.py')
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@pytest.fixture(scope='module', autouse=True)
def single_thread():
    """Run torch on one thread: on tiny inputs, thread syncs cost more than they
    save, badly so on a busy 2-core machine (measured 5x)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build_teacher(cfg: dict) -> BaseTeacher:
    """Build a teacher as KINet does: from MMAction2's registry and scope."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def random_frames(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(0)) * 255


def read_frames(real_clips: Path, name: str, num: int = 2) -> torch.Tensor:
    """``num`` evenly spaced RGB frames of a real clip, ``(num, 3, H, W)`` float.

    ``real_clips`` is conftest's fixture: ``../shared/data/real_clips``, with
    ``$KINET_SHARED`` replacing ``../shared``.
    """
    reader = decord.VideoReader(str(real_clips / 'videos' / name))
    indices = torch.linspace(0, len(reader) - 1, num + 2)[1:-1].long().tolist()
    frames = torch.from_numpy(reader.get_batch(indices).asnumpy())
    return frames.permute(0, 3, 1, 2).float()


def assert_frozen(teacher: BaseTeacher, frames: torch.Tensor,
                  network: Callable) -> None:
    """No grads, eval mode and fixed BN statistics inside a training parent.

    ``network`` is the teacher's raw network (without ``no_grad``), through which
    a gradient can flow back to the frames but must not reach any parameter.
    """
    assert all(not p.requires_grad for p in teacher.parameters())
    inputs = frames.clone().requires_grad_()
    out = network(teacher.normalize(inputs))
    out = out[-1] if isinstance(out, (tuple, list)) else out
    out.float().square().mean().backward()
    assert inputs.grad is not None and inputs.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())

    student = torch.nn.Conv2d(3, 3, 1)
    parent = torch.nn.ModuleDict(dict(student=student, teacher=teacher))
    parent.train()
    assert student.training
    assert not any(m.training for m in teacher.modules())
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    assert not teacher(frames).requires_grad
    after = teacher.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


# --------------------------------------------------------------------- MMSeg


@pytest.fixture(scope='module')
def seg_teacher() -> MMSegHumanTeacher:
    torch.manual_seed(0)
    return build_teacher(dict(type='MMSegHumanTeacher', config=SEG_CONFIG))


def test_seg_teacher_builds_the_paper_network(seg_teacher):
    segmentor = seg_teacher.segmentor
    # The architecture of the published LIP checkpoint (docs/teachers.md).
    assert type(segmentor.backbone).__name__ == 'DenseNetStride8'
    assert type(segmentor.decode_head).__name__ == 'PSPUpsampleHead'
    assert not segmentor.with_auxiliary_head
    assert seg_teacher.num_classes == 20
    assert seg_teacher.label_space == 'lip20->human'
    assert seg_teacher.mean.flatten().tolist() == pytest.approx(IMAGENET_MEAN)
    assert seg_teacher.std.flatten().tolist() == pytest.approx(IMAGENET_STD)


def test_seg_teacher_masks(seg_teacher):
    mask = seg_teacher(random_frames(2, 3, 64, 80))
    assert mask.shape == (2, 64, 80)
    assert mask.dtype == torch.long
    assert set(mask.unique().tolist()) <= {0, 1}


def test_seg_teacher_merges_parts_into_human(seg_teacher, monkeypatch):
    labels = torch.tensor([[[0, 1, 7], [19, 0, 13]]])  # background, 4 parts
    logits = torch.nn.functional.one_hot(labels, 20).permute(0, 3, 1, 2) * 5.0
    monkeypatch.setattr(seg_teacher.segmentor, 'inference',
                        lambda inputs, metas: logits)
    mask = seg_teacher(random_frames(1, 3, 2, 3))
    assert mask.tolist() == [[[0, 1, 1], [1, 0, 1]]]


def test_seg_teacher_normalizes_with_config_stats(seg_teacher, monkeypatch):
    seen = {}

    def fake_inference(inputs, metas):
        seen.update(inputs=inputs, metas=metas)
        return inputs.new_zeros(inputs.shape[0], 20, *inputs.shape[-2:])

    monkeypatch.setattr(seg_teacher.segmentor, 'inference', fake_inference)
    frames = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1).expand(2, 3, 4, 6)
    seg_teacher(frames + torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
    assert torch.allclose(seen['inputs'], torch.ones(2, 3, 4, 6))
    assert seen['metas'][0]['ori_shape'] == (4, 6)


def test_seg_teacher_is_frozen(seg_teacher):
    assert_frozen(seg_teacher, random_frames(2, 3, 64, 64),
                  seg_teacher.segmentor.extract_feat)


def test_seg_teacher_extract_stages(seg_teacher):
    stages = seg_teacher.extract_stages(random_frames(2, 3, 64, 64))
    # Output stride 8: transitions 2 and 3 do not pool.
    assert [tuple(s.shape) for s in stages] == [(2, 512, 8, 8), (2, 1024, 8, 8)]


def test_seg_teacher_loads_checkpoint(seg_teacher, tmp_path):
    path = tmp_path / 'lip.pth'
    torch.save(dict(state_dict=seg_teacher.segmentor.state_dict()), path)
    torch.manual_seed(1)  # different random weights before loading
    loaded = MMSegHumanTeacher(config=SEG_CONFIG, checkpoint=str(path))
    frames = random_frames(1, 3, 32, 32)
    assert torch.allclose(loaded.segment(frames), seg_teacher.segment(frames))
    assert loaded.fingerprint['checkpoint'] == 'lip.pth'


def test_seg_teacher_rejects_wrong_num_classes(seg_teacher, tmp_path):
    # The weights of a 19-class (e.g. Cityscapes-sized) PSPNet: not a LIP parser.
    state = {
        k: v[:19] if '.conv_seg.' in k else v
        for k, v in seg_teacher.segmentor.state_dict().items()
    }
    path = tmp_path / 'pspnet_19cls.pth'
    torch.save(state, path)
    with pytest.raises(RuntimeError) as err:
        MMSegHumanTeacher(config=SEG_CONFIG, checkpoint=str(path))
    assert str(path) in str(err.value)
    assert 'decode_head.conv_seg.weight' in str(err.value)


def test_seg_teacher_missing_files(tmp_path):
    missing = str(tmp_path / 'no_such_lip.pth')
    with pytest.raises(FileNotFoundError, match='no_such_lip.pth'):
        MMSegHumanTeacher(config=SEG_CONFIG, checkpoint=missing)
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        MMSegHumanTeacher(config=str(tmp_path / 'no_such_config.py'))


# ---------------------------------------------------------------- MMPretrain


@pytest.fixture(scope='module')
def cls_teacher() -> MMPretrainSceneTeacher:
    torch.manual_seed(0)
    return build_teacher(
        dict(
            type='MMPretrainSceneTeacher',
            config=CLS_CONFIG,
            input_size=(64, 64),
            out_indices=(2, 3)))


def test_cls_teacher_probabilities(cls_teacher):
    captured = []
    hook = cls_teacher.classifier.backbone.register_forward_hook(
        lambda module, args, out: captured.append(args[0].shape))
    try:
        probs = cls_teacher(random_frames(2, 3, 80, 96))
    finally:
        hook.remove()
    assert captured == [(2, 3, 64, 64)]  # resized to input_size
    assert probs.shape == (2, 365)
    assert probs.dtype == torch.float32
    assert (probs >= 0).all()
    assert torch.allclose(probs.sum(dim=1), torch.ones(2))
    assert cls_teacher.num_classes == 365
    assert cls_teacher.label_space == 'places365'
    # The Caffe model's input: BGR minus the Places365 mean, no std.
    assert cls_teacher.mean.flatten().tolist() == pytest.approx(
        [104.051, 112.514, 116.676])
    assert cls_teacher.std.flatten().tolist() == [1.0, 1.0, 1.0]
    assert not cls_teacher.rgb_input
    assert type(cls_teacher.classifier.backbone).__name__ == 'CaffeResNet'


def test_cls_teacher_extract_stages(cls_teacher):
    stages = cls_teacher.extract_stages(random_frames(2, 3, 64, 64))
    assert [tuple(s.shape) for s in stages] == [(2, 1024, 4, 4), (2, 2048, 2, 2)]


def test_cls_teacher_is_frozen(cls_teacher):
    assert_frozen(cls_teacher, random_frames(2, 3, 64, 64),
                  cls_teacher.classifier.extract_feat)


def test_cls_teacher_rejects_mismatched_checkpoints(tmp_path):
    # A ResNet-18 variant of the shipped config: same loading path, cheap to build.
    resnet18 = {'model.backbone.depth': 18, 'model.head.in_channels': 512}
    teacher = MMPretrainSceneTeacher(config=CLS_CONFIG, cfg_options=resnet18)
    state = teacher.classifier.state_dict()

    def refused(state_dict, name, missing_key):
        torch.save(state_dict, tmp_path / name)
        with pytest.raises(RuntimeError) as err:
            MMPretrainSceneTeacher(
                config=CLS_CONFIG,
                cfg_options=resnet18,
                checkpoint=str(tmp_path / name))
        assert name in str(err.value) and missing_key in str(err.value)

    # A 1000-way (ImageNet) head where the Places365 one is expected.
    refused(
        dict(
            state, **{
                'head.fc.weight': torch.zeros(1000, 512),
                'head.fc.bias': torch.zeros(1000)
            }), 'imagenet_head.pth', 'head.fc.weight')
    # Torchvision-style keys (no ``backbone.`` prefix): missing and unexpected.
    refused({
        k.replace('backbone.', ''): v
        for k, v in state.items()
    }, 'torchvision_keys.pth', 'backbone.conv1.weight')
    # The matching file loads.
    torch.save(state, tmp_path / 'places365.pth')
    MMPretrainSceneTeacher(
        config=CLS_CONFIG,
        cfg_options=resnet18,
        checkpoint=str(tmp_path / 'places365.pth'))


def test_cls_teacher_missing_checkpoint(tmp_path):
    missing = str(tmp_path / 'no_such_places365.pth')
    with pytest.raises(FileNotFoundError, match='no_such_places365.pth'):
        MMPretrainSceneTeacher(config=CLS_CONFIG, checkpoint=missing)


# ---------------------------------------------- demo teachers, real weights


@pytest.fixture(scope='module')
def mediapipe_teacher() -> MediaPipeHumanTeacher:
    return build_teacher(dict(type='MediaPipeHumanTeacher'))


@pytest.mark.parametrize('clip', ['arm_wrestling.mp4', 'flipping_pancake.mkv'])
def test_mediapipe_finds_people(mediapipe_teacher, real_clips, clip):
    frames = read_frames(real_clips, clip)
    mask = mediapipe_teacher(frames)
    assert mask.shape == (frames.shape[0], *frames.shape[-2:])
    assert mask.dtype == torch.long
    assert set(mask.unique().tolist()) <= {0, 1}
    human = mask.float().mean(dim=(1, 2))
    assert ((human > 0.02) & (human < 0.95)).all(), human


def test_mediapipe_threshold_and_copies(mediapipe_teacher, real_clips):
    frames = read_frames(real_clips, 'arm_wrestling.mp4', num=1)
    probs = mediapipe_teacher.person_probability(frames)
    assert probs.min() >= 0 and probs.max() <= 1
    loose = MediaPipeHumanTeacher(threshold=0.1)(frames).sum()
    strict = MediaPipeHumanTeacher(threshold=0.9)(frames).sum()
    assert loose > mediapipe_teacher(frames).sum() > strict
    # Nobody in a blank frame.
    assert mediapipe_teacher(torch.full((1, 3, 240, 320), 128.)).sum() == 0
    # The native graph is not copied: a deep copy (e.g. by an EMA hook) rebuilds it.
    assert torch.equal(
        copy.deepcopy(mediapipe_teacher)(frames), mediapipe_teacher(frames))


@pytest.fixture(scope='module')
def efficientnet_teacher() -> EfficientNetLiteSceneTeacher:
    return build_teacher(dict(type='EfficientNetLiteSceneTeacher'))


def test_efficientnet_probabilities(efficientnet_teacher, real_clips):
    frames = read_frames(real_clips, 'v_SoccerJuggling_g23_c01.avi')
    probs = efficientnet_teacher(frames)
    assert probs.shape == (2, 1000)
    assert torch.allclose(probs.sum(dim=1), torch.ones(2))
    assert efficientnet_teacher.label_space == 'imagenet1k'
    # The packaged weights are real: ImageNet's 'soccer ball' (805) is among the
    # top-5 classes of someone juggling one.
    assert (probs.topk(5, dim=1).indices == 805).any(dim=1).all()
    assert_frozen(efficientnet_teacher, frames, efficientnet_teacher.net)


def test_efficientnet_rejects_bad_weights(efficientnet_teacher, tmp_path):
    state = efficientnet_teacher.net.state_dict()
    del state['_fc.weight']
    torch.save(state, tmp_path / 'no_fc.pth')
    with pytest.raises(RuntimeError, match=r'no_fc\.pth(.|\n)*_fc\.weight'):
        EfficientNetLiteSceneTeacher(weights=str(tmp_path / 'no_fc.pth'))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        EfficientNetLiteSceneTeacher(weights=str(tmp_path / 'absent.pth'))
