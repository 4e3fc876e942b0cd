"""demo/demo.py end to end on one real clip, KINet beside TSN (Figure 5).

Random-weight checkpoints of the real-clip configs: the test checks that the
script runs and writes its files, not what a trained model predicts.
"""
import json
import sys

import pytest
from fixtures import REPO_ROOT, run_command
from fixtures.checkpoints import save_random_checkpoint
from PIL import Image

from kinet_mm.visualization.panels import PANEL_INCHES

CONFIG = 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py'
# Fewer frames than the config's 8, through --cfg-options, to stay fast.
NUM_SEGS = 3


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, without the checkpoints (180 MB) once done."""
    yield tmp_path
    for path in tmp_path.glob('*.pth'):
        path.unlink()


@pytest.mark.slow
def test_demo_writes_figure5_panels(real_clips, tmp_path):
    # TSN-R18 (not R50) keeps the test fast; the structure is the same.
    tsn_config = tmp_path / 'tsn_r18.py'
    tsn_config.write_text(
        f"_base_ = '{REPO_ROOT / 'configs/tsn/tsn_r50_1x1x3_realclips-cpu.py'}'\n"
        'model = dict(backbone=dict(depth=18), cls_head=dict(in_channels=512))\n')
    kinet_ckpt = save_random_checkpoint(str(REPO_ROOT / CONFIG), tmp_path / 'k.pth')
    tsn_ckpt = save_random_checkpoint(str(tsn_config), tmp_path / 't.pth')
    video = real_clips / 'videos' / 'arm_wrestling.mp4'
    missing = tmp_path / 'missing_clip.mp4'
    out_dir = tmp_path / 'out'
    # The missing video is named and fails the run; the good one is done.
    log = run_command(
        sys.executable,
        'demo/demo.py',
        CONFIG,
        kinet_ckpt,
        video,
        missing,
        '--tsn-config',
        tsn_config,
        '--tsn-checkpoint',
        tsn_ckpt,
        '--device',
        'cpu',
        '--out-dir',
        out_dir,
        '--cfg-options',
        f'test_pipeline.1.num_clips={NUM_SEGS}',
        ok=False,
        PYTHONPATH=str(REPO_ROOT))
    assert f'video not found: {missing}' in log
    assert 'the top-5 labels with corresponding scores are' in log

    out = out_dir / 'arm_wrestling'
    summary = json.loads((out / 'result.json').read_text())
    classes = (real_clips / 'classes.txt').read_text().splitlines()
    assert len(summary['top_actions']) == 5
    for name, score in summary['top_actions']:
        assert name in classes and f'{name}: {score:.4f}' in log
    assert len(summary['frames']) == NUM_SEGS
    assert len(summary['frames'][0]['scene']['top3']) == 3
    assert 0 <= summary['frames'][0]['human']['fraction'] <= 1

    # Four panel rows (frame, student, TSN CAM, KINet CAM), a column a frame.
    with Image.open(out / 'summary.png') as png:
        assert png.size == (round(
            (PANEL_INCHES * NUM_SEGS + 1.2) * 100), round(
                (PANEL_INCHES * 4 + 1.0) * 100))
    frames = sorted((out / 'frames').glob('frame_*.png'))
    assert [f.name for f in frames] == [f'frame_{t:03d}.png' for t in range(NUM_SEGS)]
    with Image.open(out / 'arm_wrestling.gif') as gif:
        assert gif.n_frames == NUM_SEGS
        with Image.open(frames[0]) as first:
            assert gif.size == first.size
