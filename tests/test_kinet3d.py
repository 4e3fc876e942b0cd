"""3D KINet: inflated trunk, branches and CBIs; AKG over temporal positions."""
import fixtures.teachers  # noqa: F401  (registers the stand-in teachers)
import torch
from fixtures import REPO_ROOT
from fixtures.inflation import boring_video, randomize
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from kinet_mm.models.backbones import KINetBackbone, KINetBackbone3D
from kinet_mm.models.backbones.i3d_inception_v1 import I3D_TEMPORAL
from kinet_mm.models.utils import inflate_state_dict

SPLIT = dict(
    backbone=dict(type='InceptionV1'),
    branch_from='mixed_4',
    cbi_positions=(('mixed_4', 1), ('mixed_5', -1)))
# Same temporal receptive field as I3D's mixed_5c (CBIs are 1x1x1): 99 frames
# from 8 t - 47, so t = 6, 7 of a 112-frame clip see no temporal zero padding
# (derivation in test_i3d.py).
NUM_FRAMES, CLEAN = 112, [6, 7]


def test_boring_video_maps_of_every_branch_equal_2d_kinet():
    """2D KINet on a frame == 3D KINet on the frame repeated, for the action,
    human and scene maps (through CBIs that mix the branches)."""
    torch.manual_seed(0)
    net2d = KINetBackbone(**SPLIT)
    net2d.init_weights()
    with torch.no_grad():  # distinct branches and CBIs that really mix them
        for module in (*net2d.aux_branches.values(), *net2d.cbis.values()):
            for param in module.parameters():
                param.add_(torch.randn_like(param) * 0.05)
    net2d = randomize(net2d)
    net3d = KINetBackbone3D(temporal=I3D_TEMPORAL, **SPLIT).double().eval()
    net3d.load_state_dict(inflate_state_dict(net2d.state_dict(), net3d))
    frame = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        maps2d = net2d(frame)
        maps3d = net3d(boring_video(frame, NUM_FRAMES))
    assert not torch.allclose(maps2d[0], maps2d[1])  # the branches differ
    for name, map2d, map3d in zip(net3d.branch_names, maps2d, maps3d):
        assert map3d.shape == (1, 1024, 14, 1, 1), name
        for t in CLEAN:  # float64: see test_i3d.py for the tolerance
            torch.testing.assert_close(
                map3d[:, :, t], map2d, rtol=1e-9, atol=1e-9, msg=f'{name} at t={t}')


def test_inflation_reaches_trunk_branches_and_cbis_and_starts_from_2d(tmp_path):
    twin = KINetBackbone(**SPLIT)
    twin.init_weights()
    state = {
        f'backbone.{k}': v + 0.1 if v.is_floating_point() else v
        for k, v in twin.state_dict().items()
    }
    torch.save(dict(state_dict=state), tmp_path / 'kinet2d.pth')
    # init_weights bootstraps from a trained 2D KINet (branches, CBIs included).
    # pool4a (first block of the branch stage mixed_4) also keeps time here:
    # every branch copy must follow the network's own layer.
    temporal = dict(I3D_TEMPORAL, pool4a=(1, 1))
    backbone = KINetBackbone3D(
        temporal=temporal,
        init_cfg=dict(
            type='Pretrained',
            checkpoint=str(tmp_path / 'kinet2d.pth'),
            prefix='backbone.'),
        **SPLIT)
    backbone.init_weights()
    for key in ('aux_branches.scene.mixed_5.2.branch1.1.conv.weight',
                'cbis.mixed_4_1.fuse.weight', 'net.conv1a.conv.weight'):
        torch.testing.assert_close(backbone.state_dict()[key].sum(dim=2),
                                   state[f'backbone.{key}'])
    layers = dict(backbone.named_modules())
    assert layers['net.pool3a'].kernel_size == (1, 3, 3)
    for name in ('net.pool4a', 'aux_branches.human.mixed_4.0',
                 'aux_branches.scene.mixed_4.0'):
        pool = layers[name]
        assert (pool.kernel_size, pool.stride) == ((1, 3, 3), (1, 2, 2)), name
    pool = layers['aux_branches.human.mixed_5.0']  # pool5a: cubic
    assert (pool.kernel_size, pool.stride) == ((2, 2, 2), (2, 2, 2))
    assert backbone._blocks['mixed_4'][0] is layers['net.pool4a']
    assert layers['cbis.mixed_5_2.fuse'].kernel_size == (1, 1, 1)
    assert not any(
        isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.MaxPool2d))
        for m in backbone.modules())


def test_config_trains_one_step_with_the_akg_over_positions():
    cfg = Config.fromfile(
        str(REPO_ROOT / 'configs' / 'kinet' / 'kinet3d_inception-v1_realclips-cpu.py'))
    cfg.model.knowledge.human.teacher = dict(type='_TestBrightnessHumanTeacher')
    cfg.model.knowledge.scene.teacher = dict(type='_TestMeanColorSceneTeacher')
    cfg.model.knowledge.scene.head.num_classes = 3
    model = MODELS.build(cfg.model).train()  # (init_weights: tested above)
    inputs = [
        torch.randint(0, 256, (1, 3, 16, 32, 32), dtype=torch.uint8) for _ in range(2)
    ]
    samples = [ActionDataSample().set_gt_label(torch.tensor([i])) for i in (1, 4)]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    model.eval()  # same maps from both calls below
    with torch.no_grad():
        feats, head_kwargs = model.extract_feat(data['inputs'])
        maps = model.backbone(data['inputs'].flatten(0, 1))
    # 16 frames -> 2 positions (temporal stride 8): AKG nodes = 3 x 2 per clip,
    # ordered clip-major as the AKG reads segments: row b * T' + t.
    assert head_kwargs == dict(num_segs=2)
    assert [f.shape for f in feats] == [(4, 1024, 1, 1)] * 3
    for feat, branch_map in zip(feats, maps):
        assert branch_map.shape == (2, 1024, 2, 1, 1)
        torch.testing.assert_close(feat[1 * 2 + 0], branch_map[1, :, 0])
    model.train()
    frames = model.teacher_frames(data['inputs'], 2)
    torch.testing.assert_close(  # centres of the two halves: frames 4 and 12
        frames[1],
        model.rgb_frames(data['inputs'])[12],
        atol=1e-3,
        rtol=0)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_human', 'loss_scene'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    student = [
        p for n, p in model.named_parameters()
        if p.requires_grad and '.teacher.' not in n
    ]
    assert all(p.grad is not None for p in student)
    model.eval()
    with torch.no_grad():
        predictions = model(
            **model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False),
            mode='predict')
    assert predictions[0].pred_score.shape == (10, )
