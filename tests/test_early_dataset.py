"""SegmentFeatureDataset: features from the cache, labelled subsets, UCF groups."""
import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS

from kinet_mm.features import SegmentFeatureCache, SegmentFeatures

N, C = 4, 3
VIDEOS = [
    f'Cls{i % 3}/v_Cls{i % 3}_g{g:02d}_c01.avi'
    for i, g in enumerate([1, 5, 15, 16, 18, 19, 25, 2, 3, 4])
]


@pytest.fixture
def cache(tmp_path):
    root = tmp_path / 'features'
    cache = SegmentFeatureCache.create(
        str(root), dict(num_levels=N, feature_dim=C, source=dict(model='test')))
    rng = np.random.default_rng(0)
    feats = {}
    for key in VIDEOS:
        feats[key] = rng.normal(size=(N, C)).astype(np.float32)
        cache.write(key, SegmentFeatures(feats[key], np.arange(N)[:, None], 40))
    ann = tmp_path / 'all.txt'
    ann.write_text(''.join(f'{k} {i % 3}\n' for i, k in enumerate(VIDEOS)))
    return str(root), str(ann), feats


def _build(cache, **kwargs):
    root, ann, _ = cache
    return DATASETS.build(
        dict(type='SegmentFeatureDataset', ann_file=ann, feature_root=root, **kwargs))


def test_items_are_cached_features_and_labels(cache):
    dataset = _build(cache, expected_meta=dict(num_levels=N))
    assert len(dataset) == len(VIDEOS)
    for idx in (0, 7):
        item = dataset[idx]
        want = torch.from_numpy(cache[2][VIDEOS[idx]])
        torch.testing.assert_close(item['inputs'], want, atol=2e-3, rtol=1e-3)
        assert item['data_samples'].gt_label.item() == idx % 3
        assert item['data_samples'].key == VIDEOS[idx]


def test_meta_mismatch_names_the_field(cache):
    with pytest.raises(ValueError, match='feature_dim'):
        _build(cache, expected_meta=dict(feature_dim=C + 1))


def test_ucf101_groups_select_the_protocol_splits(cache):

    def video_groups(span):
        dataset = _build(cache, groups=span)
        keys = [dataset.get_data_info(i)['key'] for i in range(len(dataset))]
        return [int(k.split('_g')[1][:2]) for k in keys]

    groups = {
        name: video_groups(span)
        for name, span in dict(train=(1, 15), val=(16, 18), test=(19, 25)).items()
    }
    assert sorted(groups['train']) == [1, 2, 3, 4, 5, 15]
    assert sorted(groups['val']) == [16, 18]
    assert sorted(groups['test']) == [19, 25]


def test_labelled_fraction_hides_a_seeded_subset(cache):

    def labels(ds):
        return np.array([ds[i]['data_samples'].gt_label.item() for i in range(len(ds))])

    full = labels(_build(cache))
    semi = labels(_build(cache, labelled_fraction=0.3, label_seed=1))
    kept = semi != -1
    assert kept.sum() == 3  # round(0.3 * 10)
    np.testing.assert_array_equal(semi[kept], full[kept])
    again = labels(_build(cache, labelled_fraction=0.3, label_seed=1))
    np.testing.assert_array_equal(semi, again)  # same subset every epoch/run
    other = labels(_build(cache, labelled_fraction=0.3, label_seed=2))
    assert not np.array_equal(semi, other)


def test_missing_video_is_named(cache, tmp_path):
    root, ann, _ = cache
    extra = tmp_path / 'extra.txt'
    extra.write_text('Nope/v_Nope_g01_c01.avi 0\n')
    dataset = DATASETS.build(
        dict(type='SegmentFeatureDataset', ann_file=str(extra), feature_root=root))
    with pytest.raises(FileNotFoundError, match='v_Nope_g01_c01.avi'):
        dataset[0]
