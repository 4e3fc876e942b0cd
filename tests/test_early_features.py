"""Segment-feature cache (resumable, validated) and extraction from recognizers."""
import os
import sys

import mmcv
import numpy as np
import pytest
import torch
from fixtures import run_command
from mmengine.config import Config

from kinet_mm.features import (CorruptFeatureEntryError, SegmentFeatureCache,
                               SegmentFeatureExtractor, SegmentFeatures,
                               extract_to_cache)

TSN_CFG = 'configs/early_recognition/features/tsn_r50_realclips_progression10.py'
KINET_CFG = ('configs/early_recognition/features/'
             'kinet_r18_realclips_progression10.py')
META = dict(num_levels=2, feature_dim=3, source=dict(model='fake'))


class FakeExtractor:
    """Counts calls; features encode the video name length."""
    num_levels, frames_per_level = 2, 1

    def __init__(self, source='fake'):
        self.calls, self.source = [], source

    def meta(self, dim):
        return dict(META, feature_dim=dim, source=dict(model=self.source))

    def extract(self, filename, key=''):
        self.calls.append(key)
        feats = np.full((2, 3), len(key), dtype=np.float32)
        return SegmentFeatures(feats, np.array([[1], [3]]), 4, key)


def test_extraction_resumes_and_refuses_another_extractor(tmp_path):
    root = str(tmp_path / 'cache')
    videos = [('a.avi', '/x/a.avi'), ('dir/bb.avi', '/x/dir/bb.avi')]
    first = FakeExtractor()
    assert extract_to_cache(first, root, videos[:1], show_progress=False)['done'] == 1
    second = FakeExtractor()
    stats = extract_to_cache(second, root, videos, show_progress=False)
    assert (stats['done'], stats['skipped']) == (1, 1)
    assert second.calls == ['dir/bb.avi']  # the finished video is skipped
    cache = SegmentFeatureCache(root)
    assert sorted(cache.keys()) == ['a.avi', 'dir/bb.avi']
    np.testing.assert_array_equal(cache.read('dir/bb.avi').features, 10)
    with pytest.raises(ValueError, match='source.model'):
        extract_to_cache(FakeExtractor('other'), root, videos, show_progress=False)
    # Interrupted writes leave no visible entry (atomic_write).
    assert not [n for n in os.listdir(root) if n.startswith('.tmp')]


def test_corrupt_or_foreign_entries_are_named(tmp_path):
    cache = SegmentFeatureCache.create(str(tmp_path), META)
    cache.write('v.avi', SegmentFeatures(np.ones((2, 3)), np.zeros((2, 1)), 2))
    path = cache.entry_path('v.avi')
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(CorruptFeatureEntryError, match=r"'v.avi'.*v\.avi\.npz"):
        cache.read('v.avi')
    assert not cache.is_complete('v.avi')
    with pytest.raises(ValueError, match=r'\(2, 3\)'):
        cache.write('w.avi', SegmentFeatures(np.ones((3, 3)), None, 2))


def test_entry_of_another_extraction_is_refused(tmp_path):
    """An entry copied in from a cache with another meta.json is not mixed in."""
    import shutil
    ours = SegmentFeatureCache.create(str(tmp_path / 'ours'), META)
    other = SegmentFeatureCache.create(
        str(tmp_path / 'other'), dict(META, source=dict(model='other')))
    other.write('v.avi', SegmentFeatures(np.ones((2, 3)), np.zeros((2, 1)), 2))
    shutil.copy(other.entry_path('v.avi'), ours.entry_path('v.avi'))
    with pytest.raises(CorruptFeatureEntryError, match='another meta.json'):
        ours.read('v.avi')
    assert not ours.is_complete('v.avi')  # a resumed extraction redoes it


def _reference_frame(filename, index, short=128, crop=112):
    """Decode one frame and resize/crop it without MMAction2's transforms."""
    import decord
    frame = decord.VideoReader(filename)[int(index)].asnumpy()
    h, w = frame.shape[:2]
    new_w, new_h = int(w * short / h + 0.5), short
    if h > w:
        new_w, new_h = short, int(h * short / w + 0.5)
    frame = mmcv.imresize(frame, (new_w, new_h), interpolation='bilinear')
    top, left = (new_h - crop) // 2, (new_w - crop) // 2
    return frame[top:top + crop, left:left + crop]


@pytest.mark.parametrize(
    'config, dim, opts',
    [
        (TSN_CFG, 512, {
            'model.backbone.depth': 18
        }),  # R18 keeps the test fast
        (KINET_CFG, 512, {}),
    ])
def test_features_describe_each_equal_part(real_clips, config, dim, opts):
    torch.set_num_threads(1)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(opts)
    extractor = SegmentFeatureExtractor.from_config(cfg)
    video = str(real_clips / 'videos' / 'v_CricketShot_g04_c01.mp4')  # 79 frames
    entry = extractor.extract(video, 'v_CricketShot_g04_c01.mp4')
    assert entry.features.shape == (10, dim) and entry.num_frames == 79
    # Frame of level n: the centre of part n of 10 equal parts.
    centres = [int((n + 0.5) * 79 / 10) for n in range(10)]
    assert entry.frame_inds.reshape(-1).tolist() == centres
    # Row n is the model's pooled map of that frame alone.
    model = extractor.model
    for n in (0, 9):
        frame = torch.from_numpy(_reference_frame(video, centres[n]))
        inputs = frame.permute(2, 0, 1)[None, None].float()
        inputs = (inputs - model.data_preprocessor.mean) / \
            model.data_preprocessor.std
        with torch.no_grad():
            maps = model.backbone(inputs[0])
        if isinstance(maps, tuple):  # KINet: one map per branch
            maps = maps[model.backbone.branch_names.index('action')]
        np.testing.assert_allclose(
            entry.features[n], maps.mean((2, 3))[0], rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_extraction_tool_resumes(tmp_path, real_clips):
    """tools/misc/extract_segment_features.py on one real clip, twice."""
    ann = tmp_path / 'one.txt'
    ann.write_text('v_CricketShot_g04_c01.mp4 9\n')
    out = tmp_path / 'feats'
    command = [
        sys.executable, 'tools/misc/extract_segment_features.py', TSN_CFG, '--split',
        'val', '--out', out, '--cfg-options', f'val_dataloader.dataset.ann_file={ann}',
        'model.backbone.depth=18'
    ]
    run_command(*command)
    cache = SegmentFeatureCache(str(out), dict(num_levels=10, feature_dim=512))
    assert list(cache.keys()) == ['v_CricketShot_g04_c01.mp4']
    assert cache.meta['source']['checkpoint'] is None  # random weights, said so
    assert cache.meta['source']['seed'] == 0
    mtime = os.path.getmtime(cache.entry_path('v_CricketShot_g04_c01.mp4'))
    run_command(*command)  # resumed: the finished entry is kept
    assert os.path.getmtime(cache.entry_path('v_CricketShot_g04_c01.mp4')) == mtime
