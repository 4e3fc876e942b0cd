"""kinet_mm.analysis (the benchmark) on tiny models: tables, FLOPs, params.

No timing is asserted: the timings of a shared CPU mean nothing in a test.
"""
import sys

import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import numpy as np
import pytest
import torch
import torch.nn as nn
from fixtures import REPO_ROOT, run_command
from fixtures.pseudo_labels import META, random_entry
from mmengine.analysis import FlopAnalyzer

from kinet_mm.analysis import benchmark as bench
from kinet_mm.analysis import complexity, inputs, measure, report
from kinet_mm.pseudo_labels import PseudoLabelCache
from kinet_mm.pseudo_labels.extractor import ExtractionSettings, write_stats

KINET_CONFIG = str(REPO_ROOT / 'configs/kinet/'
                   'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py')
TSN_CONFIG = ('mmaction::recognition/tsn/'
              'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
TSM_CONFIG = ('mmaction::recognition/tsm/'
              'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py')
I3D_CONFIG = ('mmaction::recognition/i3d/'
              'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py')
SETTINGS = bench.Settings(
    batch=1, input_size=32, warmup=1, repeats=1, test_repeats=1, threads=1)


def tiny_kinet_config():
    """The paper config on a ResNet-18 with 5 test segments and tiny heads."""
    cfg = bench.load_config(KINET_CONFIG)
    model = cfg.model
    model.backbone.backbone.depth = 18
    model.cls_head.in_channels = 512
    model.knowledge.human.head.update(in_channels=512, channels=8)
    model.knowledge.human.teacher = dict(type='_TestBrightnessHumanTeacher')
    model.knowledge.scene.head.in_channels = 512
    model.knowledge.scene.teacher = dict(type='_TestColorHistSceneTeacher')
    model.test_cfg.num_segs = 5
    cfg.test_dataloader.dataset.pipeline[1].num_clips = 5
    return cfg


def tiny_tsn_config():
    cfg = bench.load_config(TSN_CONFIG)
    cfg.model.backbone.depth = 18
    cfg.model.cls_head.in_channels = 512
    cfg.test_dataloader.dataset.pipeline[1].num_clips = 5
    return cfg


@pytest.fixture(scope='module')
def results():
    jobs = bench.comparison_jobs(kinet=tiny_kinet_config(), tsn=tiny_tsn_config())
    return bench.run_jobs(jobs, SETTINGS, isolate=False)


def test_jobs_and_selection():
    jobs = bench.comparison_jobs(KINET_CONFIG, TSN_CONFIG, TSM_CONFIG, I3D_CONFIG)
    keys = [bench.job_key(job) for job in jobs]
    assert keys == [
        'kinet_online:train', 'kinet_cache:train', 'kinet_noaux:train',
        'kinet_deploy:test', 'tsn:train', 'tsn:test', 'tsm:train', 'tsm:test',
        'i3d:train', 'i3d:test'
    ]
    picked = bench.select_jobs(jobs, ['kinet'], ['train'])
    assert [job.name
            for job in picked] == ['kinet_online', 'kinet_cache', 'kinet_noaux']
    with pytest.raises(ValueError, match='unknown models'):
        bench.select_jobs(jobs, ['c3d'], ['train'])
    # The tool's model list is this one, on the repository's configs.
    listed = run_command(sys.executable, 'tools/analysis/benchmark.py', '--list',
                         '--preset', 'cpu-224').splitlines()
    assert [line.split()[0] for line in listed
            if ':train ' in line] == [key for key in keys if key.endswith(':train')]


def test_clip_shapes_follow_each_protocol():

    def shape(path, split, size=112):
        cfg = bench.load_config(path)
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        return inputs.clip_shape(pipeline, size, test=split == 'test')

    kinet = shape(KINET_CONFIG, 'test')
    assert (kinet.num_clips, kinet.num_crops, kinet.size) == (25, 10, 112)
    assert kinet.sample_shape == (250, 3, 112, 112)
    assert kinet.num_views == 10
    assert shape(TSM_CONFIG, 'train').sample_shape == (8, 3, 112, 112)
    i3d = shape(I3D_CONFIG, 'test', 224)
    assert i3d.sample_shape == (30, 3, 32, 256, 256)  # 10 clips x ThreeCrop 256
    assert i3d.num_views == 30


def test_params_split_teachers_and_sum_numel():
    model = nn.Module()
    model.backbone = nn.Conv2d(3, 8, 3)
    model.labeler = nn.ModuleDict(
        dict(human=fixtures.teachers.BrightnessHumanTeacher()))
    model.branch = nn.Module()  # a teacher nested deeper counts once, too
    model.branch.teacher = fixtures.teachers.BrightnessHumanTeacher()
    counts = measure.count_params(model)
    teacher = 3 + 1 + 2  # brightness conv + BN affine
    assert counts == dict(params=3 * 8 * 9 + 8, teacher_params=2 * teacher)


@pytest.mark.slow
def test_table_rows_and_columns(results):
    assert not [r['error'] for r in results if 'error' in r]
    rows = report.results_table(results, SETTINGS.batch)
    assert [row[0] for row in rows] == [
        'KINet-R50 full, online teachers', 'KINet-R50 full, pseudo-label cache',
        'KINet-R50, auxiliary losses off', 'KINet-R50 deploy',
        'KINet-R50 deploy, window_size=None', 'TSN-R50', 'TSN-R50'
    ]
    assert all(len(row) == len(report.TABLE_COLUMNS) for row in rows)
    markdown = report.markdown_table(report.TABLE_COLUMNS, rows)
    assert markdown.count('\n') == len(rows) + 1


@pytest.mark.slow
def test_flops_and_params_are_consistent(results):
    found = {
        bench.job_key(bench.Job(r['name'], '', None, r['phase'])): r
        for r in results
    }
    for result in results:
        assert result['flops'] > 0 and result['params'] > 0
        assert result['median_ms'] > 0 and result['peak_bytes'] >= 0
    online, cache, noaux = (
        found[f'kinet_{v}:train'] for v in ('online', 'cache', 'noaux'))
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

    model = bench.build_model(bench.prepare_config(tiny_tsn_config(), 'plain'), 'cpu')
    assert measure.count_params(model)['params'] == sum(p.numel()
                                                        for p in model.parameters())
    assert found['tsn:train']['params'] == found['tsn:test']['params']


def test_test_flops_count_every_view():
    cfg = bench.prepare_config(tiny_tsn_config(), 'plain')
    model = bench.build_model(cfg, 'cpu').eval()
    shape = inputs.clip_shape(cfg.test_dataloader.dataset.pipeline, 32, True)
    video = measure.test_flops(model, inputs.make_batch(cfg, shape, 1, 'cpu'))
    shape.num_crops = 1
    view = measure.test_flops(model, inputs.make_batch(cfg, shape, 1, 'cpu'))
    # The backbone runs on each of the 10 crops; TSN's head once per video.
    head = 512 * 400
    assert video['flops'] - head == 10 * (view['flops'] - head)


@pytest.mark.slow
def test_targets(results):
    rows = report.target_rows(results, None)
    titles = [row[0][:3] for row in rows]
    assert titles == ['(a)'] * 3 + ['(b)'] * 2 + ['(c)'] * 2 + ['(d)'] * 2
    verdicts = [row[3] for row in rows]
    assert all(v in ('PASS', 'MISS') for v in verdicts[:4] + verdicts[5:6])
    assert verdicts[4] == verdicts[6] == 'reported'
    assert all('not available' in row[1] for row in rows[7:])
    missing = report.target_rows(results[:1], {})
    assert missing[1][1] == 'not measured'
    # Each row's numbers are its jobs' ratio, checked against the limit.
    found = {
        bench.job_key(bench.Job(r['name'], '', None, r['phase'])): r
        for r in results
    }
    cache, tsn = found['kinet_cache:train'], found['tsn:train']
    ratio = cache['median_ms'] / tsn['median_ms']
    limit = 1.1 * report.step_flops(cache) / report.step_flops(tsn)
    assert rows[1][1].startswith(f'{ratio:.3f} ')
    assert rows[1][2].endswith(f'= {limit:.3f}')
    assert rows[1][3] == ('PASS' if ratio <= limit else 'MISS')


@pytest.mark.slow
def test_render_report(results):
    record = dict(
        settings=vars(SETTINGS),
        results=results,
        command='cmd',
        machine='cpu',
        time='now',
        extraction=None)
    section = report.render_report(record)
    assert section.startswith(report.BEGIN_MARK)
    assert section.endswith(report.END_MARK)
    for header in (report.TABLE_COLUMNS, report.TARGET_COLUMNS):
        assert '| ' + ' | '.join(header) + ' |' in section


def test_extraction_stats_come_from_the_cache(tmp_path):
    """(d) reads what the extractor recorded, not prose."""
    cache = PseudoLabelCache.create(str(tmp_path), META)
    for key, frames in (('a.mp4', 4), ('b.mp4', 6)):
        cache.write(
            key,
            random_entry(np.random.default_rng(frames), num_frames=frames, stride=1))
    size = sum(f.stat().st_size for f in tmp_path.glob('*.npz'))
    totals = dict(
        done=2, skipped=0, frames=10, failed=[], seconds=0.8, world_size=1, fps=12.5)
    write_stats(str(tmp_path), totals, ExtractionSettings())
    stats = bench.extraction_stats(str(tmp_path))
    assert stats['fps'] == 12.5
    assert stats['bytes_per_frame'] == pytest.approx(size / 10)
    rows = report.target_rows([], stats)
    assert rows[-2][1].startswith('12.5 (from ') and rows[-1][1].startswith(
        f'{size / 10:.0f} (from ')
    # A resumed run that extracted nothing keeps the measured throughput.
    write_stats(
        str(tmp_path), dict(totals, done=0, frames=0, fps=None), ExtractionSettings())
    assert bench.extraction_stats(str(tmp_path))['fps'] == 12.5
    assert bench.extraction_stats(str(tmp_path / 'none')) is None


def test_write_report_keeps_the_hand_written_text(tmp_path):
    path = tmp_path / 'benchmark.md'
    report.write_report(str(path), f'{report.BEGIN_MARK}\nold\n{report.END_MARK}')
    path.write_text(path.read_text() + '\n## Interpretation\nkept\n')
    report.write_report(str(path), f'{report.BEGIN_MARK}\nnew\n{report.END_MARK}')
    text = path.read_text()
    assert 'new' in text and 'old' not in text and 'kept' in text


@pytest.mark.slow
def test_isolated_job_runs_in_a_child_process():
    job = bench.Job('tsn', 'TSN-R50', tiny_tsn_config(), 'train')
    result = measure.run_isolated(bench.run_job, job, SETTINGS)
    assert result['params'] > 0 and result['peak_bytes'] > 0
    failing = bench.Job('tsn', 'TSN-R50', tiny_tsn_config(), 'train', 'nope')
    with pytest.raises(ChildProcessError, match='unknown variant'):
        measure.run_isolated(bench.run_job, failing, SETTINGS)


def test_complexity_table_decomposes_kinet_into_tsn_plus_branches(tmp_path):
    """KINet's backbone = TSN's + two copies of res4/res5 + the CBIs; the
    deployed model drops exactly the auxiliary heads."""
    size = 32
    kinet_cfg, tsn_cfg = tiny_kinet_config(), tiny_tsn_config()
    kinet = complexity.measure_config(kinet_cfg, (3, size, size))
    tsn = complexity.measure_config(tsn_cfg, (3, size, size))
    frame = torch.zeros(1, 3, size, size)
    tsn_model = bench.build_model(bench.prepare_config(tsn_cfg, 'plain'), 'cpu')
    kinet_model = bench.build_model(bench.prepare_config(kinet_cfg, 'cache'), 'cpu')
    tsn_model.eval(), kinet_model.eval()
    tsn_by = FlopAnalyzer(tsn_model.backbone, frame).by_module()
    kinet_by = FlopAnalyzer(kinet_model.backbone, frame).by_module()
    expected = (
        tsn_by[''] + 2 * (tsn_by['layer3'] + tsn_by['layer4']) + kinet_by['cbis'])
    assert kinet['gflops'] * 1e9 == pytest.approx(expected)
    assert tsn['gflops'] * 1e9 == pytest.approx(tsn_by[''])
    aux = sum(p.numel() for p in kinet_model.knowledge.parameters())
    all_params = sum(p.numel() for p in kinet_model.parameters())
    assert kinet['train_params'] * 1e6 == pytest.approx(all_params)
    assert kinet['deploy_params'] * 1e6 == pytest.approx(all_params - aux)
    assert tsn['train_params'] == tsn['deploy_params']
    rows = [
        complexity.ComplexityRow('R18', 'TSN', 'tsn.py', (3, size, size)),
        complexity.ComplexityRow(
            'R18', 'KINet', 'kinet.py', (3, size, size), paper_top1=72.4)
    ]
    section = complexity.render_complexity(rows, 'cmd', {
        'tsn.py': tsn,
        'kinet.py': kinet
    })
    assert '| R18 | KINet | (3, 32, 32) |' in section
    assert '72.4 (reported)' in section
    # Its own markers: the benchmark's section in the same file survives.
    path = tmp_path / 'benchmark.md'
    report.write_report(str(path), f'{report.BEGIN_MARK}\nrun\n{report.END_MARK}')
    report.write_report(str(path), section)
    report.write_report(str(path), section.replace('R18', 'R34'))
    text = path.read_text()
    assert 'run' in text and '| R34 |' in text and '| R18 |' not in text
