"""UCF-101 split lists and split averaging (paper section 4.5, Table 6)."""
import json

import numpy as np
import pytest
import torch
from fixtures import REPO_ROOT, SHARED, run_command
from fixtures.checkpoints import save_random_checkpoint
from mmengine import dump

from kinet_mm.apis import split_table
from kinet_mm.datasets.ucf101 import build_file_lists, build_realclip_proxy

UCF101 = REPO_ROOT / 'configs' / 'kinet' / 'ucf101'
PROXY_SPLITS = [
    UCF101 / f'kinet_r18_1x1x3_ucf101-proxy-split{k}_realclips-cpu.py'
    for k in (1, 2, 3)
]


def _dump_scores(path, scores, labels):
    """A score file as tools/test.py --dump (MMEngine's DumpResults) writes it."""
    dump([dict(pred_score=torch.tensor(s, dtype=torch.float32),
               gt_label=torch.tensor([label])) for s, label in zip(scores, labels)],
         str(path))
    return str(path)


def test_split_table_averages_splits_and_fuses_streams(tmp_path):
    # Two classes. Split 1: RGB right on both videos, flow on one; fusing
    # with weights 1 : 1.5 flips video 0 to flow's wrong answer (0.6 + 1.5 *
    # 0.3 < 0.4 + 1.5 * 0.7). Split 2: RGB wrong on both, flow right on both.
    # Split 3: nothing fused (no flow), so the fused mean is undefined.
    rgb = [_dump_scores(tmp_path / 'r1.pkl', [[0.6, 0.4], [0.1, 0.9]], [0, 1]),
           _dump_scores(tmp_path / 'r2.pkl', [[0.2, 0.8], [0.9, 0.1]], [0, 1]),
           _dump_scores(tmp_path / 'r3.pkl', [[0.7, 0.3]], [1])]
    flow = [_dump_scores(tmp_path / 'f1.pkl', [[0.3, 0.7], [0.2, 0.8]], [0, 1]),
            _dump_scores(tmp_path / 'f2.pkl', [[0.9, 0.1], [0.1, 0.9]], [0, 1])]
    rows = split_table(rgb, flow + [None], coefficients=(1.0, 1.5))
    assert [(r['name'], r['videos'], r['rgb'], r['flow'], r['fused'])
            for r in rows] == [('split 1', 2, 1.0, 0.5, 0.5),
                               ('split 2', 2, 0.0, 1.0, 1.0),
                               ('split 3', 1, 0.0, None, None),
                               ('mean', 5, pytest.approx(1 / 3), None, None)]
    # The fused mean once every split has flow; equal weights keep video 0.
    rows = split_table(rgb[:2], flow, coefficients=(1.0, 1.0))
    assert rows[-1] == dict(name='mean', videos=4, rgb=0.5, flow=0.75,
                            fused=pytest.approx(0.75))
    with pytest.raises(ValueError, match='list different videos'):
        split_table(rgb[:1], flow[1:])  # split 2's flow is not split 1's
    with pytest.raises(ValueError, match='1 RGB but 2 flow'):
        split_table(rgb[:1], flow)


def test_split_command_on_three_real_clip_splits(tmp_path):
    """Proxy split lists -> MMAction2's build_file_list.py -> three annotation
    files; the command tests a checkpoint per split and averages."""
    data_root = tmp_path / 'work_dirs' / 'ucf101_proxy'  # the proxy configs'
    build_realclip_proxy(str(SHARED / 'data' / 'real_clips'), str(data_root))
    lists = build_file_lists(str(data_root))
    assert [p.rsplit('/', 1)[1] for p in lists[:2]] == [
        'ucf101_train_split_1_videos.txt', 'ucf101_val_split_1_videos.txt']
    # Official 1-based classInd indices became MMAction2's 0-based labels.
    assert sorted(open(lists[1]).read().split('\n')[:-1]) == [
        'Basketball/v_Basketball_g02_c01.mp4 7',
        'SoccerJuggling/v_SoccerJuggling_g24_c01.avi 83']
    checkpoint = save_random_checkpoint(str(PROXY_SPLITS[0]), tmp_path / 'm.pth')
    rng = np.random.default_rng(0)
    flow = []
    for k in (1, 2, 3):
        labels = [int(line.split()[1]) for line in open(
            data_root / f'ucf101_val_split_{k}_videos.txt')]
        flow.append(_dump_scores(tmp_path / f'flow{k}.pkl',
                                 rng.dirichlet(np.ones(101), len(labels)), labels))
    work_dir = tmp_path / 'splits'
    out = run_command(
        'python', REPO_ROOT / 'tools/analysis/ucf101_splits.py',
        '--configs', *PROXY_SPLITS, '--checkpoints', *[checkpoint] * 3,
        '--flow-scores', *flow, '--work-dir', work_dir,
        '--cfg-options', 'test_dataloader.num_workers=0',
        cwd=tmp_path, KINET_SHARED=str(SHARED))
    assert '| mean | 6 |' in out
    rows = json.load(open(work_dir / 'splits.json'))['rows']
    rgb_top1, fused_top1 = [], []
    for k in (1, 2, 3):
        rgb = _load(work_dir / f'rgb_split{k}' / 'scores.pkl')
        fl = _load(flow[k - 1])
        assert rgb[1] == fl[1] and len(rgb[1]) == 2
        rgb_top1.append(np.mean(rgb[0].argmax(1) == rgb[1]))
        fused_top1.append(np.mean((rgb[0] + 1.5 * fl[0]).argmax(1) == rgb[1]))
    assert [r['name'] for r in rows] == ['split 1', 'split 2', 'split 3', 'mean']
    assert [r['rgb'] for r in rows] == pytest.approx(
        rgb_top1 + [np.mean(rgb_top1)])
    assert [r['fused'] for r in rows] == pytest.approx(
        fused_top1 + [np.mean(fused_top1)])


def _load(path):
    from mmengine import load
    samples = load(str(path))
    return (np.stack([s['pred_score'].numpy() for s in samples]),
            [int(s['gt_label'][0]) for s in samples])
