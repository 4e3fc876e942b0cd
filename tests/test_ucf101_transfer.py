"""UCF-101 transfer (paper section 4.5): load_from across action heads, configs."""
import glob
import logging

import pytest
import torch
from fixtures import REPO_ROOT
from fixtures.checkpoints import save_random_checkpoint
from mmengine.config import Config
from mmengine.runner import Runner

from kinet_mm.deploy import without_teachers
from kinet_mm.engine import CheckpointFilterHook

UCF101 = REPO_ROOT / 'configs' / 'kinet' / 'ucf101'
PROXY = UCF101 / 'kinet_r18_1x1x3_ucf101-proxy-split1_realclips-cpu.py'
CLASSIFIER = ('cls_head.fc_cls.weight', 'cls_head.fc_cls.bias')


@pytest.mark.slow
def test_load_from_400_class_checkpoint_reinitialises_only_the_classifier(
        tmp_path, real_clips):
    """Through the Runner's load_from (init, then load): every tensor but the
    action classifier comes from the Kinetics-style checkpoint, the classifier
    keeps AKGHead's fresh init, and the run's log names what was skipped."""
    checkpoint = save_random_checkpoint(
        str(PROXY), tmp_path / 'kinetics400.pth', **{'model.cls_head.num_classes': 400})
    saved = torch.load(checkpoint, weights_only=True)['state_dict']
    cfg = Config.fromfile(PROXY)
    cfg.model = without_teachers(cfg.model)
    cfg.merge_from_dict({
        'train_dataloader.dataset.ann_file':
        str(real_clips / 'train.txt'),
        'train_dataloader.dataset.data_prefix.video':
        str(real_clips / 'videos'),
        'train_dataloader.num_workers':
        0,
        'train_cfg.max_epochs':
        0,  # Runner.train(): init, load_from, no step
    })
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.work_dir, cfg.load_from = str(tmp_path / 'run'), str(checkpoint)
    runner = Runner.from_cfg(cfg)
    runner.train()

    state = runner.model.state_dict()
    assert set(state) == set(saved)
    for key in set(state) - set(CLASSIFIER):
        assert torch.equal(state[key], saved[key]), key
    weight, bias = state['cls_head.fc_cls.weight'], state['cls_head.fc_cls.bias']
    assert weight.shape == (101, 512) and saved[CLASSIFIER[0]].shape == (400, 512)
    # AKGHead's init: normal(0, init_std=0.01) weights, zero bias.
    assert torch.count_nonzero(bias) == 0
    assert 0.009 < weight.std().item() < 0.011 and abs(weight.mean()) < 1e-3
    log = open(glob.glob(f'{runner.log_dir}/*.log')[0]).read()
    assert f"loaded {len(state) - 2} of the model's {len(state)} tensors" in log
    assert ('re-initialised 2 tensors (shape differs; matches reinit): '
            'cls_head.fc_cls.weight: checkpoint (400, 512) -> model (101, 512); '
            'cls_head.fc_cls.bias: checkpoint (400,) -> model (101,)') in log


def test_filter_refuses_other_mismatches_and_reports_missing_keys():
    hook = CheckpointFilterHook(reinit=[r'^cls_head\.fc_cls\.'])
    expected = dict(
        conv=torch.zeros(8, 3),
        extra=torch.zeros(2),
        **{'cls_head.fc_cls.weight': torch.zeros(101, 8)})
    # A wrapper's 'module.' prefix is what the runner strips after the hook.
    wrong = {
        'module.conv': torch.zeros(4, 3),
        'cls_head.fc_cls.weight': torch.zeros(400, 8)
    }
    with pytest.raises(
            ValueError,
            match=r'(?s)conv: checkpoint \(4, 3\) -> model '
            r'\(8, 3\).*CheckpointFilterHook\(reinit=...\)'):
        hook.filter_state_dict(wrong, expected)
    fits = {
        'module.conv': torch.ones(8, 3),
        'unknown': torch.ones(1),
        'cls_head.fc_cls.weight': torch.zeros(400, 8)
    }
    report = hook.filter_state_dict(fits, expected)
    assert set(fits) == {'module.conv', 'unknown'}  # the classifier dropped
    assert report == [
        (logging.INFO, "loaded 1 of the model's 3 tensors"),
        (logging.INFO, 're-initialised 1 tensors (shape differs; matches '
         'reinit): cls_head.fc_cls.weight: checkpoint (400, 8) -> model '
         '(101, 8)'),
        (logging.WARNING, '1 model tensors are not in the checkpoint (kept as '
         'initialised): extra'),
        (logging.WARNING, '1 checkpoint tensors have no place in the model '
         '(ignored): unknown'),
    ]


KINET_SPLITS = [
    UCF101 / f'kinet_kinetics400-pretrained-r50_8xb32-1x1x3-80e_ucf101-split{k}-rgb.py'
    for k in (1, 2, 3)
]


def test_rgb_split_configs_are_the_transfer_recipe_on_each_split():
    kinetics = Config.fromfile(
        REPO_ROOT / 'configs/kinet/kinet_imagenet-pretrained-r50_8xb32-1x1x3-'
        '70e_kinetics400-rgb.py')
    for split, path in enumerate(KINET_SPLITS, 1):
        cfg = Config.fromfile(path)
        assert cfg.split == split
        for loader, subset in (('train', 'train'), ('val', 'val'), ('test', 'val')):
            dataset = cfg[f'{loader}_dataloader'].dataset
            assert dataset.ann_file == (
                f'data/ucf101/ucf101_{subset}_split_{split}_videos.txt')
            assert dataset.num_classes == 101
        assert cfg.model.cls_head.num_classes == 101
        assert cfg.model.backbone.partial_bn is True
        assert cfg.model.backbone.backbone.pretrained is None
        assert cfg.custom_hooks == [
            dict(type='CheckpointFilterHook', reinit=[r'^cls_head\.fc_cls\.'])
        ]
        assert 'kinetics400-rgb/epoch_70.pth' in cfg.load_from
        assert cfg.train_cfg.max_epochs == 80
        # Kept from Kinetics: AKG, auxiliary heads, the test protocol.
        for key in ('knowledge', 'test_cfg'):
            assert cfg.model[key] == kinetics.model[key], key
        assert cfg.test_pipeline == kinetics.test_pipeline
        assert cfg.model.cls_head.relation == kinetics.model.cls_head.relation


def test_revise_keys_renames_checkpoint_keys_before_the_comparison():
    hook = CheckpointFilterHook(revise_keys=[(
        r'^backbone\.resnet\.',
        'backbone.net.'), (r'^(backbone\.aux_branches\.\w+\.)layer3', r'\1res4')])
    old = {
        'backbone.resnet.conv1.weight': torch.ones(1),
        'backbone.aux_branches.human.layer3.0.w': torch.ones(2),
        'cls_head.fc_cls.bias': torch.ones(3)
    }
    assert hook.revise(old) == 2
    assert list(old) == [
        'backbone.net.conv1.weight', 'backbone.aux_branches.human.res4.0.w',
        'cls_head.fc_cls.bias'
    ]


FLOW_KINETICS = (
    REPO_ROOT / 'configs' / 'tsn' /
    'tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_kinetics400-flow.py')


@pytest.mark.skipif(
    not FLOW_KINETICS.is_file(),
    reason=f'{FLOW_KINETICS.name}, the Kinetics flow TSN the flow '
    'fine-tuning configs inherit, is not in this checkout yet')
def test_flow_split_configs_are_the_transfer_recipe_on_each_split():
    for split in (1, 2, 3):
        cfg = Config.fromfile(REPO_ROOT / 'configs' / 'tsn' / 'ucf101' /
                              ('tsn_kinetics400-pretrained-r50_8xb32-5x1x3-80e_ucf101-'
                               f'split{split}-flow.py'))
        for loader, subset in (('train', 'train'), ('val', 'val'), ('test', 'val')):
            dataset = cfg[f'{loader}_dataloader'].dataset
            assert dataset.ann_file == (
                f'data/ucf101/ucf101_{subset}_split_{split}_rawframes.txt')
            assert dataset.modality == 'Flow' and dataset.num_classes == 101
        assert cfg.model.backbone.partial_bn is True
        assert cfg.model.cls_head.num_classes == 101
        assert cfg.custom_hooks[0].reinit == [r'^cls_head\.fc_cls\.']
        assert 'kinetics400-flow/epoch_110.pth' in cfg.load_from
        assert cfg.train_cfg.max_epochs == 80
