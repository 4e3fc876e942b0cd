"""Pose knowledge: keypoint geometry and heatmaps (kinet_mm/models/knowledge/
keypoints.py), MediaPipe Pose on real frames, and ``PoseKnowledge`` with an
MMSeg decoder.

The geometry is checked against MMAction2's own crop and flip transforms run
on images whose pixels hold their original coordinates; the teacher runs its
real bundled weights on a real clip.
"""
import copy
import pickle
import random

import decord
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures import VIDEOS
from mmaction.registry import MODELS, TRANSFORMS
from mmcv.transforms import Compose

from kinet_mm.models.knowledge.keypoints import (decode_heatmaps, flip_permutation,
                                                 keypoint_mse_loss,
                                                 keypoint_softmax_loss, pck_counts,
                                                 render_heatmaps, warp_keypoints)
from kinet_mm.models.knowledge.pose import BODY13_FLIP_PAIRS, PoseKnowledge
from kinet_mm.models.teachers import MediaPipePoseTeacher
from kinet_mm.models.teachers.mediapipe_pose_teacher import MEDIAPIPE_POSE_LANDMARKS

K = 13
PERM = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11]  # BODY13 pairs, by hand
# HMDB51 clip, 320x240: one man, whole body in view, waving (the teacher finds
# all 13 body keypoints with visibility > 0.8 on its middle frame).
PERSON_CLIP = 'SchoolRulesHowTheyHelpUs_wave_f_nm_np1_ba_med_0.avi'


def random_keypoints(num: int,
                     seed: int = 0,
                     low: float = 0.,
                     high: float = 1.) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kpts = rng.uniform(low, high, (num, K, 3)).astype(np.float32)
    kpts[..., 2] = rng.uniform(0.6, 1.0, (num, K))
    return kpts


# ---------------------------------------------------------------- heatmaps


def test_render_matches_formula_and_decode_inverts_it():
    # A keypoint on the centre of cell (row 2, col 5) of a 7x11 map.
    kpts = torch.tensor([[[5.5 / 11, 2.5 / 7, 0.9], [0.3, 0.6, 0.2]]])
    heatmaps, weights = render_heatmaps(kpts, (7, 11), sigma=1.5, conf_thr=0.5)
    assert heatmaps.shape == (1, 2, 7, 11) and weights.tolist() == [[1., 0.]]
    rows, cols = np.mgrid[0:7, 0:11]
    expected = np.exp(-((cols - 5)**2 + (rows - 2)**2) / (2 * 1.5**2))
    assert np.allclose(heatmaps[0, 0].numpy(), expected, atol=1e-6)
    assert heatmaps[0, 0, 2, 5] == 1
    assert (heatmaps[0, 1] == 0).all()  # below conf_thr: nothing drawn

    # decode(render(k)) is k within half a cell, at any size, with or
    # without the refinement; the refinement brings it closer on average.
    kpts = torch.from_numpy(random_keypoints(64, seed=1))
    for size in [(7, 11), (28, 28), (9, 40)]:
        heatmaps, _ = render_heatmaps(kpts, size, sigma=1.0)
        bound = torch.tensor([1 / (2 * size[1]), 1 / (2 * size[0])]) + 1e-6
        errors = {}
        for refine in (False, True):
            xy = decode_heatmaps(heatmaps, refine=refine)
            assert xy.shape == (64, K, 2)
            error = (xy - kpts[..., :2]).abs()
            assert (error <= bound).all(), (size, refine, error.max())
            errors[refine] = error.mean()
        assert errors[True] < 0.8 * errors[False], errors


def test_decode_refines_towards_higher_neighbour_only_inside():
    heatmaps = torch.zeros(1, 3, 5, 6)
    heatmaps[0, 0, 2, 3] = 1.0
    heatmaps[0, 0, 2, 4] = 0.5  # right neighbour higher: +1/4 cell in x
    heatmaps[0, 0, 1, 3] = 0.2  # upper neighbour higher: -1/4 cell in y
    heatmaps[0, 1, 4, 0] = 1.0  # corner maximum: stays on the corner cell
    heatmaps[0, 1, 3, 0] = 0.5
    heatmaps[0, 1, 4, 1] = 0.5
    heatmaps[0, 2, 1, 1] = 1.0  # equal neighbours: no move
    xy = decode_heatmaps(heatmaps)
    assert torch.allclose(
        xy[0],
        torch.tensor([[3.75 / 6, 2.25 / 5], [0.5 / 6, 4.5 / 5], [1.5 / 6, 1.5 / 5]]))


def test_mse_loss_over_visible_keypoints_only():
    target = torch.rand(2, K, 4, 5, generator=torch.Generator().manual_seed(0))
    weights = torch.zeros(2, K)
    weights[0, 3] = weights[1, 7] = 1
    pred = target.clone().requires_grad_(True)
    assert keypoint_mse_loss(pred, target, weights) == 0
    wrong = target.clone()
    wrong[0, 0] += 5  # an invisible keypoint: not counted
    wrong[0, 3] += 0.5  # a visible one: its 20 cells off by 0.5
    loss = keypoint_mse_loss(wrong, target, weights)
    assert torch.isclose(loss, torch.tensor(0.25 / 2))  # mean over 2 heatmaps
    # Gradient flows to the visible heatmaps only.
    loss = keypoint_mse_loss(pred + 1, target, weights)
    loss.backward()
    assert (pred.grad[0, 3] != 0).all() and (pred.grad[1, 7] != 0).all()
    assert pred.grad.abs().sum() == pred.grad[0, 3].abs().sum() + \
        pred.grad[1, 7].abs().sum()
    # Nothing visible: 0, still differentiable.
    pred.grad = None
    loss = keypoint_mse_loss(pred + 1, target, torch.zeros(2, K))
    loss.backward()
    assert loss == 0 and (pred.grad == 0).all()
    with pytest.raises(ValueError, match=r'\(B, K\)'):
        keypoint_mse_loss(pred, target, weights[:, :3])


def test_softmax_loss_is_cross_entropy_over_cells():
    """Against torch's cross entropy with probability targets, per keypoint."""
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(2, K, 4, 5, generator=gen, requires_grad=True)
    target = torch.rand(2, K, 4, 5, generator=gen)
    weights = torch.zeros(2, K)
    weights[0, 3] = weights[1, 7] = 1
    expected = torch.stack([
        F.cross_entropy(pred[b, k].reshape(1, -1),
                        (target[b, k] / target[b, k].sum()).reshape(1, -1))
        for b, k in [(0, 3), (1, 7)]
    ]).mean()
    loss = keypoint_softmax_loss(pred, target, weights)
    assert torch.isclose(loss, expected)
    loss.backward()
    assert pred.grad.abs().sum() == pred.grad[0, 3].abs().sum() + \
        pred.grad[1, 7].abs().sum()  # invisible keypoints: no gradient
    assert keypoint_softmax_loss(pred, target, torch.zeros(2, K)) == 0


def test_pck_hand_computed():
    # Sample 0: visible box 0.2 (x) by 0.5 (y) -> threshold 0.2 * 0.5 = 0.1.
    target = torch.tensor([
        [[0.4, 0.2, 0.9], [0.6, 0.7, 0.9], [0.5, 0.5, 0.9], [0.9, 0.9, 0.1]],
        # Sample 1: one visible keypoint, no scale: skipped.
        [[0.5, 0.5, 0.9], [0.1, 0.1, 0.2], [0., 0., 0.], [0., 0., 0.]]
    ])
    pred = torch.tensor([[[0.4, 0.29], [0.6, 0.8], [0.45, 0.45], [0., 0.]],
                         [[0.5, 0.5], [0.1, 0.1], [0., 0.], [0., 0.]]])
    # Distances: 0.09 (< 0.1), 0.1 (not <), 0.0707 (<); the invisible one
    # is not judged however far off.
    correct, total = pck_counts(pred, target, conf_thr=0.5, alpha=0.2)
    assert (correct.item(), total.item()) == (2, 3)
    # In pixels of a 100x400 (h, w) frame the box is 80 x 50 px, threshold
    # 16 px: distances 9, 10 and sqrt(20^2 + 5^2) = 20.6 px.
    correct, total = pck_counts(pred, target, alpha=0.2, image_size=(100, 400))
    assert (correct.item(), total.item()) == (2, 3)
    pred[0, 1] = torch.tensor([0.6, 0.75])  # 5 px off in y: correct now
    pred[0, 2] = torch.tensor([0.49, 0.49])  # sqrt(4^2 + 1) px: correct
    correct, total = pck_counts(pred, target, alpha=0.2, image_size=(100, 400))
    assert (correct.item(), total.item()) == (3, 3)
    correct, total = pck_counts(pred, target, alpha=0.05, image_size=(100, 400))  # 4 px
    assert (correct.item(), total.item()) == (0, 3)
    # Exactly at the threshold (0.5 * box 0.5, binary exact) is not correct.
    target = torch.tensor([[[0., 0., 1.], [0.5, 0.5, 1.]]])
    pred = torch.tensor([[[0.25, 0.], [0.5, 0.5]]])
    correct, total = pck_counts(pred, target, alpha=0.5)
    assert (correct.item(), total.item()) == (1, 2)


# ---------------------------------------------------------------- geometry


def test_flip_permutation_swaps_pairs():
    assert flip_permutation(K, BODY13_FLIP_PAIRS) == PERM
    assert flip_permutation(3, ()) == [0, 1, 2]
    with pytest.raises(ValueError, match='out of range'):
        flip_permutation(5, [(1, 5)])
    with pytest.raises(ValueError, match='several'):
        flip_permutation(5, [(1, 2), (2, 3)])
    with pytest.raises(ValueError, match='itself'):
        flip_permutation(5, [(4, 4)])


def coordinate_image(height: int, width: int) -> np.ndarray:
    """``(H, W, 3)`` float32 image whose pixels hold their own centre
    ``(x, y)`` in pixels: after MMAction2's resizes (linear), crops and flips
    each output pixel still says which original position it shows."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    return np.stack([xs, ys, np.zeros_like(xs)], axis=-1)


@pytest.mark.parametrize('crop', [
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=True,
        max_wh_scale_gap=1),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0)),
    dict(type='CenterCrop', crop_size=200),
])
@pytest.mark.parametrize('direction', ['horizontal', 'vertical'])
def test_warp_follows_mmaction_crop_and_flip(crop, direction):
    """Warped keypoints land on the augmented pixels that show the original
    positions, with left and right swapped on flips; the ones cropped away,
    and only those, get confidence 0."""
    height, width = 240, 432  # HMDB51's frame size: not square
    kpts = random_keypoints(1, seed=7)
    flips = set()
    for seed in range(4):
        pipeline = Compose([
            TRANSFORMS.build(cfg) for cfg in [
                dict(type='Resize', scale=(-1, 256)), crop,
                dict(type='Resize', scale=(112, 112), keep_ratio=False),
                dict(type='Flip', flip_ratio=0.5, direction=direction)
            ]
        ])
        random.seed(seed)
        np.random.seed(seed)
        results = pipeline(
            dict(
                imgs=[coordinate_image(height, width)],
                img_shape=(height, width),
                modality='RGB'))
        flips.add(results['flip'])
        warped = warp_keypoints(
            kpts,
            results['crop_quadruple'],
            flip=results['flip'],
            flip_direction=results['flip_direction'],
            flip_pairs=BODY13_FLIP_PAIRS)
        assert warped.shape == kpts.shape and warped.dtype == np.float32
        source = kpts[0, PERM] if results['flip'] else kpts[0]
        image = results['imgs'][0]
        out_h, out_w = image.shape[:2]
        visible = warped[0, :, 2] > 0
        # Where each visible keypoint lands shows its source's position
        # (within an original pixel, the resizes' interpolation).
        cols = np.floor(warped[0, visible, 0] * out_w).astype(int)
        rows = np.floor(warped[0, visible, 1] * out_h).astype(int)
        shown = image[np.clip(rows, 0, out_h - 1), np.clip(cols, 0, out_w - 1)]
        pixel_error = np.abs(shown[:, :2] - source[visible, :2] * [width, height])
        assert (pixel_error < 2.0).all(), (seed, pixel_error.max())
        assert np.allclose(warped[0, visible, 2], source[visible, 2])
        # Visible exactly where the source lies in the region the augmented
        # frame shows (away from its border by more than an original pixel).
        step = np.abs(np.diff(image[:2, :2, :2], axis=(0))).max() + \
            np.abs(np.diff(image[:2, :2, :2], axis=1)).max()
        low = image[..., :2].reshape(-1, 2).min(0) - step / 2
        high = image[..., :2].reshape(-1, 2).max(0) + step / 2
        position = source[:, :2] * [width, height]
        inside = ((position > low) & (position < high)).all(1)
        clear = (np.minimum(np.abs(position - low), np.abs(position - high)) > 1).all(1)
        assert (visible[clear] == inside[clear]).all(), seed
    if crop['type'] != 'CenterCrop':
        assert not visible.all()  # some keypoints were cropped away
    assert flips == {True, False}


def test_warp_composes_and_diagonal_is_a_rotation():
    kpts = random_keypoints(2, seed=3)
    quadruple = (0.1, 0.2, 0.5, 0.6)
    horizontal = warp_keypoints(kpts, quadruple, True, 'horizontal', BODY13_FLIP_PAIRS)
    # Cropping then mirroring twice is the crop alone.
    twice = warp_keypoints(horizontal, (0, 0, 1, 1), True, 'horizontal',
                           BODY13_FLIP_PAIRS)
    assert np.allclose(twice, warp_keypoints(kpts, quadruple))
    # A diagonal flip is both mirrors: the two swaps cancel.
    both = warp_keypoints(horizontal, (0, 0, 1, 1), True, 'vertical', BODY13_FLIP_PAIRS)
    diagonal = warp_keypoints(kpts, quadruple, True, 'diagonal', BODY13_FLIP_PAIRS)
    assert np.allclose(both, diagonal)
    assert np.allclose(diagonal[..., :2], 1 - warp_keypoints(kpts, quadruple)[..., :2])
    with pytest.raises(ValueError, match='flip_direction'):
        warp_keypoints(kpts, quadruple, True, 'sideways', BODY13_FLIP_PAIRS)
    with pytest.raises(ValueError, match=r'\(T, K, 3\)'):
        warp_keypoints(kpts[0], quadruple)


# ---------------------------------------------------------------- teacher


@pytest.fixture(scope='module')
def teacher() -> MediaPipePoseTeacher:
    return MODELS.build(dict(type='MediaPipePoseTeacher'))


@pytest.fixture(scope='module')
def person_frame(real_clips) -> torch.Tensor:
    """The middle frame of :data:`PERSON_CLIP`, ``(1, 3, 240, 320)`` RGB."""
    reader = decord.VideoReader(str(VIDEOS / PERSON_CLIP), num_threads=1)
    frame = torch.from_numpy(reader[len(reader) // 2].asnumpy())
    return frame.permute(2, 0, 1)[None].float()


def test_teacher_finds_the_body(teacher, person_frame):
    kpts = teacher(person_frame)
    assert kpts.shape == (1, K, 3) and kpts.dtype == torch.float32
    assert teacher.num_keypoints == K and len(teacher.keypoint_names) == K
    assert teacher.flip_pairs == BODY13_FLIP_PAIRS
    assert teacher.label_space == 'mediapipe-pose->body13'
    visible = kpts[0, :, 2] >= 0.5
    assert visible.sum() >= 11, kpts
    assert ((kpts[0, visible, :2] > 0) & (kpts[0, visible, :2] < 1)).all()
    # An upright man: nose above shoulders above hips above knees above
    # ankles, every level left and right of the body's axis.
    level = [kpts[0, 0, 1]] + [kpts[0, [i, i + 1], 1].mean() for i in (1, 7, 9, 11)]
    assert all(a < b for a, b in zip(level, level[1:])), level
    # The shoulders' width about centred on the nose.
    assert abs(kpts[0, 1:3, 0].mean() - kpts[0, 0, 0]) < 0.05


@pytest.mark.parametrize('direction', ['horizontal', 'vertical'])
def test_teacher_on_flipped_frame_swaps_left_right(teacher, person_frame, direction):
    """The teacher on a mirrored frame finds the mirrored keypoints with left
    and right swapped, as :func:`warp_keypoints` says; also upside down."""
    kpts = teacher(person_frame)
    flipped = teacher(person_frame.flip(3 if direction == 'horizontal' else 2))
    expected = torch.from_numpy(
        warp_keypoints(
            kpts.numpy(),
            flip=True,
            flip_direction=direction,
            flip_pairs=BODY13_FLIP_PAIRS))
    both = (expected[0, :, 2] >= 0.5) & (flipped[0, :, 2] >= 0.5)
    assert both.sum() >= 9
    error = (flipped[0, both, :2] - expected[0, both, :2]).norm(dim=1)
    assert (error < 0.05).all(), error
    # The swap matters: unswapped, the limbs are off.
    axis = 0 if direction == 'horizontal' else 1
    unswapped = kpts[0, :, :2].clone()
    unswapped[:, axis] = 1 - unswapped[:, axis]
    assert ((flipped[0, both, :2] - unswapped[both]).norm(dim=1) > 0.05).any()


def test_teacher_without_person_copies_and_errors(teacher, person_frame):
    grey = torch.full((2, 3, 240, 320), 128.)
    kpts = teacher(torch.cat([grey[:1], person_frame]))
    assert (kpts[0] == 0).all()  # nobody: confidence (and all) 0
    assert (kpts[1, :, 2] >= 0.5).sum() >= 11  # per frame, not per batch
    # The native graph is not pickled or copied: copies rebuild it.
    assert copy.deepcopy(teacher)._pose is None
    assert torch.equal(
        pickle.loads(pickle.dumps(teacher))(person_frame), teacher(person_frame))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        teacher(person_frame[0])
    with pytest.raises(FileNotFoundError, match='pose_landmark_heavy.tflite'):
        MediaPipePoseTeacher(model_complexity=2)
    with pytest.raises(ValueError, match='unknown.*left_hand'):
        MediaPipePoseTeacher(keypoints=['nose', 'left_hand'])


def test_teacher_zeroes_keypoints_outside_the_frame(teacher, real_clips):
    """A close-up (UCF101 ApplyEyeMakeup): MediaPipe places a shoulder past
    the frame's side with high visibility; the teacher gives it confidence 0,
    as a keypoint cropped away."""
    reader = decord.VideoReader(str(VIDEOS / 'v_ApplyEyeMakeup.avi'), num_threads=1)
    image = reader[len(reader) // 2].asnumpy()
    landmarks = teacher._get_pose().process(image).pose_landmarks.landmark
    raw = torch.tensor([[
        landmarks[MEDIAPIPE_POSE_LANDMARKS.index(name)].x,
        landmarks[MEDIAPIPE_POSE_LANDMARKS.index(name)].y,
        landmarks[MEDIAPIPE_POSE_LANDMARKS.index(name)].visibility
    ] for name in teacher.keypoint_names])
    outside = ((raw[:, :2] < 0) | (raw[:, :2] > 1)).any(1)
    assert (outside & (raw[:, 2] >= 0.5)).any(), raw  # the case at stake
    kpts = teacher(torch.from_numpy(image).permute(2, 0, 1)[None].float())[0]
    assert torch.equal(kpts[:, :2], raw[:, :2])
    assert torch.equal(kpts[:, 2], torch.where(outside, 0., raw[:, 2]))


def test_teacher_landmark_names_and_subsets(person_frame, teacher):
    from mediapipe.python.solutions.pose import PoseLandmark
    assert MEDIAPIPE_POSE_LANDMARKS == tuple(landmark.name.lower()
                                             for landmark in PoseLandmark)
    names = ['right_wrist', 'mouth_left', 'nose', 'left_wrist', 'mouth_right']
    subset = MediaPipePoseTeacher(keypoints=names)
    assert subset.flip_pairs == ((1, 4), (3, 0))
    assert subset.label_space != teacher.label_space
    assert torch.equal(
        subset(person_frame)[0, [0, 2, 3]],
        teacher(person_frame)[0, [6, 0, 5]])


# ---------------------------------------------------------------- task


def pose_task(in_channels: int, **kwargs) -> dict:
    return dict(
        type='PoseKnowledge',
        name='pose',
        head=dict(
            type='FCNHead',
            _scope_='mmseg',
            in_channels=in_channels,
            channels=32,
            num_convs=1,
            num_classes=K,
            concat_input=False,
            norm_cfg=None),
        loss=dict(type='KeypointHeatmapLoss'),
        **kwargs)


@pytest.mark.parametrize('mode', ['mse', 'softmax'])
def test_pose_task_targets_loss_agreement_predict(mode):
    torch.manual_seed(0)
    cfg = pose_task(16)
    cfg['loss'] = dict(cfg['loss'], mode=mode)
    task = MODELS.build(cfg)
    assert isinstance(task, PoseKnowledge) and task.keys == ('pseudo_pose_keypoints', )
    keypoints = torch.from_numpy(random_keypoints(2, seed=5, low=0.1, high=0.9))
    keypoints[1, :4, 2] = 0.1  # four invisible keypoints
    input_size = (64, 96)
    targets = task.targets({'pseudo_pose_keypoints': keypoints}, input_size)
    assert targets['heatmaps'].shape == (2, K, 8, 12)
    assert targets['weights'].sum() == 2 * K - 4
    branch_map = torch.randn(2, 16, 4, 6)
    optimizer = torch.optim.Adam(task.head.parameters(), lr=0.01)
    losses = []
    for _ in range(20):
        loss = task.loss(branch_map, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # Softmax: cross entropy never goes below the targets' own entropy.
    dist = targets['heatmaps'].flatten(2)
    dist = dist / dist.sum(2, keepdim=True).clamp(min=1e-12)
    entropy = -(dist * dist.clamp(min=1e-12).log()).sum(2)
    floor = 0 if mode == 'mse' else float(
        (entropy * targets['weights']).sum() / targets['weights'].sum())
    assert loss.dim() == 0
    assert losses[-1] - floor < 0.5 * (losses[0] - floor), (losses, floor)
    agreement = task.agreement(branch_map, targets)
    assert set(agreement) == {'pck'} and agreement['pck'].shape == (2, )
    assert agreement['pck'][1] == 2 * K - 4  # visible keypoints judged
    prediction = task.predict(branch_map, input_size)
    assert prediction.shape == (2, K, 3)
    assert ((prediction >= 0) & (prediction <= 1)).all()
    # Cache side: float16 and back, then the pipeline's warp.
    arrays = task.encode({'pseudo_pose_keypoints': keypoints}, (240, 320))
    assert arrays['pseudo_pose_keypoints'].dtype == np.float16
    decoded = task.decode(arrays, 2, (240, 320))['pseudo_pose_keypoints']
    assert np.allclose(decoded, keypoints.numpy(), atol=1e-3)
    results = dict(
        crop_quadruple=np.array([0.1, 0, 0.5, 1], np.float32),
        flip=True,
        flip_direction='horizontal')
    warped = task.warp({'pseudo_pose_keypoints': decoded}, results, 8)
    assert np.array_equal(
        warped['pseudo_pose_keypoints'],
        warp_keypoints(decoded, results['crop_quadruple'], True, 'horizontal',
                       BODY13_FLIP_PAIRS))


def test_pose_task_with_teacher(person_frame):
    task = MODELS.build(
        pose_task(16, teacher=dict(type='MediaPipePoseTeacher'), build_teacher=True))
    fields = task.teacher_fields(person_frame)
    assert fields['pseudo_pose_keypoints'].shape == (1, K, 3)
    with pytest.raises(ValueError, match='flip_pairs'):
        MODELS.build(
            pose_task(
                16,
                teacher=dict(type='MediaPipePoseTeacher'),
                build_teacher=True,
                flip_pairs=((1, 2), )))
    with pytest.raises(ValueError, match='num_keypoints'):
        MODELS.build(
            pose_task(
                16,
                teacher=dict(
                    type='MediaPipePoseTeacher', keypoints=['nose', 'left_wrist']),
                build_teacher=True,
                flip_pairs=())).teacher_fields(person_frame)
