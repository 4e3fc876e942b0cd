"""ValidateBeforeTrainHook: epoch 0 is validated on the initialised weights."""
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import METRICS
from mmengine.runner import Runner
from torch import nn

import kinet_mm  # noqa: F401 (registers the hook)


class _Line(BaseModel):

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def init_weights(self):
        self.weight.data.fill_(5.0)  # what the hook must see at epoch 0

    def forward(self, inputs, labels=None, mode='tensor'):
        if mode == 'loss':
            return dict(loss=((self.weight * inputs - labels)**2).mean())
        return [float(self.weight)] * len(inputs)


@METRICS.register_module(name='_WeightSeen', force=True)
class _WeightSeen(BaseMetric):
    seen = []

    def process(self, data_batch, data_samples):
        self.results.append(data_samples[0])

    def compute_metrics(self, results):
        _WeightSeen.seen.append(results[0])
        return dict(weight=results[0])


def _runner(tmp_path, hooks, **kwargs):
    data = [dict(inputs=torch.ones(1), labels=torch.ones(1))] * 4
    loader = dict(
        dataset=data,
        batch_size=2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'))
    return Runner(
        model=_Line(),
        work_dir=str(tmp_path),
        train_dataloader=loader,
        val_dataloader=loader,
        val_evaluator=dict(type='_WeightSeen'),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        custom_hooks=hooks,
        default_hooks=dict(logger=None),
        **kwargs)


def test_validates_the_initialised_weights_once_before_training(tmp_path):
    _WeightSeen.seen = []
    _runner(tmp_path / 'plain', []).train()
    assert len(_WeightSeen.seen) == 1  # MMEngine alone: after epoch 1 only

    _WeightSeen.seen = []
    runner = _runner(tmp_path / 'hook', [dict(type='ValidateBeforeTrainHook')])
    runner.train()
    assert _WeightSeen.seen[0] == 5.0  # init_weights ran, no step yet
    assert len(_WeightSeen.seen) == 2 and _WeightSeen.seen[1] < 5.0

    # A resumed run does not validate its starting point again.
    _WeightSeen.seen = []
    resumed = _runner(
        tmp_path / 'hook', [dict(type='ValidateBeforeTrainHook')], resume=True)
    resumed.train_loop._max_epochs = 2
    resumed.train()
    assert len(_WeightSeen.seen) == 1
