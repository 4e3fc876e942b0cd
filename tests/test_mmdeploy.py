"""MMDeploy exports kinet_mm recognizers, and the backends score as PyTorch.

Every export goes through MMDeploy's own API (``torch2onnx``,
``torch2torchscript``, ``build_task_processor(...).build_backend_model``),
which ``tools/deploy.py`` calls; the shims of
:mod:`kinet_mm.deployment.mmdeploy_compat` are each shown failing without
them. Scores are compared on real clips that the export never saw.
Models have random weights, perturbed so that the auxiliary branches differ
from the action branch (an export would merge identical initializers), and
average class scores (``average_clips='score'``), compared relative to the
largest: random weights make the probabilities near uniform or one-hot,
where any two models agree.
"""
import copy
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from fixtures import REPO_ROOT, run_command
from mmengine.config import Config

from kinet_mm.apis import init_kinet, prepare_video
from kinet_mm.deploy import deploy_config
from kinet_mm.deployment import ModelExportError, mmdeploy_compat
from kinet_mm.deployment.backend import export_model, init_deployed

pytest.importorskip('mmdeploy')
onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

DEPLOY = 'configs/deploy/video-recognition_{}.py'
ORT, ORT_DYNAMIC, TORCHSCRIPT = (
    DEPLOY.format(name)
    for name in ('onnxruntime_static', 'onnxruntime_dynamic-batch', 'torchscript'))
DEMO = 'configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py'
KINET_R50 = ('configs/kinet/'
             'kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py')
KINET_R18 = 'configs/kinet/kinet_r18_1x1x3_realclips-cpu.py'
I3D = 'configs/i3d/i3d_inception-v1_realclips-cpu-rgb.py'
KINET3D = 'configs/kinet/kinet3d_inception-v1_realclips-cpu.py'
TOLERANCE = 1e-4


@pytest.fixture(scope='module')
def clips(real_clips):
    """The export example (a training clip) and held-out clips to score."""
    with open(real_clips / 'val.txt') as f:
        held_out = [str(real_clips / 'videos' / line.split()[0]) for line in f]
    return str(real_clips / 'videos' / 'arm_wrestling.mp4'), held_out


def small_pipeline(cfg: Config,
                   size: int,
                   num_clips: int = None,
                   ten_crop: bool = False) -> Config:
    """``cfg`` with its test frames resized to ``size`` (and ``num_clips``)."""
    cfg = copy.deepcopy(cfg)
    for transform in cfg.test_pipeline:
        if transform['type'] == 'Resize':
            transform.update(scale=(-1, size + size // 4), keep_ratio=True)
        if transform['type'] in ('CenterCrop', 'TenCrop'):
            transform['crop_size'] = size
        if transform['type'] == 'SampleFrames' and num_clips:
            transform['num_clips'] = num_clips
    if ten_crop:
        assert any(t['type'] == 'TenCrop' for t in cfg.test_pipeline)
    return cfg


def tiny_kinet() -> Config:
    """KINet-R18 on 3 frames of 32x32: exports in seconds."""
    cfg = Config.fromfile(KINET_R18)
    return compared_on_scores(deploy_config(small_pipeline(cfg, 32, num_clips=3)))


def random_model(cfg: Config, seed: int = 0):
    """The deployed model of ``cfg`` with distinct random weights."""
    torch.manual_seed(seed)
    model = init_kinet(cfg)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param), alpha=0.02)
    return model


def compared_on_scores(cfg: Config) -> Config:
    """``cfg`` averaging class scores, not probabilities: random weights give
    near-uniform or one-hot probabilities, where any two models agree."""
    cfg = copy.deepcopy(cfg)
    cfg.model.cls_head.average_clips = 'score'
    return cfg


def export(model, cfg: Config, deploy: str, example: str, tmp_path) -> str:
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    return export_model(cfg, deploy, example, str(tmp_path / 'export'), checkpoint)


def score_diffs(model, deployed, videos) -> list:
    """Max |backend - PyTorch| of each video's class scores, relative to the
    largest score; top-1 must agree."""
    diffs = []
    for video in videos:
        expected = model.test_step(prepare_video(model, video))[0].pred_score
        got = deployed.test_step(prepare_video(model, video))[0].pred_score
        assert got.argmax() == expected.argmax(), video
        diffs.append(float((got - expected).abs().max() / expected.abs().max()))
    return diffs


def onnx_weight_count(path: str, model) -> tuple:
    """(Conv and Linear weights of the ONNX graph, of the deployed model).

    Biases and BatchNorms are not counted: the exporter folds each BN into
    the conv before it, which changes those counts but no weight's.
    """
    graph = onnx.load(path).graph
    sizes = {t.name: int(np.prod(t.dims)) for t in graph.initializer}
    exported = sum(
        sizes.get(node.input[1], 0) for node in graph.node
        if node.op_type in ('Conv', 'Gemm', 'MatMul'))
    layers = (torch.nn.modules.conv._ConvNd, torch.nn.Linear)
    expected = sum(m.weight.numel() for m in model.modules() if isinstance(m, layers))
    return exported, expected


# -- fast: a tiny KINet, each shim with and without ---------------------------


@pytest.fixture(scope='module')
def tiny(clips, tmp_path_factory):
    """A tiny KINet, its ONNX export (dynamic batch) and backend model."""
    cfg = tiny_kinet()
    model = random_model(cfg)
    tmp = tmp_path_factory.mktemp('tiny')
    path = export(model, cfg, ORT_DYNAMIC, clips[0], tmp)
    return cfg, model, path, init_deployed(cfg, path, deploy_cfg=ORT_DYNAMIC)


def test_tiny_kinet_onnx_runtime_scores_equal_pytorch(tiny, clips):
    cfg, model, path, deployed = tiny
    assert max(score_diffs(model, deployed, clips[1])) < TOLERANCE


def test_exported_graph_holds_no_teacher_or_auxiliary_head(tiny):
    cfg, model, path, _ = tiny
    exported, expected = onnx_weight_count(path, model)
    assert exported == expected
    # The config with heads is larger by exactly the heads: they are not in
    # the graph because the deployed model has none.
    trained = init_kinet(
        Config(dict(cfg.to_dict(), model=dict(cfg.model, pseudo_label_source='cache'))))
    heads = sum(p.numel() for name, p in trained.named_parameters()
                if name.startswith('knowledge.'))
    assert heads > 0
    assert sum(p.numel() for p in trained.parameters()) - heads == \
        sum(p.numel() for p in model.parameters())


def _batch(model, videos):
    batches = [prepare_video(model, video) for video in videos]
    return dict(
        inputs=sum((b['inputs'] for b in batches), []),
        data_samples=sum((b['data_samples'] for b in batches), []))


def test_dynamic_batch_scores_each_video(tiny, clips):
    cfg, model, path, deployed = tiny
    batch = _batch(model, clips[1][:3])
    expected = torch.stack(
        [s.pred_score for s in model.test_step(copy.deepcopy(batch))])
    inputs = deployed.data_preprocessor(copy.deepcopy(batch), False)['inputs']
    got = deployed.scores(inputs)
    assert got.shape == expected.shape == (3, cfg.model.cls_head.num_classes)
    assert float((got - expected).abs().max() / expected.abs().max()) < \
        TOLERANCE


@pytest.mark.slow  # a second export (~20 s on 2 busy cores)
def test_dynamic_batch_averages_the_batch_without_shim(tiny, clips, tmp_path,
                                                       monkeypatch):
    import mmdeploy.codebase.mmaction.models.recognizers.base as rewriters
    from mmdeploy.core import FUNCTION_REWRITER
    cfg, model, _, _ = tiny
    for record in FUNCTION_REWRITER._registry._rewrite_records[
            mmdeploy_compat.RECOGNIZER_FORWARD]:
        if record['_object'] is mmdeploy_compat.recognizer_forward:
            monkeypatch.setitem(record, '_object', rewriters.base_recognizer__forward)
    path = export(model, cfg, ORT_DYNAMIC, clips[0], tmp_path)
    deployed = init_deployed(cfg, path, deploy_cfg=ORT_DYNAMIC)
    batch = _batch(model, clips[1][:2])
    inputs = deployed.data_preprocessor(batch, False)['inputs']
    assert deployed.scores(inputs).shape[0] == 1  # two videos, one row


def test_onnx_export_needs_torchscript_exporter_shim(tiny, clips, tmp_path,
                                                     monkeypatch):
    original = torch.onnx.export.__wrapped__
    assert mmdeploy_compat._export_defaults_to_dynamo()
    monkeypatch.setattr(torch.onnx, 'export', original)
    cfg, model, _, _ = tiny
    # torch's default (dynamo) exporter needs onnxscript, which MMDeploy's
    # rewriters do not support either.
    with pytest.raises(ImportError, match='onnxscript'):
        export(model, cfg, ORT, clips[0], tmp_path)


def test_inference_model_fails_without_backend_model_shim(tiny, clips, monkeypatch):
    from mmdeploy.apis import inference_model
    from mmdeploy.codebase.mmaction.deploy.video_recognition import VideoRecognition
    cfg, model, path, _ = tiny
    results = inference_model(cfg, ORT_DYNAMIC, [path], clips[1][0], 'cpu')
    expected = model.test_step(prepare_video(model, clips[1][0]))[0].pred_score
    # MMDeploy's own pipeline decodes with OpenCV, not decord: frames can
    # differ slightly, so compare the top-1 only.
    assert results[0].pred_scores.item.argmax() == expected.argmax()
    monkeypatch.setattr(VideoRecognition, 'build_backend_model',
                        VideoRecognition.build_backend_model.__wrapped__)
    with pytest.raises(TypeError, match='positional arguments'):
        inference_model(cfg, ORT_DYNAMIC, [path], clips[1][0], 'cpu')


def test_backend_predictions_carry_pred_score(tiny, clips, monkeypatch):
    """MMAction2 1.x's AccMetric (MMDeploy's tools/test.py) reads
    ``pred_score``; MMDeploy's backend model wrote only ``pred_scores``."""
    from mmdeploy.codebase.mmaction.deploy.video_recognition_model import End2EndModel
    cfg, model, path, deployed = tiny
    backend_model = deployed.backend_model

    def predict():
        data = backend_model.data_preprocessor(prepare_video(model, clips[1][0]), False)
        return backend_model(data['inputs'], data['data_samples'])[0]

    sample = predict()
    torch.testing.assert_close(sample.pred_score, sample.pred_scores.item)
    monkeypatch.setattr(End2EndModel, 'forward', End2EndModel.forward.__wrapped__)
    assert 'pred_score' not in predict()


def test_mmdeploy_deploys_the_deployed_model(clips, monkeypatch, tmp_path):
    """MMDeploy's task builds the demo KINet without teachers or auxiliary
    heads, and its example input of an unseen video reads no pseudo labels
    (the config's cache is pointed at a folder that does not exist)."""
    from mmdeploy.apis.utils import build_task_processor
    from mmdeploy.codebase.mmaction.deploy.video_recognition import VideoRecognition
    cfg = Config.fromfile(DEMO)
    loads = [
        t for t in cfg.test_pipeline + cfg.test_dataloader.dataset.pipeline
        if t['type'] == 'LoadPseudoLabels'
    ]
    assert loads
    for transform in loads:
        transform['cache_root'] = str(tmp_path / 'no_cache')
    task = build_task_processor(cfg, Config.fromfile(ORT), 'cpu')
    assert task.model_cfg.model.pseudo_label_source == 'none'
    data, _ = task.create_input(clips[1][0], None)
    assert data['inputs'][0].shape == (8, 3, 112, 112)
    monkeypatch.setattr(VideoRecognition, '__init__',
                        VideoRecognition.__init__.__wrapped__)
    task = build_task_processor(cfg, Config.fromfile(ORT), 'cpu')
    with pytest.raises(FileNotFoundError, match='pseudo-label cache'):
        task.create_input(clips[1][0], None)


@pytest.mark.slow  # a second export (~20 s on 2 busy cores)
def test_export_error_names_the_module(clips, tmp_path):
    """The Table 4 ablation's teacher-feature branch runs the demo's scene
    teacher, whose antialiased resize ONNX cannot express."""
    cfg = tiny_kinet()
    cfg.model.backbone.fixed_branches = dict(
        scene=dict(
            type='TeacherFeatureBranch',
            stage_indices=(0, 0),
            in_channels=(1280, 1280),
            mean=cfg.model.data_preprocessor.mean,
            std=cfg.model.data_preprocessor.std,
            teacher=dict(type='EfficientNetLiteSceneTeacher')))
    model = random_model(cfg)
    with pytest.raises(ModelExportError) as error:
        export(model, cfg, ORT, clips[0], tmp_path)
    message = str(error.value)
    assert 'failed in module backbone.aux_branches.scene ' \
        '(TeacherFeatureBranch) in backbone (KINetBackbone)' in message, message
    assert "'aten::_upsample_bilinear2d_aa'" in message


@pytest.mark.slow
def test_demo_scores_a_video_with_the_exported_model(tiny, clips, tmp_path):
    """The demo's command with ``--backend-model``: the same top-5 scores as
    the PyTorch model it was exported from."""
    cfg, model, path, _ = tiny
    config = tmp_path / 'tiny_kinet.py'
    cfg.dump(str(config))
    video = clips[1][0]
    log = run_command(
        sys.executable,
        'demo/demo.py',
        config,
        path,
        video,
        '--backend-model',
        '--out-dir',
        tmp_path / 'out',
        PYTHONPATH=str(REPO_ROOT))
    expected = model.test_step(prepare_video(model, video))[0].pred_score
    lines = log.splitlines()
    first = lines.index(f'{video}: the top-5 labels with corresponding '
                        'scores are:') + 1
    printed = [float(line.rsplit(': ', 1)[1]) for line in lines[first:first + 5]]
    assert printed == pytest.approx(expected.topk(5).values.tolist(), abs=1e-4)


# -- slow: the project's models at their test shapes -------------------------


def parity(cfg: Config, deploy: str, clips, tmp_path, num_clips=2) -> tuple:
    cfg = compared_on_scores(cfg)
    model = random_model(cfg)
    path = export(model, cfg, deploy, clips[0], tmp_path)
    deployed = init_deployed(cfg, path, deploy_cfg=deploy)
    diffs = score_diffs(model, deployed, clips[1][:num_clips])
    print(f'{cfg.model.type} {osp.basename(deploy)}: max abs diff / max '
          f'|score| {max(diffs):.1e}')  # shown with pytest -s (docs/deploy.md)
    return model, path, diffs


@pytest.mark.slow
@pytest.mark.parametrize('deploy', [ORT, TORCHSCRIPT])
def test_demo_kinet_scores_equal_pytorch(deploy, clips, tmp_path):
    cfg = deploy_config(Config.fromfile(DEMO))
    model, path, diffs = parity(cfg, deploy, clips, tmp_path)
    assert max(diffs) < TOLERANCE, diffs
    if deploy == TORCHSCRIPT:
        traced = torch.jit.load(path)
        assert sum(p.numel() for p in traced.parameters()) == \
            sum(p.numel() for p in model.parameters())
    else:
        exported, expected = onnx_weight_count(path, model)
        assert exported == expected


@pytest.mark.slow
@pytest.mark.parametrize('deploy', [ORT, TORCHSCRIPT])
def test_kinet_r50_paper_protocol_scores_equal_pytorch(deploy, clips, tmp_path):
    """25 segments x 10 crops = 250 views, the AKG's window of 3; 32x32 crops
    and one scored clip keep it to minutes."""
    cfg = Config.fromfile(KINET_R50)
    cfg.model.backbone.backbone.pretrained = None
    cfg = deploy_config(small_pipeline(cfg, 32, ten_crop=True))
    assert cfg.model.test_cfg.window_size == 3
    model, path, diffs = parity(cfg, deploy, clips, tmp_path, num_clips=1)
    data = prepare_video(model, clips[1][0])
    assert data['inputs'][0].shape == (250, 3, 32, 32)
    assert max(diffs) < TOLERANCE, diffs


@pytest.mark.slow
@pytest.mark.parametrize('config', [I3D, KINET3D])
@pytest.mark.parametrize('deploy', [ORT, TORCHSCRIPT])
def test_3d_models_score_equal_pytorch(config, deploy, clips, tmp_path):
    cfg = deploy_config(small_pipeline(Config.fromfile(config), 64))
    if 'pretrained' in cfg.model.backbone:
        cfg.model.backbone.pretrained = None
    model, path, diffs = parity(cfg, deploy, clips, tmp_path)
    assert max(diffs) < TOLERANCE, diffs


@pytest.mark.slow
def test_flow_stream_exports_from_its_frames(tmp_path, monkeypatch):
    """TSN flow (10-channel stacks of x/y frames): MMDeploy exports it from a
    frame directory, and ONNX Runtime scores as PyTorch."""
    import cv2
    from mmdeploy.codebase.mmaction.deploy.video_recognition import VideoRecognition
    frame_dir = tmp_path / 'clip'
    frame_dir.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 25):
        for axis in 'xy':
            cv2.imwrite(
                str(frame_dir / f'{axis}_{i:05d}.jpg'),
                rng.integers(0, 256, (48, 64), np.uint8))
    cfg = Config.fromfile('configs/tsn/tsn_r50_5x1x3_realclips-cpu-flow.py')
    cfg.model.backbone.init_cfg = None
    cfg = compared_on_scores(deploy_config(small_pipeline(cfg, 32)))
    model = random_model(cfg)
    path = export(model, cfg, ORT, str(frame_dir), tmp_path)
    deployed = init_deployed(cfg, path, deploy_cfg=ORT)
    video = dict(
        frame_dir=str(frame_dir),
        total_frames=24,
        label=-1,
        start_index=1,
        modality='Flow',
        filename_tmpl='{}_{:05d}.jpg')
    expected = model.test_step(prepare_video(model, video))[0].pred_score
    got = deployed.test_step(prepare_video(model, video))[0].pred_score
    assert prepare_video(model, video)['inputs'][0].shape == (8, 10, 32, 32)
    relative = float((got - expected).abs().max() / expected.abs().max())
    assert relative < TOLERANCE
    print(f'TSN flow onnxruntime: max abs diff / max |score| {relative:.1e}')
    # MMDeploy's own input reads a video file with OpenCV, not frames.
    monkeypatch.setattr(VideoRecognition, 'create_input',
                        VideoRecognition.create_input.__wrapped__)
    with pytest.raises(Exception):
        export(model, cfg, ORT, str(frame_dir), tmp_path / 'without')
