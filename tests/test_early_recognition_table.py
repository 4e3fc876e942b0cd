"""Two-stage orchestration of the proxy table on synthetic real-clip features."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from kinet_mm.experiments import markdown_table, run_table
from kinet_mm.features import SegmentFeatureCache, SegmentFeatures

DIM = 8
REAL = 'configs/early_recognition/realclips/'


def _separable_cache(root, real_clips):
    """Class-prototype features (growing over levels) for the 16 real clips."""
    cache = SegmentFeatureCache.create(
        str(root), dict(num_levels=10, feature_dim=DIM, source=dict(model='synthetic')))
    rng = np.random.default_rng(0)
    protos = rng.normal(size=(10, DIM))
    for line in (real_clips / 'all.txt').read_text().splitlines():
        key, label = line.split()
        ramp = np.linspace(0.2, 1.0, 10)[:, None]
        feats = ramp * protos[int(label)] + 0.3 * rng.normal(size=(10, DIM))
        cache.write(key, SegmentFeatures(feats, np.zeros((10, 1)), 10))


@pytest.mark.slow
def test_teacher_then_students_table(tmp_path, real_clips):
    torch.set_num_threads(1)
    _separable_cache(tmp_path / 'feats', real_clips)
    epochs = 10
    spec = Config(
        dict(
            features=[dict(key='syn', name='synthetic', cache=str(tmp_path / 'feats'))],
            teachers=dict(full=REAL + 'bigru256-teacher_realclips.py'),
            rows=[
                dict(
                    key='baseline',
                    name='Without distillation',
                    data='100%',
                    config=REAL + 'gru512-baseline_realclips.py'),
                dict(
                    key='kd',
                    name='With distillation',
                    data='100%',
                    teacher='full',
                    config=REAL + 'gru512-kd_realclips.py'),
            ],
            seeds=[0],
            fit_column=True,
            cfg_options={
                'train_cfg.max_epochs': epochs,
                'train_cfg.val_begin': epochs,
                'train_cfg.val_interval': epochs,
                'optim_wrapper.optimizer.lr': 0.1
            }))
    results = run_table(spec, str(tmp_path / 'work'),
                        MMLogger.get_instance('test_early_table'))
    assert [r['row'] for r in results
            ] == ['Teacher (full)', 'Without distillation', 'With distillation']
    teacher = results[0]['curves'][0]
    # Separable features: the teacher learns them (held out and training set).
    assert teacher['auc'] >= 0.75 and teacher['fit_auc'] >= 0.9, teacher
    table = markdown_table(results)
    assert table.count('\n') == 2 + len(results) - 1
    assert table.splitlines()[0].endswith('| AUC | AUC on the training videos |')
    assert '| synthetic | With distillation | 100% |' in table

    # Stage 2's frozen teacher is stage 1's head, unchanged by training.
    work = tmp_path / 'work' / 'syn'
    stage1 = _last_state(work / 'teacher-full' / 'seed0')
    stage2 = _last_state(work / 'kd' / 'seed0')
    teacher_keys = [k for k in stage2 if k.startswith('teacher.')]
    assert teacher_keys
    for key in teacher_keys:
        torch.testing.assert_close(stage2[key], stage1['head.' + key[8:]])


def _last_state(work_dir):
    path = (work_dir / 'last_checkpoint').read_text().strip()
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']
