"""The real-clip baseline trains, resumes and tests through every entry point.

Entry points: our ``tools/train.py`` / ``tools/test.py``, the ``tools/train.py``
shipped in MMAction2's wheel (``mmaction/.mim/tools/train.py``), and
``mim train mmaction``. The last two import kinet_mm only through the config's
``custom_imports``; without it they could neither build the model (``import
mmaction.models`` fails) nor resume (weights-only loading refuses the
checkpoint). Each run trains one epoch, then resumes for a second one.
"""
import os
import os.path as osp
import pickle
import re
import sys
from pathlib import Path

import mmaction
import pytest
from fixtures import REPO_ROOT, run_command
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import CheckpointLoader

import kinet_mm  # noqa: F401  (weights-only loading of Runner checkpoints)
from kinet_mm.compat import VideoReadError
from kinet_mm.datasets.annotation_check import AnnotationError

CONFIG = 'configs/tsn/tsn_r50_1x1x3_realclips-cpu.py'
MMACTION_TRAIN = Path(mmaction.__file__).parent / '.mim' / 'tools' / 'train.py'
MIM = Path(sys.executable).parent / 'mim'
# Smaller runs of the same config (model, pipelines, schedule): 4 training
# clips in batches of 2, so 2 iterations an epoch, and 2 validation clips.
SMALL = [
    'train_dataloader.dataset.indices=4', 'train_dataloader.batch_size=2',
    'val_dataloader.dataset.indices=2'
]
ITERS_PER_EPOCH = 2


@pytest.fixture(scope='module', autouse=True)
def real_clips():
    """Fail clearly, not deep in a Runner, when the clips are not there."""
    # The config's default; KINET_SHARED may be absolute or relative to REPO_ROOT.
    root = REPO_ROOT / os.environ.get('KINET_SHARED', '../shared') / 'data/real_clips'
    assert (root / 'train.txt').is_file(), (
        f'no real clips in {root}: set KINET_SHARED to the shared folder')


def trained_epochs(log: str) -> set:
    """The epochs a training log reports iterations of."""
    return {int(e) for e in re.findall(r'Epoch\(train\)\s*\[(\d+)\]', log)}


def load_meta(checkpoint: Path) -> dict:
    # Plain torch.load(weights_only=True) inside, allowed by kinet_mm.compat.
    return CheckpointLoader.load_checkpoint(str(checkpoint))['meta']


def check_train_then_resume(train_cmd: list, work_dir: Path, resume_args: list) -> str:
    """Train one epoch, resume with ``resume_args`` and train the second.

    Returns the log of the first run.
    """
    first_log = run_command(*train_cmd, '--work-dir', work_dir, '--cfg-options',
                            'train_cfg.max_epochs=1', *SMALL)
    assert trained_epochs(first_log) == {1}
    assert load_meta(work_dir / 'epoch_1.pth')['iter'] == ITERS_PER_EPOCH

    resumed_log = run_command(*train_cmd, '--work-dir', work_dir, *resume_args,
                              '--cfg-options', 'train_cfg.max_epochs=2', *SMALL)
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in resumed_log
    assert trained_epochs(resumed_log) == {2}  # epoch 1 is not trained again
    meta = load_meta(work_dir / 'epoch_2.pth')
    assert (meta['epoch'], meta['iter']) == (2, 2 * ITERS_PER_EPOCH)
    return first_log


@pytest.fixture
def work_dir(tmp_path):
    """A work dir whose checkpoints (190 MB each) go once the test is done."""
    path = tmp_path / 'work_dir'
    yield path
    for checkpoint in path.glob('*.pth'):
        checkpoint.unlink()


@pytest.mark.slow
def test_our_tools_train_resume_and_test(work_dir, tmp_path):
    check_train_then_resume([sys.executable, 'tools/train.py', CONFIG],
                            work_dir,
                            resume_args=['--resume', work_dir / 'epoch_1.pth'])
    meta = load_meta(work_dir / 'epoch_2.pth')
    assert meta['dataset_meta']['classes'][:2] == ['waving hand', 'using segway']

    dump = tmp_path / 'predictions.pkl'
    log = run_command(sys.executable, 'tools/test.py', CONFIG, work_dir / 'epoch_2.pth',
                      '--work-dir', tmp_path / 'test', '--dump', dump)
    assert re.search(r'acc/top1: \d', log)
    with open(dump, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4  # val.txt
    assert all(p['pred_score'].shape == (10, ) for p in predictions)


@pytest.mark.slow
def test_mmaction_train_tool_train_and_resume(work_dir):
    # Without a path, --resume takes the latest checkpoint of the work dir.
    check_train_then_resume([sys.executable, MMACTION_TRAIN, CONFIG],
                            work_dir,
                            resume_args=['--resume'])


@pytest.mark.slow
def test_mim_train_and_resume(work_dir):
    log = check_train_then_resume([MIM, 'train', 'mmaction', CONFIG],
                                  work_dir,
                                  resume_args=['--resume', work_dir / 'epoch_1.pth'])
    # mim runs the train.py of MMAction2's wheel.
    assert f'Training command is {sys.executable} {MMACTION_TRAIN}' in log


def test_data_root_follows_kinet_shared(monkeypatch):
    monkeypatch.setenv('KINET_SHARED', '/elsewhere/shared')
    cfg = Config.fromfile(REPO_ROOT / CONFIG)
    dataset = cfg.train_dataloader.dataset
    assert dataset.ann_file == '/elsewhere/shared/data/real_clips/train.txt'
    assert dataset.data_prefix.video == '/elsewhere/shared/data/real_clips/videos'


# -- bad input: the error names the file --------------------------------------


@pytest.fixture
def bad_videos(tmp_path):
    """An annotation file whose first video is missing, or corrupt."""
    (tmp_path / 'corrupt_clip.mp4').write_bytes(os.urandom(4096))

    def write_annotations(video: str) -> Path:
        ann_file = tmp_path / f'{video}.txt'
        ann_file.write_text(f'{video} 0\n')
        return ann_file

    return write_annotations


def test_bad_video_error_names_file(bad_videos, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    dataset_cfg = Config.fromfile(CONFIG).test_dataloader.dataset

    def build(video):
        ann_file = bad_videos(video)
        dataset_cfg.update(
            ann_file=str(ann_file), data_prefix=dict(video=str(ann_file.parent)))
        with DefaultScope.overwrite_default_scope('mmaction'):
            return DATASETS.build(dataset_cfg), ann_file

    # A missing video: the dataset's annotation check names it when built.
    with pytest.raises(
            AnnotationError,
            match=re.escape(
                f"missing_clip.mp4.txt:1: video file "
                f"'{osp.join(bad_videos('x').parent, 'missing_clip.mp4')}'")):
        build('missing_clip.mp4')
    # A corrupt one exists: decoding it names it.
    dataset, ann_file = build('corrupt_clip.mp4')
    with pytest.raises(
            VideoReadError,
            match=re.escape(osp.join(ann_file.parent, 'corrupt_clip.mp4'))):
        dataset[0]


@pytest.mark.slow
def test_bad_video_fails_training_naming_file(bad_videos):
    ann_file = bad_videos('corrupt_clip.mp4')
    log = run_command(
        sys.executable,
        'tools/train.py',
        CONFIG,
        '--no-validate',
        '--work-dir',
        ann_file.parent / 'work_dir',
        '--cfg-options',
        f'train_dataloader.dataset.ann_file={ann_file}',
        f'train_dataloader.dataset.data_prefix.video={ann_file.parent}',
        'train_dataloader.batch_size=1',
        ok=False)
    assert 'VideoReadError' in log
    assert f'decord cannot read video {ann_file.parent}/corrupt_clip.mp4' in log
