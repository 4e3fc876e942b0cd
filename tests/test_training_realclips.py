"""KINet learns on the real clips: the action loss falls with online teachers."""
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

CONFIG = 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py'
ITERS = 30


@pytest.mark.slow
def test_action_loss_falls_with_online_teachers(tmp_path, real_clips):
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=ITERS, val_interval=ITERS + 1)
    cfg.param_scheduler = None
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=ITERS + 1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=6)
    cfg.log_level = 'WARNING'  # keep the init report out of the test log
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()

    history = runner.message_hub.get_scalar('train/loss_cls').data[0]
    assert len(history) == ITERS
    # Measured (seed 0): 2.32 -> 2.14 over 30 iterations from ln(10) = 2.30.
    first, last = np.mean(history[:6]), np.mean(history[-6:])
    assert last < first - 0.1, (first, last)
    for term in ('loss_human', 'loss_scene'):  # distillation terms are trained too
        values = runner.message_hub.get_scalar(f'train/{term}').data[0]
        assert np.isfinite(values).all() and values.max() > 0
