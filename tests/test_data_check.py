"""Annotation files are checked before training (CheckedVideoDataset)."""
import os
import shutil
from pathlib import Path

import pytest
from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from kinet_mm.datasets import CheckedVideoDataset
from kinet_mm.datasets.annotation_check import AnnotationError

REPO = Path(__file__).resolve().parents[1]
TSN_CONFIG = REPO / 'configs/tsn/tsn_r50_1x1x3_realclips-cpu.py'


def write(path: Path, lines) -> Path:
    path.write_text(''.join(f'{line}\n' for line in lines))
    return path


@pytest.fixture
def videos(real_clips, tmp_path):
    """A video folder: two real clips, and one file of random bytes."""
    folder = tmp_path / 'videos'
    folder.mkdir()
    for name in ('arm_wrestling.mp4', 'cleaning_pool.mp4'):
        shutil.copy(real_clips / 'videos' / name, folder / name)
    (folder / 'corrupt.mp4').write_bytes(os.urandom(4096))
    return folder


def build(ann_file: Path, videos: Path, **kwargs):
    cfg = dict(
        type='CheckedVideoDataset',
        ann_file=str(ann_file),
        data_prefix=dict(video=str(videos)),
        pipeline=[])
    cfg.update(dict(num_classes=10), **kwargs)
    with DefaultScope.overwrite_default_scope('mmaction'):
        return DATASETS.build(cfg)


def test_every_bad_line_is_named_with_file_and_line(videos, tmp_path):
    ann = write(
        tmp_path / 'train.txt',
        [
            'arm_wrestling.mp4 3',  # 1 fine
            'cleaning_pool.mp4 17',  # 2 label too large
            'arm_wrestling.mp4 -1',  # 3 negative label
            'cleaning_pool.mp4',  # 4 no label
            'arm_wrestling.mp4 three',  # 5 not an integer
            '',  # 6 empty
            'arm_wrestling.mp4  4',  # 7 two delimiters: VideoDataset breaks
            'missing.mp4 2',  # 8 no such file
            'arm_wrestling.mp4 1 2',  # 9 two labels, single-label dataset
            'cleaning_pool.mp4 10',  # 10 == num_classes
        ])
    with pytest.raises(AnnotationError) as err:
        build(ann, videos)
    message = str(err.value)
    expected = {
        2: 'label 17',
        3: 'label -1',
        4: 'no label',
        5: 'not an integer',
        6: 'empty line',
        7: 'empty field',
        8: 'does not exist',
        9: '2 labels',
        10: 'label 10'
    }
    reported = {}
    for line in message.splitlines()[1:]:
        where, _, what = line.partition(': ')
        path, _, lineno = where.rpartition(':')
        assert path == str(ann)
        reported[int(lineno)] = what
    assert sorted(reported) == sorted(expected)
    for lineno, fragment in expected.items():
        assert fragment in reported[lineno], (lineno, reported[lineno])
    assert 'outside [0, 10)' in reported[2]
    assert f'{videos}/missing.mp4' in reported[8]
    assert message.startswith(f'CheckedVideoDataset: 9 problem(s) in {ann}')


def test_clean_file_builds_the_same_data_list_as_video_dataset(real_clips):
    kwargs = dict(
        ann_file=str(real_clips / 'train.txt'),
        data_prefix=dict(video=str(real_clips / 'videos')),
        pipeline=[])
    checked = CheckedVideoDataset(
        metainfo=dict(classes=str(real_clips / 'classes.txt')), **kwargs)
    plain = VideoDataset(**kwargs)
    assert len(checked) == len(plain) == 12
    assert [checked.get_data_info(i) for i in range(12)] == \
        [plain.get_data_info(i) for i in range(12)]


def test_num_classes_comes_from_metainfo_classes(videos, tmp_path):
    ann = write(tmp_path / 'ann.txt', ['arm_wrestling.mp4 2'])
    classes = write(tmp_path / 'classes.txt', ['a', 'b'])
    with pytest.raises(AnnotationError, match=r'label 2 .* outside \[0, 2\)'):
        build(ann, videos, metainfo=dict(classes=str(classes)), num_classes=None)
    with pytest.raises(AnnotationError, match='set `num_classes`'):
        build(ann, videos, num_classes=None)


def test_multi_class_lines_may_hold_several_labels(videos, tmp_path):
    ann = write(tmp_path / 'ann.txt',
                ['arm_wrestling.mp4 1 2 9', 'cleaning_pool.mp4 0 12'])
    with pytest.raises(AnnotationError) as err:
        build(ann, videos, multi_class=True)
    assert f'{ann}:2: label 12' in str(err.value)
    assert f'{ann}:1:' not in str(err.value)


def test_check_videos_reuses_mmaction_check_videos(videos, tmp_path):
    ann = write(tmp_path / 'ann.txt',
                ['arm_wrestling.mp4 1', 'corrupt.mp4 2', 'cleaning_pool.mp4 3'])
    build(ann, videos)  # the files exist: enough without decoding
    with pytest.raises(AnnotationError) as err:
        build(ann, videos, check_videos=True)
    lines = str(err.value).splitlines()[1:]
    assert lines == [
        f"{ann}:2: video file '{videos}/corrupt.mp4' cannot be decoded with "
        'Decord (MMAction2 tools/analysis_tools/check_videos.py)'
    ]
    # The transform comes from MMAction2's script, not from kinet_mm.
    from mmaction.registry import TRANSFORMS
    assert TRANSFORMS.get('RandomSampleFrames').__module__ == \
        'mmaction_tools_check_videos'


@pytest.mark.slow
def test_bad_labels_stop_training_before_the_first_step(videos, tmp_path, monkeypatch):
    ann = write(tmp_path / 'train.txt', ['arm_wrestling.mp4 1', 'cleaning_pool.mp4 17'])
    cfg = Config.fromfile(str(TSN_CONFIG))
    cfg.work_dir = str(tmp_path / 'work_dir')
    cfg.train_dataloader.dataset.ann_file = str(ann)
    cfg.train_dataloader.dataset.data_prefix.video = str(videos)
    cfg.train_dataloader.num_workers = 0
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    steps = []
    monkeypatch.setattr(runner.model, 'train_step', lambda *a, **k: steps.append(1))
    with pytest.raises(AnnotationError, match=f'{ann}:2: label 17'):
        runner.train()
    assert steps == []


def test_rawframe_lines_and_frame_directories(tmp_path):
    frames = tmp_path / 'rawframes'
    (frames / 'clip_a').mkdir(parents=True)
    ann = write(
        tmp_path / 'ann.txt',
        [
            'clip_a 30 4',  # 1 fine
            'clip_b 30 4',  # 2 no such directory
            'clip_a 30',  # 3 no label (the 30 is the frame count)
            'clip_a -5 1',  # 4 negative frame count
            'clip_a 30 11',  # 5 label too large
        ])
    cfg = dict(
        type='CheckedRawframeDataset',
        ann_file=str(ann),
        data_prefix=dict(img=str(frames)),
        pipeline=[],
        num_classes=10)
    with DefaultScope.overwrite_default_scope('mmaction'):
        with pytest.raises(AnnotationError) as err:
            DATASETS.build(cfg)
    reported = [line.split(': ', 1) for line in str(err.value).splitlines()[1:]]
    assert [where for where, _ in reported] == [f'{ann}:{n}' for n in (2, 3, 4, 5)]
    assert 'frame directory' in reported[0][1]
    assert 'no label' in reported[1][1]
    assert 'negative frame count' in reported[2][1]
    assert 'label 11' in reported[3][1]
    # With an offset column, "clip_a 30" lacks both frame count and label.
    write(ann, ['clip_a 0 30 4', 'clip_a 30 4'])
    with DefaultScope.overwrite_default_scope('mmaction'):
        with pytest.raises(AnnotationError, match=f'{ann}:2: no label'):
            DATASETS.build(dict(cfg, with_offset=True))
