"""tools/export_deploy.py: no auxiliary heads or teachers, same predictions."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import load_checkpoint

CONFIG = 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py'


@pytest.mark.slow
def test_exported_model_predicts_like_the_full_one(tmp_path, real_clips):
    cfg = Config.fromfile(CONFIG)
    full = MODELS.build(cfg.model)
    full.init_weights()
    checkpoint = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=full.state_dict()), checkpoint)

    out = tmp_path / 'deploy'
    subprocess.run(
        [sys.executable, 'tools/export_deploy.py', CONFIG,
         str(checkpoint),
         str(out)],
        check=True)
    deployed_cfg = Config.fromfile(str(out / (Path(CONFIG).stem + '_deploy.py')))
    assert deployed_cfg.model.pseudo_label_source == 'none'
    deployed = MODELS.build(deployed_cfg.model)
    load_checkpoint(deployed, str(out / 'epoch_1_deploy.pth'), strict=True)
    assert deployed.backbone.branch_names == ('action', 'human', 'scene')
    assert all(task.head is None and task.teacher is None
               for task in deployed.knowledge.values())
    assert not list(deployed.knowledge.parameters())
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(deployed) < count(full)

    full.eval()
    deployed.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    for index in range(len(dataset)):
        batch = pseudo_collate([dataset[index]])
        with torch.no_grad():
            expected = full.test_step(batch)[0].pred_score
            scores = deployed.test_step(batch)[0].pred_score
        torch.testing.assert_close(scores, expected)


def test_deploy_config_reads_no_pseudo_labels_and_stays_headless():
    """The demo KINet's test pipeline loads cached teacher labels and its
    test_cfg scores them; the deployed config does neither (an unseen video
    has no labels), and inference keeps it without heads."""
    from kinet_mm.apis import init_kinet
    from kinet_mm.deploy import deploy_config
    cfg = Config.fromfile(
        'configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py')
    assert 'LoadPseudoLabels' in [t['type'] for t in cfg.test_pipeline]
    deployed = deploy_config(cfg)
    for pipeline in (deployed.test_pipeline, deployed.test_dataloader.dataset.pipeline,
                     deployed.val_dataloader.dataset.pipeline):
        assert 'LoadPseudoLabels' not in [t['type'] for t in pipeline]
    assert 'knowledge_agreement' not in deployed.model.test_cfg
    for key in ('val_evaluator', 'test_evaluator'):
        assert [m['type']
                for m in cfg[key]] == ['AccMetric', 'KnowledgeAgreementMetric']
        assert [m['type'] for m in deployed[key]] == ['AccMetric']
    model = init_kinet(deployed)
    assert not list(model.knowledge.parameters())
