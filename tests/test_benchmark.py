"""tools/analysis/benchmark.py on tiny models: table shape, FLOPs and params.

No timing is asserted: the timings of a shared CPU mean nothing in a test.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch.nn as nn
from mmaction.registry import MODELS

from kinet_mm.models.teachers import BaseTeacher

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'analysis' / 'benchmark.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location('kinet_benchmark', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_tool()
SETTINGS = bench.Settings(batch=1, input_size=32, warmup=1, repeats=1,
                          test_repeats=1, threads=1)


@MODELS.register_module(force=True)
class TinyBenchHumanTeacher(BaseTeacher):
    """A 1x1-conv 'human parser': a parameter and FLOPs to attribute."""

    label_space = 'bench-human'

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.freeze()

    def predict_frames(self, frames):
        return self.conv(self.normalize(frames)).argmax(dim=1)


@MODELS.register_module(force=True)
class TinyBenchSceneTeacher(BaseTeacher):
    """A linear 'scene classifier' over the mean colour."""

    label_space = 'bench-scene'

    def __init__(self, num_classes=365):
        super().__init__()
        self.fc = nn.Linear(3, num_classes)
        self.freeze()

    def predict_frames(self, frames):
        return self.fc(self.normalize(frames).mean(dim=(2, 3))).softmax(dim=1)


def tiny_kinet_config():
    """The paper config on a ResNet-18 with 5 test segments and tiny heads."""
    cfg = bench.load_config(bench.KINET_CONFIG)
    model = cfg.model
    model.backbone.backbone.depth = 18
    model.cls_head.in_channels = 512
    model.human_head.update(in_channels=512, channels=8)
    model.scene_head.in_channels = 512
    model.teachers = dict(human=dict(type='TinyBenchHumanTeacher'),
                          scene=dict(type='TinyBenchSceneTeacher'))
    model.test_cfg.num_segs = 5
    cfg.test_dataloader.dataset.pipeline[1].num_clips = 5
    return cfg


def tiny_tsn_config():
    cfg = bench.load_config(bench.TSN_CONFIG)
    cfg.model.backbone.depth = 18
    cfg.model.cls_head.in_channels = 512
    cfg.test_dataloader.dataset.pipeline[1].num_clips = 5
    return cfg


@pytest.fixture(scope='module')
def results():
    jobs = bench.default_jobs(kinet=tiny_kinet_config(), tsn=tiny_tsn_config())
    jobs = bench.select_jobs(jobs, ['kinet', 'tsn'], ['train', 'test'])
    return bench.run_jobs(jobs, SETTINGS, isolate=False)


def test_jobs_and_selection():
    jobs = bench.default_jobs()
    keys = [bench.job_key(job) for job in jobs]
    assert keys == ['kinet_online:train', 'kinet_cache:train',
                    'kinet_noaux:train', 'kinet_deploy:test', 'tsn:train',
                    'tsn:test', 'tsm:train', 'tsm:test', 'i3d:train',
                    'i3d:test']
    picked = bench.select_jobs(jobs, ['kinet'], ['train'])
    assert [job.name for job in picked] == ['kinet_online', 'kinet_cache',
                                            'kinet_noaux']
    with pytest.raises(ValueError, match='unknown models'):
        bench.select_jobs(jobs, ['c3d'], ['train'])


def test_clip_shapes_follow_each_protocol():
    def shape(path, split, size=112):
        cfg = bench.load_config(path)
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        return bench.clip_shape(pipeline, size, test=split == 'test')

    kinet = shape(bench.KINET_CONFIG, 'test')
    assert (kinet.num_clips, kinet.num_crops, kinet.size) == (25, 10, 112)
    assert kinet.sample_shape == (250, 3, 112, 112)
    assert kinet.num_views == 10
    assert shape(bench.TSM_CONFIG, 'train').sample_shape == (8, 3, 112, 112)
    i3d = shape(bench.I3D_CONFIG, 'test', 224)
    assert i3d.sample_shape == (30, 3, 32, 256, 256)  # 10 clips x ThreeCrop 256
    assert i3d.num_views == 30


def test_params_split_teachers_and_sum_numel():
    model = nn.Module()
    model.backbone = nn.Conv2d(3, 8, 3)
    model.teachers = nn.ModuleDict(dict(human=nn.Linear(4, 5)))
    counts = bench.count_params(model)
    assert counts == dict(params=3 * 8 * 9 + 8, teacher_params=4 * 5 + 5)


def test_table_rows_and_columns(results):
    assert not [r['error'] for r in results if 'error' in r]
    rows = bench.results_table(results, SETTINGS.batch)
    assert [row[0] for row in rows] == [
        'KINet-R50 full, online teachers', 'KINet-R50 full, pseudo-label cache',
        'KINet-R50, auxiliary losses off', 'KINet-R50 deploy',
        'KINet-R50 deploy, window_size=None', 'TSN-R50', 'TSN-R50']
    assert all(len(row) == len(bench.TABLE_COLUMNS) for row in rows)
    markdown = bench.markdown_table(bench.TABLE_COLUMNS, rows)
    assert markdown.count('\n') == len(rows) + 1


def test_flops_and_params_are_consistent(results):
    found = {bench.job_key(bench.Job(r['name'], '', None, r['phase'])): r
             for r in results}
    for result in results:
        assert result['flops'] > 0 and result['params'] > 0
        assert result['median_ms'] > 0 and result['peak_bytes'] >= 0
    online, cache, noaux = (found[f'kinet_{v}:train']
                            for v in ('online', 'cache', 'noaux'))
    # Only online mode has teachers; they are counted apart from the student.
    assert online['teacher_params'] > 0 and online['teacher_flops'] > 0
    assert cache['teacher_params'] == 0 and cache['teacher_flops'] == 0
    assert online['params'] == cache['params'] > noaux['params']
    # (online mode also resizes the teacher's masks: a few FLOPs more)
    assert online['flops'] == pytest.approx(cache['flops'], rel=1e-3)
    assert cache['flops'] > noaux['flops']
    # The deploy model is the student without the auxiliary heads.
    deploy = found['kinet_deploy:test']
    assert deploy['params'] == noaux['params']
    # Windows add head work only: same backbone, a little more arithmetic.
    assert 1 <= deploy['flops'] / deploy['no_window']['flops'] < 1.05

    model = bench.build_model(bench.prepare_config(tiny_tsn_config(), 'plain'),
                              'cpu')
    assert bench.count_params(model)['params'] == sum(
        p.numel() for p in model.parameters())
    assert found['tsn:train']['params'] == found['tsn:test']['params']


def test_test_flops_count_every_view():
    cfg = bench.prepare_config(tiny_tsn_config(), 'plain')
    model = bench.build_model(cfg, 'cpu').eval()
    shape = bench.clip_shape(cfg.test_dataloader.dataset.pipeline, 32, True)
    video = bench.test_flops(model, bench.make_batch(cfg, shape, 1, 'cpu'))
    shape.num_crops = 1
    view = bench.test_flops(model, bench.make_batch(cfg, shape, 1, 'cpu'))
    # The backbone runs on each of the 10 crops; TSN's head once per video.
    head = 512 * 400
    assert video['flops'] - head == 10 * (view['flops'] - head)


def test_targets(results):
    rows = bench.target_rows(results, dict(fps=None, bytes_per_frame=None))
    titles = [row[0][:3] for row in rows]
    assert titles == ['(a)'] * 3 + ['(b)'] * 2 + ['(c)'] * 2 + ['(d)'] * 2
    verdicts = [row[3] for row in rows]
    assert all(v in ('PASS', 'MISS') for v in verdicts[:4] + verdicts[5:6])
    assert verdicts[4] == verdicts[6] == 'reported'
    assert all('not available' in row[1] for row in rows[7:])
    missing = bench.target_rows(results[:1], {})
    assert missing[1][1] == 'not measured'


def test_render_report(results):
    record = dict(settings=vars(SETTINGS), results=results, command='cmd',
                  machine='cpu', time='now',
                  extraction=bench.extraction_stats())
    section = bench.render_report(record)
    assert section.startswith(bench.BEGIN_MARK)
    assert section.endswith(bench.END_MARK)
    for header in (bench.TABLE_COLUMNS, bench.TARGET_COLUMNS):
        assert '| ' + ' | '.join(header) + ' |' in section


def test_extraction_stats(tmp_path):
    log = tmp_path / 'extract.log'
    log.write_text('... - INFO - extracted 3 videos (900 frames, 12.5 frames/s '
                   'over 1 process(es)), skipped 0 finished, failed 0\n')
    cache = tmp_path / 'cache'
    cache.mkdir()
    np.savez_compressed(cache / 'a.npz', frame_inds=np.arange(4))
    np.savez_compressed(cache / 'b.npz', frame_inds=np.arange(6))
    size = sum(f.stat().st_size for f in cache.glob('*.npz'))
    stats = bench.extraction_stats(str(log), str(cache))
    assert stats['fps'] == 12.5
    assert stats['bytes_per_frame'] == pytest.approx(size / 10)
    doc = tmp_path / 'pseudo_labels.md'
    doc.write_text('| clip | bytes / frame |\n| all | 927 | **67** |\n\n'
                   'Throughput: 2.9 frames/s on 2 CPUs\n')
    stats = bench.extraction_stats(doc=str(doc))
    assert (stats['fps'], stats['bytes_per_frame']) == (2.9, 67)
    assert bench.extraction_stats()['fps'] is None


def test_write_report_keeps_the_hand_written_text(tmp_path):
    path = tmp_path / 'benchmark.md'
    bench.write_report(str(path), f'{bench.BEGIN_MARK}\nold\n{bench.END_MARK}')
    path.write_text(path.read_text() + '\n## Interpretation\nkept\n')
    bench.write_report(str(path), f'{bench.BEGIN_MARK}\nnew\n{bench.END_MARK}')
    text = path.read_text()
    assert 'new' in text and 'old' not in text and 'kept' in text


def test_isolated_job_runs_in_a_child_process():
    job = bench.Job('tsn', 'TSN-R50', tiny_tsn_config(), 'train')
    result = bench.run_isolated(bench.run_job, job, SETTINGS)
    assert result['params'] > 0 and result['peak_bytes'] > 0
    failing = bench.Job('tsn', 'TSN-R50', tiny_tsn_config(), 'train', 'nope')
    with pytest.raises(ChildProcessError, match='unknown variant'):
        bench.run_isolated(bench.run_job, failing, SETTINGS)
