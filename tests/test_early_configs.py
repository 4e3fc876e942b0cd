"""The early-recognition configs: paper settings and stage-1/stage-2 agreement."""
import glob

import pytest
from mmengine.config import Config

ROOT = 'configs/early_recognition/'
UCF = ROOT + 'ucf101/'


@pytest.mark.parametrize(
    'path',
    sorted(glob.glob(ROOT + 'ucf101/*.py') + glob.glob(ROOT + 'realclips/*.py')))
def test_stage2_teacher_matches_stage1_head(path):
    cfg = Config.fromfile(path)
    model = cfg.model
    if 'teacher' in path.rsplit('/', 1)[1]:
        assert model.head.bidirectional and model.head.hidden_channels == 256
        assert model.teacher is None and model.loss_ts is None
        return
    assert not model.head.get('bidirectional', False)
    assert model.head.hidden_channels == 512
    if model.get('loss_ts'):
        stage1 = Config.fromfile(
            path.replace('gru512-kd',
                         'bigru256-teacher').replace('gru512-ts', 'bigru256-teacher'))
        # The student stage's teacher must load stage 1's head weights.
        assert model.teacher.to_dict() == stage1.model.head.to_dict()
        assert model.teacher_checkpoint.endswith(stage1.filename.rsplit('/', 1)[1][:-3])


def test_ucf101_protocol_and_paper_weights():
    cfg = Config.fromfile(UCF + 'gru512-kd_tsm-features_ucf101.py')
    assert cfg.train_dataloader.dataset.groups == (1, 15)
    assert cfg.val_dataloader.dataset.groups == (16, 18)
    assert cfg.test_dataloader.dataset.groups == (19, 25)
    assert cfg.model.loss_ts.loss_weight == 0.5  # alpha, UCF-101
    assert cfg.model.loss_self.loss_weight == 0.5  # beta, UCF-101
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    semi = Config.fromfile(UCF + 'gru512-kd_semi10pct_tsm-features_ucf101.py')
    assert semi.train_dataloader.dataset.labelled_fraction == 0.1
    assert semi.val_dataloader.dataset.get('labelled_fraction', 1.0) == 1.0
    ablation = Config.fromfile(UCF + 'gru512-ts_tsm-features_ucf101.py')
    assert ablation.model.loss_self is None and ablation.model.loss_ts


def test_tsm_feature_config_feeds_each_part_as_one_tsm_clip():
    cfg = Config.fromfile(ROOT + 'features/tsm_r50_k400_ucf101_progression10.py')
    settings = cfg.segment_features
    sampler = [t for t in settings.pipeline if t.type == 'SampleFrames'][0]
    # The temporal shift mixes the frames of one clip: one clip per part.
    assert cfg.model.backbone.num_segments == settings.frames_per_level == 8
    assert sampler.num_clips == settings.num_levels * 8 and sampler.test_mode
    assert cfg.model.backbone.pretrained is None  # no download at run time
