"""kinet_mm.apis on a real clip: shapes, frame alignment, Grad-CAM, errors.

The checkpoint is the real-clip KINet-R18 config with random weights (the
tests check the plumbing, not what a trained model predicts).
"""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from decord import VideoReader
from fixtures import REPO_ROOT
from fixtures.checkpoints import save_random_checkpoint
from mmaction.apis import inference_recognizer
from mmengine.dataset import Compose

from kinet_mm.apis import (CheckpointMismatchError, LabelMapError, action_class_names,
                           class_activation_maps, default_target_layer, inference_kinet,
                           init_kinet, prepare_video, read_label_map)
from kinet_mm.apis.gradcam import resolve_layer
from kinet_mm.compat import VideoReadError
from kinet_mm.deploy import deploy_config, deploy_state_dict
from kinet_mm.visualization.panels import panel_rows

CONFIG = str(REPO_ROOT / 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py')
TSN_CONFIG = str(REPO_ROOT / 'configs/tsn/tsn_r50_1x1x3_realclips-cpu.py')
CLIP = 'arm_wrestling.mp4'
NUM_SEGS = 8  # the config's test pipeline
CROP = 112
TSN_R18 = {'model.backbone.depth': 18, 'model.cls_head.in_channels': 512}


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    path = save_random_checkpoint(CONFIG,
                                  tmp_path_factory.mktemp('kinet') / 'kinet_random.pth')
    yield path
    path.unlink()  # 130 MB; pytest keeps the last three tmp dirs


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, without the checkpoints the tests leave in it."""
    yield tmp_path
    for path in tmp_path.glob('*.pth'):
        path.unlink()


@pytest.fixture(scope='module')
def model(checkpoint):
    torch.set_num_threads(1)
    return init_kinet(CONFIG, str(checkpoint), device='cpu')


@pytest.fixture(scope='module')
def clip(real_clips) -> str:
    return str(real_clips / 'videos' / CLIP)


def test_api_shapes_and_mmaction_scores(model, clip):
    result = inference_kinet(model, clip)
    assert result.pred_score.shape == (10, )
    # The action scores are exactly MMAction2's inference_recognizer's.
    expected = inference_recognizer(model, clip).pred_score
    torch.testing.assert_close(result.pred_score, expected)

    assert result.frames.shape == (NUM_SEGS, CROP, CROP, 3)
    assert result.frames.dtype == torch.uint8
    # The frames are the model's input, pixel for pixel.
    packed = prepare_video(model, clip)['inputs'][0]
    assert torch.equal(result.frames, packed.permute(0, 2, 3, 1))

    inds = result.metainfo['frame_inds']
    assert inds.shape == (NUM_SEGS, )
    assert (inds.diff() > 0).all() and inds.max() < len(VideoReader(clip))

    assert result.pred_human.shape == (NUM_SEGS, CROP, CROP)
    assert 0 <= result.pred_human.min() and result.pred_human.max() <= 1
    assert result.pred_scene.shape == (NUM_SEGS, 1000)
    torch.testing.assert_close(result.pred_scene.sum(1), torch.ones(NUM_SEGS))


def test_auxiliary_outputs_belong_to_their_frame(model, clip):
    """Each frame's mask and scenes, recomputed from that frame alone.

    Chunks of 3 frames (not dividing 8) exercise the chunked pass.
    """
    result = inference_kinet(model, clip, chunk_size=3)
    preprocessor = model.cfg.model.data_preprocessor
    mean = torch.tensor(preprocessor.mean).view(3, 1, 1)
    std = torch.tensor(preprocessor.std).view(3, 1, 1)
    for t in range(NUM_SEGS):
        frame = result.frames[t].permute(2, 0, 1).float()
        single = ((frame - mean) / std)[None, None]  # (1, 1, 3, H, W)
        alone = model.predict_auxiliary(single)
        torch.testing.assert_close(
            result.pred_human[t], alone['human'][0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(
            result.pred_scene[t], alone['scene'][0], atol=1e-6, rtol=1e-4)


def mirror_symmetric(model):
    """A copy whose every conv kernel equals its left-right mirror image.

    With odd widths at every stride-2 layer (65 -> 33 -> 17 -> 9 -> 5 -> 3)
    such a network commutes with a horizontal flip, so its human mask of a
    flipped frame must be the flipped mask.
    """
    mirrored = copy.deepcopy(model)
    with torch.no_grad():
        for module in mirrored.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.copy_((module.weight + module.weight.flip(-1)) / 2)
    return mirrored


def test_mask_flips_with_the_frames(model, clip):
    symmetric = mirror_symmetric(model)
    pipeline = copy.deepcopy(model.cfg.test_pipeline)
    crop = next(i for i, t in enumerate(pipeline) if t.type == 'CenterCrop')
    pipeline[crop].crop_size = 65
    flipped = pipeline[:crop + 1] + [dict(type='Flip', flip_ratio=1.0)
                                     ] + pipeline[crop + 1:]
    plain = inference_kinet(symmetric, clip, Compose(pipeline))
    mirror = inference_kinet(symmetric, clip, Compose(flipped))

    assert torch.equal(mirror.frames, plain.frames.flip(2))
    human = plain.pred_human
    # Not trivially symmetric: the mask follows the (asymmetric) content.
    assert (human - human.flip(-1)).abs().max() > 1e-3
    torch.testing.assert_close(mirror.pred_human, human.flip(-1), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        mirror.pred_scene, plain.pred_scene, atol=1e-6, rtol=1e-4)


def reference_gradcam(model, data, target_class: int, layer: str):
    """Grad-CAM written out with autograd.grad and a loop over frames."""
    model = copy.deepcopy(model)
    model.cls_head.average_clips = 'score'  # before softmax, as GradCAM
    captured = {}
    resolve_layer(model, layer).register_forward_hook(
        lambda module, args, out: captured.__setitem__('map', out))
    with torch.enable_grad():
        score = model.test_step(copy.deepcopy(data))[0].pred_score[target_class]
        grads = torch.autograd.grad(score, captured['map'])[0]
    maps = []
    for activation, grad in zip(captured['map'].detach(), grads):
        weights = grad.mean(dim=(1, 2))
        maps.append(F.relu((weights[:, None, None] * activation).sum(0)))
    maps = F.interpolate(
        torch.stack(maps)[:, None],
        size=(CROP, CROP),
        mode='bilinear',
        align_corners=False)[:, 0]
    return (maps - maps.min()) / (maps.max() - maps.min())


def test_gradcam_of_the_action_map(model, clip):
    layer = default_target_layer(model)
    assert layer == 'backbone/cbis/res5_1'  # the map AKG reads for 'action'
    data = prepare_video(model, clip)
    top1 = inference_kinet(model, data, gradcam=True)
    first, second = top1.pred_score.topk(2).indices.tolist()
    assert top1.gradcam_class == first
    assert top1.gradcam.shape == (NUM_SEGS, CROP, CROP)
    assert top1.gradcam.max() == 1  # normalised over the video's frames
    torch.testing.assert_close(
        top1.gradcam,
        reference_gradcam(model, data, first, layer),
        atol=1e-4,
        rtol=1e-3)
    other, _ = class_activation_maps(model, data, target_class=second)
    assert (other[0] - top1.gradcam).abs().max() > 1e-2  # class-specific
    with pytest.raises(KeyError, match="backbone has no child 'layer9'"):
        class_activation_maps(model, data, target_layer_name='backbone/layer9')
    # The model itself is left as it was: no hooks, probabilities.
    assert not resolve_layer(model, layer)._forward_hooks
    assert model.cls_head.average_clips == 'prob'

    # Figure 5's TSN: its last residual block, on KINet's frames.
    tsn = init_kinet(TSN_CONFIG, cfg_options=TSN_R18)
    assert default_target_layer(tsn) == 'backbone/layer4/1'
    maps, scores = class_activation_maps(tsn, data, target_class=first)
    assert maps.shape == (1, NUM_SEGS, CROP, CROP) and scores.shape == (1, 10)


def test_missing_and_unreadable_videos(model, tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_clip.mp4'):
        inference_kinet(model, str(tmp_path / 'no_such_clip.mp4'))
    broken = tmp_path / 'broken_clip.mp4'
    broken.write_bytes(b'\x00\x00\x00\x18ftypmp42' + bytes(range(256)) * 8)
    with pytest.raises(VideoReadError, match='broken_clip.mp4'):
        inference_kinet(model, str(broken))


def test_checkpoint_that_does_not_match_the_config(checkpoint, tmp_path):
    tsn = save_random_checkpoint(TSN_CONFIG, tmp_path / 'tsn.pth', **TSN_R18)
    with pytest.raises(CheckpointMismatchError) as err:
        init_kinet(CONFIG, str(tsn))
    message = str(err.value)
    assert 'tsn.pth' in message and 'kinet_r18_1x1x3_realclips-cpu.py' in message
    assert 'backbone.net.conv1.conv.weight' in message  # missing
    assert 'backbone.conv1.conv.weight' in message  # unexpected

    with pytest.raises(
            CheckpointMismatchError,
            match=r'cls_head\.fc_cls\.weight: checkpoint \(10, 512\) '
            r'vs model \(7, 512\)'):
        init_kinet(
            CONFIG, str(checkpoint), cfg_options={'model.cls_head.num_classes': 7})


def test_label_maps(model, tmp_path):
    good = tmp_path / 'labels10.txt'
    good.write_text('\n'.join(f'class {i}' for i in range(10)) + '\n\n')
    assert read_label_map(str(good), 10)[9] == 'class 9'
    short = tmp_path / 'labels9.txt'
    short.write_text('\n'.join(f'class {i}' for i in range(9)))
    with pytest.raises(
            LabelMapError,
            match=r'labels9\.txt has 9 names .* 10 '
            r'action classes \(model\.cls_head\.num_classes\)'):
        action_class_names(model.cfg, 10, str(short))
    scene = model.knowledge['scene']
    with pytest.raises(
            LabelMapError,
            match=r'scene label map .* 1000 scene '
            r'classes \(model\.knowledge\.scene\.head\.num_classes\)'):
        scene.class_names(str(good))
    # Defaults: the config's dataset classes; the scene teacher's ImageNet names.
    assert action_class_names(model.cfg, 10)[5] == 'arm wrestling'
    assert scene.class_names()[1] == 'goldfish'


def test_exported_model_has_no_auxiliary_fields(model, checkpoint, clip, tmp_path):
    """A tools/export_deploy.py model: same action scores, no human/scene."""
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    kept, _ = deploy_state_dict(state['state_dict'])
    torch.save(dict(state_dict=kept), tmp_path / 'deploy.pth')
    deployed = init_kinet(deploy_config(model.cfg), str(tmp_path / 'deploy.pth'))
    result = inference_kinet(deployed, clip)
    assert 'pred_human' not in result and 'pred_scene' not in result
    torch.testing.assert_close(result.pred_score,
                               inference_kinet(model, clip).pred_score)
    assert panel_rows(result) == ['frame']
