"""Pseudo labels: the cache, LoadPseudoLabels/PackKINetInputs, the extractor.

Real clips come from ``../shared/data/real_clips`` (``$KINET_SHARED`` overrides
``../shared``; tests that need them fail through conftest's ``real_clips`` if
they are missing); the teachers are the deterministic stand-ins of
``tests/fixtures/teachers.py``.
"""
import json
import os
import os.path as osp
import random
import re
import sys

import numpy as np
import pytest
import torch
from fixtures import VIDEOS, run_command
from fixtures.knowledge import human_task, scene_task
from fixtures.pseudo_labels import META, random_entry
from fixtures.teachers import BrightnessHumanTeacher, ColorHistSceneTeacher
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform, Compose
from mmengine.config import Config

from kinet_mm.models.knowledge.human_parsing import downsample_masks, mask_size
from kinet_mm.pseudo_labels import (CorruptEntryError, ExtractionSettings,
                                    FrameOutOfRangeError, LoadPseudoLabels,
                                    PseudoLabelCache, PseudoLabelEntry)
from kinet_mm.pseudo_labels.extractor import extract_to_cache, resize_short_side
from kinet_mm.utils.dist import init_launcher

VIDEOS = str(VIDEOS)
# Two short real clips: HMDB51 432x240, 49 frames; UCF101 224x224, 79 frames.
CLIP_A = 'TrumanShow_wave_f_nm_np1_fr_med_26.avi'
CLIP_B = 'v_CricketShot_g04_c01.mp4'
# Kinetics-400 clip, 340x256, 280 frames, that decord seeks exactly (it does
# not on the HMDB51 AVIs, so DecordDecode returns other frames there).
CLIP_MP4 = 'arm_wrestling.mp4'


@TRANSFORMS.register_module(name='_TestCoordinateFrames', force=True)
class CoordinateFrames(BaseTransform):
    """Replace decoded frames by their pixel coordinates (x, y, 0), float32.

    Resizes interpolate linearly and crops/flips move pixels, so after any
    geometric augmentation each pixel still holds the original-frame position it
    shows: the ground truth for where a cached mask pixel must land.
    """

    def transform(self, results):
        height, width = results['imgs'][0].shape[:2]
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
        coords = np.stack([xs, ys, np.zeros_like(xs)], axis=-1)
        results['imgs'] = [coords.copy() for _ in results['imgs']]
        return results


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------

MASK, SCENE_IDX, SCENE_PROB = ('pseudo_human_mask', 'pseudo_scene_topk_idx',
                               'pseudo_scene_topk_prob')


def video_info(name):
    import decord
    reader = decord.VideoReader(osp.join(VIDEOS, name), num_threads=1)
    return len(reader), reader[0].shape[:2]


def build_augment(cache_root, flip_ratio, coordinates=False):
    """The training pipeline of a TSN/KINet config, with the cache loaded."""
    return Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='DecordInit'),
            dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
            dict(type='DecordDecode'),
            *([dict(type='_TestCoordinateFrames')] if coordinates else []),
            dict(type='Resize', scale=(-1, 256)),
            dict(
                type='MultiScaleCrop',
                input_size=224,
                scales=(1, 0.875, 0.75, 0.66),
                random_crop=True,
                max_wh_scale_gap=1),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='Flip', flip_ratio=flip_ratio),
            dict(type='LoadPseudoLabels', cache_root=cache_root, mask_stride=8),
            dict(type='FormatShape', input_format='NCHW'),
            dict(type='PackKINetInputs', meta_keys=('img_shape', 'flip')),
        ]
    ])


def run_augment(pipeline, name, seed):
    random.seed(seed)
    np.random.seed(seed)
    return pipeline(
        dict(filename=osp.join(VIDEOS, name), label=0, start_index=0, modality='RGB'))


# ----------------------------------------------------------------------------
# (1) Roundtrip and nearest-frame lookup
# ----------------------------------------------------------------------------


def test_roundtrip_bitpacked_and_nearest_frame(tmp_path):
    cache = PseudoLabelCache.create(str(tmp_path), META)
    entry = random_entry(np.random.default_rng(0))
    cache.write('class a/clip%1.mp4', entry)  # '/', ' ' and '%' in the key
    assert list(cache.keys()) == ['class a/clip%1.mp4']
    assert sorted(os.listdir(tmp_path)) == ['class%20a%2Fclip%251.mp4.npz', 'meta.json']

    back = PseudoLabelCache(str(tmp_path)).read('class a/clip%1.mp4')
    np.testing.assert_array_equal(back.frame_inds, [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(back.labels[MASK], entry.labels[MASK])  # 91 bits
    np.testing.assert_array_equal(back.labels[SCENE_IDX], entry.labels[SCENE_IDX])
    np.testing.assert_allclose(
        back.labels[SCENE_PROB], entry.labels[SCENE_PROB], atol=1e-3)
    assert back.num_frames == 9 and back.frame_shape == (70, 130)

    # Stored 0,2,4,6,8: ties go to the earlier frame.
    np.testing.assert_array_equal(
        back.rows_for([0, 1, 2, 3, 5, 7, 8]), [0, 0, 1, 1, 2, 3, 4])

    # Through the transform, without a crop: the mask comes back unchanged at
    # stride 8 of a frame 8x the stored size, scene labels of the nearest frame.
    results = LoadPseudoLabels(str(tmp_path))(
        dict(
            filename='/anywhere/class a/clip%1.mp4',
            frame_inds=np.array([3, 8]),
            img_shape=(56, 104)))
    np.testing.assert_array_equal(results[MASK], entry.labels[MASK][[1, 4]])
    assert results[MASK].dtype == np.uint8
    np.testing.assert_array_equal(results[SCENE_IDX], entry.labels[SCENE_IDX][[1, 4]])
    assert results[SCENE_IDX].dtype == np.int64
    assert results[SCENE_PROB].dtype == np.float32


# ----------------------------------------------------------------------------
# (2) Atomic writes
# ----------------------------------------------------------------------------


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    cache = PseudoLabelCache.create(str(tmp_path), META)
    entry = random_entry(np.random.default_rng(1))

    def killed(*args):
        raise KeyboardInterrupt('killed before the rename')

    with monkeypatch.context() as patch:
        patch.setattr(os, 'replace', killed)
        with pytest.raises(KeyboardInterrupt):
            cache.write('v.mp4', entry)
    assert 'v.mp4' not in cache and not cache.is_complete('v.mp4')
    assert sorted(os.listdir(tmp_path)) == ['meta.json']  # temp file removed

    # A SIGKILL leaves its temporary file; a resumed run removes it.
    stale = tmp_path / '.tmp-v.mp4.npz.k1ll3d'
    stale.write_bytes(b'PK\x03\x04 half an entry')
    assert list(cache.keys()) == []
    assert cache.remove_stale_temporaries(['other.mp4']) == 0
    assert cache.remove_stale_temporaries(['v.mp4']) == 1

    cache.write('v.mp4', entry)  # the re-run completes
    assert sorted(os.listdir(tmp_path)) == ['meta.json', 'v.mp4.npz']
    umask = os.umask(0)
    os.umask(umask)  # readable like any file, not mkstemp's 0600
    assert os.stat(tmp_path / 'v.mp4.npz').st_mode & 0o777 == 0o666 & ~umask
    np.testing.assert_array_equal(cache.read('v.mp4').labels[MASK], entry.labels[MASK])


# ----------------------------------------------------------------------------
# (3) Clear errors
# ----------------------------------------------------------------------------


def test_errors_name_video_frame_and_file(tmp_path):
    root = str(tmp_path)
    cache = PseudoLabelCache.create(root, META)
    cache.write('a/clip.mp4', random_entry(np.random.default_rng(2)))
    load = LoadPseudoLabels(root)

    with pytest.raises(
            FileNotFoundError, match=r"'a/missing\.mp4'.*" + re.escape(root)):
        cache.read('a/missing.mp4')
    with pytest.raises(FileNotFoundError, match=r'/data/a/missing\.mp4'):
        load(
            dict(
                filename='/data/a/missing.mp4',
                frame_inds=np.array([0]),
                img_shape=(56, 104)))
    with pytest.raises(FileNotFoundError, match='not a pseudo-label cache'):
        PseudoLabelCache(str(tmp_path / 'nowhere'))

    # Another teacher / label space / class count.
    expected = dict(
        knowledge=dict(
            scene=dict(teacher=dict(label_space='imagenet1k', num_classes=1000))))
    with pytest.raises(
            ValueError,
            match=r"label_space: the config 'imagenet1k' "
            r"vs cache 'places365'.*num_classes: the config 1000 vs "
            r'cache 365'):
        LoadPseudoLabels(root, expected=expected)
    LoadPseudoLabels(
        root,
        expected=dict(
            knowledge=dict(
                scene=dict(topk=3),
                human=dict(teacher=dict(
                    label_space='lip20->human')))))  # matching: fine

    def with_human_teacher(**teacher):
        human = dict(META['knowledge']['human'], teacher=teacher)
        return dict(META, knowledge=dict(META['knowledge'], human=human))

    with pytest.raises(
            ValueError,
            match=r"knowledge\.human\.teacher\.type: "
            r"this run 'Other' vs cache 'Human'"):
        PseudoLabelCache.create(root,
                                with_human_teacher(type='Other', label_space='lip'))
    with pytest.raises(
            ValueError,
            match=r"knowledge\.human\.teacher\."
            r"label_space: this run '<missing>' vs cache "
            r"'lip20->human'"):
        PseudoLabelCache.create(root, with_human_teacher(type='Human'))

    # Frame beyond the video's frames (0..8).
    with pytest.raises(FrameOutOfRangeError, match=r"Frame 9 of video 'a/clip\.mp4'"):
        load(
            dict(
                filename='/data/a/clip.mp4',
                frame_inds=np.array([3, 9]),
                img_shape=(56, 104)))

    # Truncated and bit-flipped entries: never a silent zero mask.
    path = cache.entry_path('a/clip.mp4')
    data = open(path, 'rb').read()
    for broken in (data[:len(data) // 2], data[:len(data) - 1],
                   data[:300] + bytes([data[300] ^ 0xFF]) + data[301:]):
        with open(path, 'wb') as f:
            f.write(broken)
        with pytest.raises(
                CorruptEntryError, match=re.escape(f"{path} of video 'a/clip.mp4'")):
            load(
                dict(
                    filename='/data/a/clip.mp4',
                    frame_inds=np.array([0]),
                    img_shape=(56, 104)))
        assert not cache.is_complete('a/clip.mp4')


# ----------------------------------------------------------------------------
# (4) Geometry through the real MMAction2 pipeline
# ----------------------------------------------------------------------------


def test_masks_follow_crop_resize_flip_exactly(tmp_path, real_clips):
    """Every output cell holds the stored mask pixel under its original position.

    The frames are replaced by their own original-frame coordinates, so after
    the real Resize / MultiScaleCrop / Resize / Flip each augmented pixel says
    which original position it shows. The cached masks are random (the worst
    case: any misplacement by one stored pixel shows), different per frame, and
    the scene top-1 stores the frame index, so the exact expectation per output
    cell is ``stored[frame][floor(Y * h_m), floor(X * w_m)]`` at the cell
    centre's original position. Only a centre within float rounding of a
    stored pixel edge could differ, hence 99.5% rather than 100%.
    """
    num_frames, frame_shape = video_info(CLIP_A)  # 432x240: not square
    h_m, w_m = mask_size(frame_shape, 64)
    stored = np.random.default_rng(4).random((num_frames, h_m, w_m)) > 0.5
    meta = dict(
        META,
        knowledge=dict(
            META['knowledge'],
            human=dict(META['knowledge']['human'], cache_short_side=64)))
    cache = PseudoLabelCache.create(str(tmp_path), meta)
    cache.write(
        CLIP_A,
        PseudoLabelEntry(
            frame_inds=np.arange(num_frames),
            labels={
                MASK: stored,
                SCENE_IDX: np.tile(np.arange(num_frames)[:, None], (1, 3)),
                SCENE_PROB: np.full((num_frames, 3), 0.25)
            },
            num_frames=num_frames,
            frame_shape=frame_shape))

    flips = set()
    for seed, flip_ratio in [(0, 0.5), (1, 0.5), (2, 0.5), (3, 0.5), (4, 1.0)]:
        packed = run_augment(
            build_augment(str(tmp_path), flip_ratio, True), CLIP_A, seed)
        sample = packed['data_samples']
        mask = sample.pseudo_human_mask.numpy()
        assert sample.pseudo_human_mask.dtype == torch.uint8
        assert mask.shape == (3, 28, 28)
        # Cell (i, j) covers pixels 8i..8i+7: its centre lies between pixels
        # 8i+3 and 8i+4 (the coordinates are linear there, so average them).
        coords = packed['inputs'].numpy()[:, :2]  # (3, 2, 224, 224): x, y
        centre = (coords[:, :, 3::8] + coords[:, :, 4::8]) / 2
        centre = (centre[..., 3::8] + centre[..., 4::8]) / 2
        rows = np.floor(centre[:, 1] / frame_shape[0] * h_m).astype(int)
        cols = np.floor(centre[:, 0] / frame_shape[1] * w_m).astype(int)
        frames = sample.pseudo_scene_topk_idx[:, 0].numpy()[:, None, None]
        expected = stored[frames, np.clip(rows, 0, h_m - 1), np.clip(cols, 0, w_m - 1)]
        assert (mask == expected).mean() >= 0.995, seed
        if sample.flip:  # the check has teeth: an unflipped mask is ~random
            assert (mask[..., ::-1] == expected).mean() < 0.7
        flips.add(bool(sample.flip))
    assert flips == {True, False}


def boundary_band(masks):
    """Cells with a differing 8-neighbour: where a boundary may move one cell."""
    padded = np.pad(masks, ((0, 0), (1, 1), (1, 1)), mode='edge')
    height, width = masks.shape[1:]
    band = np.zeros(masks.shape, dtype=bool)
    for dy in range(3):
        for dx in range(3):
            band |= padded[:, dy:dy + height, dx:dx + width] != masks
    return band


def test_cached_mask_matches_teacher_on_augmented_frames(tmp_path, real_clips):
    """Cached teacher masks vs the same teacher run on the augmented frames.

    The cache holds the teacher's mask of the whole frame, majority-pooled to
    64 px short side; the reference is the teacher on the augmented 224x224
    crop, majority-pooled to the 28x28 mask grid. The content is the same, only
    resampling differs. A stored pixel is 1/64 of the short side, an output cell
    at least 0.66/28 = 1/42 of it (smallest MultiScaleCrop scale), so nearest
    resampling moves a boundary by less than one cell: disagreements must lie
    in the one-cell band around the reference's boundary (allow 1% of cells
    outside it for the teacher's own scale dependence). Inside the band each
    cell is a coin flip; on this textured brightness mask the band is ~40% of
    the cells, so the IoU, measured 0.93 over these samples (0.88-0.98 per
    sample), is held to > 0.9 over all of them (the issue's criterion). A
    misaligned mask (e.g. an unflipped one) disagrees in 22-28% of the cells
    outside the band.
    """
    teacher = BrightnessHumanTeacher(**BRIGHTNESS)
    extract_to_cache(
        _write_config(tmp_path, [CLIP_MP4]), str(tmp_path / 'cache'),
        ExtractionSettings())

    inter = union = 0
    for seed, flip_ratio in [(0, 0.5), (1, 1.0), (2, 0.5), (3, 0.5), (4, 0.5)]:
        packed = run_augment(
            build_augment(str(tmp_path / 'cache'), flip_ratio), CLIP_MP4, seed)
        frames = packed['inputs'].float()  # (3, 3, 224, 224) RGB
        reference = downsample_masks(teacher(frames), (28, 28))
        mask = packed['data_samples'].pseudo_human_mask.numpy().astype(bool)
        outside = ~boundary_band(reference)
        assert ((mask != reference) & outside).mean() <= 0.01, seed
        inter += (mask & reference).sum()
        union += (mask | reference).sum()
        if packed['data_samples'].flip:
            assert ((mask[..., ::-1] != reference) & outside).mean() > 0.1
    assert inter / union > 0.9, inter / union


# ----------------------------------------------------------------------------
# (5) The extractor, end to end
# ----------------------------------------------------------------------------

#: The stand-in human teacher of these tests: blurred brightness above 100.
BRIGHTNESS = dict(threshold=100., blur=9)


def _write_config(tmp_path, clips, **teacher):
    """A config with the stand-in teachers and ``clips`` as its train set."""
    ann = tmp_path / 'ann.txt'
    ann.write_text(''.join(f'{c} 0\n' for c in clips))
    human = dict(BRIGHTNESS, type='_TestBrightnessHumanTeacher', **teacher)
    knowledge = dict(
        human=human_task(8, teacher=human),
        scene=scene_task(
            8, num_classes=8, topk=3, teacher=dict(type='_TestColorHistSceneTeacher')))
    cfg = tmp_path / 'kinet_test_cfg.py'
    cfg.write_text("custom_imports = dict(imports=['fixtures.teachers'])\n"
                   f'model = dict(type="KINet", knowledge={knowledge!r})\n'
                   'train_dataloader = dict(dataset=dict(\n'
                   f'    type="VideoDataset", ann_file={str(ann)!r},\n'
                   f'    data_prefix=dict(video={VIDEOS!r}), pipeline=[]))\n')
    return Config.fromfile(str(cfg))


def test_extractor_resumes_and_matches_teachers(tmp_path, real_clips):
    out = str(tmp_path / 'cache')
    cfg = _write_config(tmp_path, [CLIP_A, CLIP_B])
    settings = ExtractionSettings(stride=2)
    totals = extract_to_cache(cfg, out, settings)

    cache = PseudoLabelCache(
        out,
        expected=dict(
            stride=2,
            knowledge=dict(
                human=dict(teacher=dict(label_space='test-brightness', threshold=100.)),
                scene=dict(
                    topk=3, teacher=dict(label_space='test-color-hist',
                                         num_classes=8)))))
    assert sorted(cache.keys()) == sorted([CLIP_A, CLIP_B])

    # Stored values are the teachers' outputs on the 224-short-side frames.
    import decord
    num_frames, frame_shape = video_info(CLIP_A)
    entry = cache.read(CLIP_A)
    np.testing.assert_array_equal(entry.frame_inds, np.arange(0, num_frames, 2))
    assert entry.labels[MASK].shape[1:] == mask_size(frame_shape, 64) == (64, 115)
    # Frame 24: decord's seeking get_batch([0, 2, ..., 30]) returns another
    # frame there on this AVI; reading frames 0..24 in order is exact.
    reader = decord.VideoReader(osp.join(VIDEOS, CLIP_A), num_threads=1)
    frame = reader.get_batch(list(range(25))).asnumpy()[24:]
    batch = torch.from_numpy(resize_short_side(frame, 224))
    batch = batch.permute(0, 3, 1, 2).float()
    np.testing.assert_array_equal(
        entry.labels[MASK][12],
        downsample_masks(BrightnessHumanTeacher(**BRIGHTNESS)(batch), (64, 115))[0])
    top = ColorHistSceneTeacher()(batch)[0].topk(3)
    np.testing.assert_array_equal(entry.labels[SCENE_IDX][12], top.indices)
    assert 0.05 < entry.labels[MASK].mean() < 0.95  # a real, non-trivial mask

    # The run's statistics, for the benchmark: every stored frame counted.
    stats = json.load(open(osp.join(out, 'extraction_stats.json')))
    stored = sum(len(cache.read(key).frame_inds) for key in cache.keys())
    assert stats['frames'] == totals['frames'] == stored and stats['fps'] > 0
    assert stats['settings']['stride'] == 2 and stats['bytes_per_frame'] > 0

    # Resume: only the deleted entry is extracted again.
    path_a, path_b = cache.entry_path(CLIP_A), cache.entry_path(CLIP_B)
    mtime_b = os.stat(path_b).st_mtime_ns
    os.remove(path_a)
    assert extract_to_cache(cfg, out, settings)['done'] == 1
    assert cache.is_complete(CLIP_A)
    assert os.stat(path_b).st_mtime_ns == mtime_b

    # Another teacher setting must not write into this cache.
    with pytest.raises(ValueError, match=r'knowledge\.human\.teacher\.threshold'):
        extract_to_cache(
            _write_config(tmp_path, [CLIP_A], threshold=50.), out, settings)
    meta = json.load(open(osp.join(out, 'meta.json')))
    assert meta['knowledge']['human']['teacher']['threshold'] == 100.


@pytest.mark.slow
def test_extract_tool_skips_undecodable_video_and_fails(tmp_path, real_clips):
    """The command line: a broken video is named, the others extracted, exit 1."""
    videos = tmp_path / 'videos'
    videos.mkdir()
    os.symlink(osp.join(VIDEOS, CLIP_B), videos / CLIP_B)
    (videos / 'broken.mp4').write_bytes(b'\x00not a video' * 64)
    ann = tmp_path / 'with_broken.txt'
    ann.write_text(f'broken.mp4 0\n{CLIP_B} 0\n')
    cfg = _write_config(tmp_path, [CLIP_B]).filename
    out = str(tmp_path / 'cache')
    log = run_command(
        sys.executable,
        'tools/extract_pseudo_labels.py',
        cfg,
        '--out',
        out,
        '--ann-file',
        ann,
        '--stride',
        '8',
        '--cfg-options',
        f'train_dataloader.dataset.data_prefix.video={videos}',
        ok=False,
        PYTHONPATH=osp.dirname(osp.abspath(__file__)))
    assert "skipping video 'broken.mp4'" in log
    assert list(PseudoLabelCache(out).keys()) == [CLIP_B]


def test_slurm_launcher_maps_slurm_variables(monkeypatch):
    """``--launcher slurm`` on CPU: SLURM's variables become torch's, gloo."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '0')
    monkeypatch.setenv('SLURM_NTASKS', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'node-[1-2]')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')  # else `scontrol` decides
    monkeypatch.setenv('MASTER_PORT', str(port))
    init_launcher('slurm', 'cpu')
    try:
        assert torch.distributed.get_world_size() == 1
        assert torch.distributed.get_backend() == 'gloo'
        assert os.environ['RANK'] == '0' and os.environ['LOCAL_RANK'] == '0'
    finally:
        torch.distributed.destroy_process_group()


def test_pack_checks_alignment_and_packs_plain_samples(tmp_path):
    cache = PseudoLabelCache.create(str(tmp_path), META)
    cache.write('clip.mp4', random_entry(np.random.default_rng(3)))
    results = LoadPseudoLabels(str(tmp_path))(
        dict(
            filename='/data/clip.mp4',
            frame_inds=np.array([0, 4]),
            img_shape=(56, 104),
            imgs=np.zeros((2, 3, 56, 104), np.float32),
            label=1))
    pack = TRANSFORMS.build(dict(type='PackKINetInputs'))
    sample = pack(dict(results))['data_samples']
    assert sample.pseudo_scene_topk_prob.dtype == torch.float32
    assert sample.pseudo_scene_topk_idx.shape == (2, 3)

    # A resize after LoadPseudoLabels would misalign the mask: refused.
    with pytest.raises(ValueError, match='after every crop/resize/flip'):
        pack(dict(results, img_shape=(224, 224)))

    # Without pseudo labels (online teachers) it packs like PackActionInputs.
    plain = pack(
        dict(imgs=np.zeros((2, 3, 8, 8), np.float32), label=1,
             img_shape=(8, 8)))['data_samples']
    assert 'pseudo_human_mask' not in plain and plain.gt_label.item() == 1


def test_cached_keypoints_follow_crop_resize_flip(tmp_path, real_clips):
    """A third task's fields go through the same cache and transforms.

    As above, the frames hold their original coordinates; every cached pose
    keypoint still visible after the real augmentation must sit on the pixel
    that shows its original position (within a pixel of the 1.9x downscale),
    and a flipped clip carries its left/right partner there.
    """
    from kinet_mm.models.knowledge.keypoints import flip_permutation
    from kinet_mm.models.knowledge.pose import BODY13_FLIP_PAIRS
    num_frames, frame_shape = video_info(CLIP_A)
    rng = np.random.default_rng(5)
    keypoints = np.concatenate(
        [rng.random((num_frames, 13, 2)),
         np.ones((num_frames, 13, 1))], 2)
    meta = dict(
        META,
        knowledge=dict(
            META['knowledge'],
            pose=dict(
                type='PoseKnowledge',
                num_keypoints=13,
                flip_pairs=[list(pair) for pair in BODY13_FLIP_PAIRS],
                teacher=dict(type='Pose', label_space='body13'))))
    cache = PseudoLabelCache.create(str(tmp_path), meta)
    cache.write(
        CLIP_A,
        PseudoLabelEntry(
            frame_inds=np.arange(num_frames),
            labels={
                MASK: np.zeros((num_frames, 7, 13), dtype=bool),
                SCENE_IDX: np.tile(np.arange(num_frames)[:, None], (1, 3)),
                SCENE_PROB: np.full((num_frames, 3), 0.25),
                'pseudo_pose_keypoints': keypoints
            },
            num_frames=num_frames,
            frame_shape=frame_shape))
    flip_perm = flip_permutation(13, BODY13_FLIP_PAIRS)
    flips, hidden = set(), 0
    for seed, flip_ratio in [(0, 0.5), (1, 0.5), (2, 0.5), (3, 1.0)]:
        packed = run_augment(
            build_augment(str(tmp_path), flip_ratio, True), CLIP_A, seed)
        sample = packed['data_samples']
        warped = sample.pseudo_pose_keypoints.numpy()
        assert warped.shape == (3, 13, 3)
        coords = packed['inputs'].numpy()[:, :2]  # (3, 2, 224, 224)
        frames = sample.pseudo_scene_topk_idx[:, 0].numpy()
        source = keypoints[frames][:, flip_perm if sample.flip else slice(None)]
        for t in range(3):
            for k in range(13):
                x, y, conf = warped[t, k]
                if conf == 0:
                    hidden += 1
                    continue
                col, row = int(x * 224), int(y * 224)
                shown = coords[t, :, min(row, 223), min(col, 223)]
                want = source[t, k, :2] * (frame_shape[1], frame_shape[0])
                np.testing.assert_allclose(shown, want, atol=2.5)
        flips.add(bool(sample.flip))
    assert flips == {True, False} and hidden > 0  # crops hid some keypoints
