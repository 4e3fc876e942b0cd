"""UCF-101 split lists and split averaging (paper section 4.5, Table 6)."""
import numpy as np
import pytest
import torch
from fixtures import REPO_ROOT, SHARED
from fixtures.checkpoints import save_random_checkpoint
from mmengine import dump

from kinet_mm.datasets.ucf101 import build_realclip_proxy
from kinet_mm.experiments import dump_test_scores, split_table

UCF101 = REPO_ROOT / 'configs' / 'kinet' / 'ucf101'
PROXY_SPLITS = [
    UCF101 / f'kinet_r18_1x1x3_ucf101-proxy-split{k}_realclips-cpu.py'
    for k in (1, 2, 3)
]

#: 3 segments of 64x64 (AKG window 3) instead of 25 of 112x112.
TINY_TEST = {
    'test_dataloader.num_workers': 0,
    'model.test_cfg.num_segs': 3,
    'test_dataloader.dataset.pipeline.1.num_clips': 3,
    'test_dataloader.dataset.pipeline.3.scale': (-1, 72),
    'test_dataloader.dataset.pipeline.4.crop_size': 64
}


def _dump_scores(path, scores, labels):
    """A score file as tools/test.py --dump (MMEngine's DumpResults) writes it."""
    dump([
        dict(
            pred_score=torch.tensor(s, dtype=torch.float32),
            gt_label=torch.tensor([label])) for s, label in zip(scores, labels)
    ], str(path))
    return str(path)


def test_split_table_averages_splits_and_fuses_streams(tmp_path):
    # Two classes. Split 1: RGB right on both videos, flow on one; weighting
    # flow by 1.5 flips video 0 to flow's wrong answer (0.7 + 1.5 * 0.35 <
    # 0.3 + 1.5 * 0.65), equal weights do not (0.7 + 0.35 > 0.3 + 0.65).
    # Split 2: RGB wrong on both, flow right on both (and fused, either way).
    # Split 3: no flow, so there is no fused mean.
    rgb = [
        _dump_scores(tmp_path / 'r1.pkl', [[0.7, 0.3], [0.1, 0.9]], [0, 1]),
        _dump_scores(tmp_path / 'r2.pkl', [[0.2, 0.8], [0.9, 0.1]], [0, 1]),
        _dump_scores(tmp_path / 'r3.pkl', [[0.7, 0.3]], [1])
    ]
    flow = [
        _dump_scores(tmp_path / 'f1.pkl', [[0.35, 0.65], [0.2, 0.8]], [0, 1]),
        _dump_scores(tmp_path / 'f2.pkl', [[0.9, 0.1], [0.05, 0.95]], [0, 1])
    ]
    rows = split_table(rgb, flow + [None], coefficients=(1.0, 1.5))
    assert [(r['name'], r['videos'], r['rgb'], r['flow'], r['fused'])
            for r in rows] == [('split 1', 2, 1.0, 0.5, 0.5),
                               ('split 2', 2, 0.0, 1.0, 1.0),
                               ('split 3', 1, 0.0, None, None),
                               ('mean', 5, pytest.approx(1 / 3), None, None)]
    # The mean of the splits (not of the videos), fused once all have flow.
    rows = split_table(rgb[:2], flow, coefficients=(1.0, 1.0))
    assert rows[-1] == dict(name='mean', videos=4, rgb=0.5, flow=0.75, fused=1.0)
    with pytest.raises(ValueError, match='list different videos'):
        split_table(rgb[2:], flow[:1])  # split 1's flow is not split 3's
    with pytest.raises(ValueError, match='1 RGB but 2 flow'):
        split_table(rgb[:1], flow)


@pytest.mark.slow
def test_proxy_lists_and_one_split_tested_through_the_runner(tmp_path, monkeypatch):
    """The real-clip proxy's official-format lists; a split model tested
    through the Runner (as tools/test.py --dump) and its dump averaged.

    MMAction2's build_file_list.py on these lists and the command over all
    three splits run in docs/ucf101.md (proxy run): a subprocess importing the
    stack would cost more than this whole file."""
    data_root = tmp_path / 'work_dirs' / 'ucf101_proxy'  # the proxy configs'
    counts = build_realclip_proxy(str(SHARED / 'data' / 'real_clips'), str(data_root))
    assert counts == {f'split {k}': dict(train=4, test=2) for k in (1, 2, 3)}
    annotations = data_root / 'annotations'
    # Official formats: classInd is 1-based, test lists carry no label.
    assert annotations.joinpath('classInd.txt').read_text().split('\n')[:-1] == [
        '1 ApplyEyeMakeup', '8 Basketball', '24 CricketShot', '84 SoccerJuggling'
    ]
    assert annotations.joinpath('testlist02.txt').read_text().split() == [
        'SoccerJuggling/v_SoccerJuggling_g23_c01.avi',
        'Basketball/v_Basketball_g01_c01.avi'
    ]
    assert 'Basketball/v_Basketball_g02_c01.avi 8' in annotations.joinpath(
        'trainlist02.txt').read_text().split('\n')
    assert (data_root / 'videos/Basketball/v_Basketball_g01_c01.mp4').resolve() \
        == (SHARED / 'data/real_clips/videos/basketball_outdoor.mp4').resolve()
    # What build_file_list.py makes of testlist02 (docs/ucf101.md, proxy run).
    (data_root / 'ucf101_val_split_2_videos.txt').write_text(
        'Basketball/v_Basketball_g01_c01.mp4 7\n'
        'SoccerJuggling/v_SoccerJuggling_g23_c01.avi 83\n')

    checkpoint = save_random_checkpoint(str(PROXY_SPLITS[1]), tmp_path / 'm.pth')
    monkeypatch.chdir(tmp_path)  # the proxy configs' work_dirs/ucf101_proxy
    dump, metrics, cfg = dump_test_scores(
        str(PROXY_SPLITS[1]), str(checkpoint), str(tmp_path / 'split2'),
        dict(TINY_TEST))
    assert cfg.split == 2 and 'teachers' not in cfg.model
    scores, labels = _load(dump)
    assert labels == [7, 83] and scores.shape == (2, 101)
    row = split_table([dump])[0]
    assert row['rgb'] == pytest.approx(np.mean(scores.argmax(1) == labels))
    assert row['rgb'] == pytest.approx(metrics['acc/top1'])


def _load(path):
    from mmengine import load
    samples = load(str(path))
    return (np.stack([s['pred_score'].numpy()
                      for s in samples]), [int(s['gt_label'][0]) for s in samples])
