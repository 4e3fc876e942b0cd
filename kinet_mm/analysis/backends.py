"""Deployed models on MMDeploy's backends against PyTorch: time and scores.

One run exports a config's deployed model (random weights, as the rest of
the benchmark) with MMDeploy to each backend, then times PyTorch and every
backend on the same preprocessed real clip, interleaved
(:func:`~kinet_mm.analysis.measure.time_interleaved`), with the same number
of threads. Reported: median wall-clock ms per video, the ratio to PyTorch's
median, and the largest score difference to PyTorch.
"""
import copy
import os.path as osp
import time
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

from .benchmark import REPO_ROOT, load_config, make_offline
from .measure import median_ms, time_interleaved

#: The paper's test protocol (section 4.2): 25 segments x TenCrop 224 of
#: frames resized to a short side of 256, the AKG sliding a window of 3.
PAPER_PIPELINE = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
# The backbone over all 250 frames at once (max_testing_views only bounds
# memory): one backbone in the graph, not five, which the exporter handles in
# a fraction of the time.
PAPER_TEST_CFG = dict(num_segs=25, window_size=3, max_testing_views=None)
#: Deploy config per backend (configs/deploy/).
DEPLOY_CONFIGS = {
    backend: str(REPO_ROOT / f'configs/deploy/video-recognition_{name}.py')
    for backend, name in (('onnxruntime', 'onnxruntime_static'), ('torchscript',
                                                                  'torchscript'))
}


def protocol_config(config: object, protocol: str, crop_size: int = 224) -> Config:
    """The deployed, offline config of ``config`` at ``protocol``:
    ``'demo'`` (its own test pipeline) or ``'paper'`` (250 views of
    ``crop_size``, the short side resized to ``crop_size * 256 / 224``)."""
    from ..deploy import deploy_config
    cfg = load_config(config)
    make_offline(cfg.model)
    if protocol == 'paper':
        cfg.test_pipeline = copy.deepcopy(PAPER_PIPELINE)
        cfg.test_pipeline[3]['scale'] = (-1, round(crop_size * 256 / 224))
        cfg.test_pipeline[4]['crop_size'] = crop_size
        if cfg.model.type == 'KINet':
            cfg.model.test_cfg = dict(PAPER_TEST_CFG)
    elif protocol != 'demo':
        raise ValueError(f"protocol must be 'demo' or 'paper', got {protocol!r}")
    return deploy_config(cfg)


def benchmark_backends(config: object,
                       label: str,
                       video: str,
                       work_dir: str,
                       protocol: str = 'demo',
                       crop_size: int = 224,
                       backends: Optional[List[str]] = None,
                       threads: Optional[int] = None,
                       warmup: int = 1,
                       repeats: int = 5,
                       seed: int = 0) -> List[Dict]:
    """Time PyTorch and each backend on one video of ``config``.

    Returns:
        list[dict]: One row per backend (PyTorch first): ``model``,
        ``protocol``, ``input`` shape, ``backend``, ``median_ms`` (and
        ``min_ms``, ``max_ms``, ``times_ms``), ``ratio`` to PyTorch,
        ``max_abs_diff`` of the scores, ``export_s``, ``threads``.
    """
    from ..apis import init_kinet, prepare_video
    from ..deployment.backend import export_model, init_deployed
    backends = backends or list(DEPLOY_CONFIGS)
    if threads:
        torch.set_num_threads(threads)
    threads = torch.get_num_threads()
    cfg = protocol_config(config, protocol, crop_size)
    torch.manual_seed(seed)
    model = init_kinet(cfg)
    # init_kinet leaves MMEngine's initialisation (and the Lite2 backbone's
    # ImageNet weights) to a checkpoint; without one the maps are ~0 and the
    # scores constant, so the score comparison would say nothing.
    model.init_weights()
    checkpoint = osp.join(work_dir, 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    data = model.data_preprocessor(prepare_video(model, video), False)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        expected = model(inputs, samples, mode='predict')[0].pred_score

    calls = {'pytorch': lambda: model(inputs, samples, mode='predict')}
    # Random weights: the spread shows how far the scores are from uniform.
    rows = {
        'pytorch':
        dict(
            export_s=0.0,
            max_abs_diff=0.0,
            score_spread=float(expected.max() - expected.min()))
    }
    for backend in backends:
        deploy_cfg = Config.fromfile(DEPLOY_CONFIGS[backend])
        start = time.perf_counter()
        path = export_model(cfg, deploy_cfg, video, osp.join(work_dir, backend),
                            checkpoint)
        export_s = time.perf_counter() - start
        deployed = init_deployed(cfg, path, deploy_cfg=deploy_cfg)
        _set_session_threads(deployed, threads)
        got = deployed.scores(inputs)[0]
        rows[backend] = dict(
            export_s=export_s,
            max_abs_diff=float((got - expected).abs().max()),
            score_spread=float(got.max() - got.min()))
        calls[backend] = lambda deployed=deployed: deployed.scores(inputs)
    with torch.no_grad():
        times = time_interleaved(calls, warmup, repeats, 'cpu', clock='wall')
    reference = median_ms(times['pytorch'])['median_ms']
    results = []
    for backend, row in rows.items():
        timing = median_ms(times[backend])
        results.append(
            dict(
                model=label,
                protocol=protocol,
                backend=backend,
                input='x'.join(map(str, inputs.shape)),
                threads=threads,
                ratio=timing['median_ms'] / reference,
                **timing,
                **row))
    return results


def _set_session_threads(deployed, threads: int) -> None:
    """ONNX Runtime: rebuild MMDeploy's session with ``threads`` intra-op
    threads (MMDeploy's wrapper takes no session options)."""
    wrapper = deployed.backend_model.wrapper
    if deployed.backend != 'onnxruntime':
        return  # TorchScript runs with torch's threads
    import onnxruntime as ort
    from mmdeploy.backend.onnxruntime.init_plugins import get_ops_path
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if osp.exists(get_ops_path()):  # MMDeploy's custom operators, as it does
        options.register_custom_ops_library(get_ops_path())
    wrapper.sess = ort.InferenceSession(
        deployed.backend_file, options, providers=['CPUExecutionProvider'])
    wrapper.io_binding = wrapper.sess.io_binding()


def markdown_rows(results: List[Dict]) -> List[str]:
    """Table rows: model, protocol, input, backend, median/min/max ms,
    ratio to PyTorch, max |score diff|, max - min score, export seconds."""
    lines = []
    for r in results:
        lines.append(
            f"| {r['model']} | {r['protocol']} | {r['input']} | {r['backend']} "
            f"| {r['median_ms']:.0f} | {r['min_ms']:.0f}-{r['max_ms']:.0f} | "
            f"{r['ratio']:.2f} | {r['max_abs_diff']:.1e} | "
            f"{r['score_spread']:.3f} | {r['export_s']:.0f} |")
    return lines


MARKDOWN_HEADER = [
    '| model | protocol | input (N x views x C x H x W) | backend | median ms '
    '| min-max ms | / PyTorch | max abs score diff | score spread | export s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
]
