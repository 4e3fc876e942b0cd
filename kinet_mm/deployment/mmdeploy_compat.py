"""Shims that let MMDeploy 1.3.1 deploy kinet_mm recognizers unmodified.

Applied by :func:`apply_mmdeploy_shims` on ``import kinet_mm`` (so a model
config's ``custom_imports`` applies them inside MMDeploy's ``tools/deploy.py``
and ``mmdeploy.apis``); nothing in site-packages changes. Shims 1, 2 and 4
check that the code they fix is still the broken version (signature,
version) and do nothing otherwise; shim 3 is what any kinet_mm model config
needs. ``tests/test_mmdeploy.py`` shows each one failing without it.

1. torch>=2.9's ``torch.onnx.export`` defaults to the dynamo exporter, which
   needs ``onnxscript`` and ignores MMDeploy's rewriters (they patch the
   TorchScript exporter's symbolic functions and ``_model_to_graph``).
   Calls made by MMDeploy get ``dynamo=False`` unless they choose; other
   callers keep torch's default. The same wrapper, and one around
   ``torch.jit.trace`` for MMDeploy's TorchScript backend, re-raise an export
   failure as :class:`ModelExportError` naming the module that was running
   (``backbone.aux_branches.scene (TeacherFeatureBranch)``), where torch
   names an operator only.
2. ``VideoRecognition.build_backend_model(model_files, **kwargs)`` lacks the
   ``data_preprocessor_updater`` argument that ``BaseTask`` declares and that
   ``mmdeploy.apis.inference_model`` and ``visualize_model`` pass by position,
   so both fail with "takes from 1 to 2 positional arguments but 3 were
   given". We accept it and apply it, as MMPretrain's task does.
3. MMDeploy builds the model, its example input and its PyTorch check
   from the model config as given. For a KINet training config that means
   teachers and auxiliary heads built for nothing, and the test pipeline and
   ``test_cfg`` of the demo KINet read and score each video's teacher labels
   from the pseudo-label cache (``LoadPseudoLabels``, knowledge agreement),
   which no unseen video has: ``tools/deploy.py`` fails. The task now works on
   :func:`kinet_mm.deploy.deploy_config` of the model config (no teacher, no
   auxiliary head, no pseudo labels), as ``tools/export_deploy.py`` writes
   it; a training checkpoint still loads (MMDeploy loads non-strictly and
   reports the head weights it skips).
4. MMDeploy's rewrite of ``BaseRecognizer.forward`` averages
   ``cls_scores.shape[0] // len(data_samples)`` views per video; the sample
   list is the export example's, so with a dynamic batch axis every batch is
   averaged into one row (2 videos in, 1 score row out). We count the videos
   from the traced input instead.
5. ``VideoRecognition.create_input`` always decodes a video file with
   OpenCV (it swaps the pipeline's first transform for ``OpenCVInit`` and
   every decoder for ``OpenCVDecode``), so a flow stream, whose frames are
   ``x_*.jpg``/``y_*.jpg`` files (``RawFrameDecode``), cannot be exported. A
   frame directory given as the "image" now goes through the config's own
   test pipeline, with its test dataset's ``filename_tmpl`` and
   ``modality``; a video file is handled as before.
6. ``End2EndModel`` (the backend model) stores its scores as MMAction2 0.x
   did, ``pred_scores.item``; MMAction2 1.x's ``AccMetric`` and
   ``ActionDataSample`` read ``pred_score``, so MMDeploy's ``tools/test.py``
   fails with ``KeyError: 'pred_score'`` on any recognizer. Predictions now
   carry both.
"""
import contextlib
import functools
import importlib.abc
import importlib.util
import inspect
import os
import os.path as osp
import re
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional

import torch

from ..deploy import deploy_config

#: The MMDeploy module whose ``VideoRecognition`` shims 2 and 3 fix.
VIDEO_RECOGNITION = 'mmdeploy.codebase.mmaction.deploy.video_recognition'


class ModelExportError(RuntimeError):
    """A model could not be exported; the message names the module."""


# -- 1. TorchScript exporter for MMDeploy, errors that name the module --------


def _called_from_mmdeploy(depth: int = 2) -> bool:
    caller = sys._getframe(depth).f_globals.get('__name__', '')
    return caller == 'mmdeploy' or caller.startswith('mmdeploy.')


def _enter(stack: List[str], label: str, *_) -> None:
    stack.append(label)


def _leave(stack: List[str], *_) -> None:
    # Returns None: a forward hook's return value would replace the output.
    stack.pop()


@contextlib.contextmanager
def _running_modules(model: Any) -> Iterator[List[str]]:
    """The stack of the modules of ``model`` whose forward is running (kept
    by hooks on every submodule); a failure leaves the failing ones on it."""
    stack: List[str] = []
    handles = []
    if isinstance(model, torch.nn.Module):
        for name, module in model.named_modules():
            label = f'{name or "<model>"} ({type(module).__name__})'
            handles.append(
                module.register_forward_pre_hook(
                    functools.partial(_enter, stack, label)))
            handles.append(
                module.register_forward_hook(functools.partial(_leave, stack)))
    try:
        yield stack
    finally:
        for handle in handles:
            handle.remove()


def _module_of_operator(model: Any, args: tuple, err: Exception) -> str:
    """The module that calls the operator an ONNX error names.

    A symbolic function fails after tracing, when no module runs any more;
    a second trace records each operator's module (its scope), as the
    exporter's own trace does.
    """
    # "operator 'aten::_upsample_bilinear2d_aa'" or "operator Unfold, ..."
    match = re.search(r"operator '?([\w:.]+)", str(err))
    if not match or not isinstance(model, torch.nn.Module) or not args:
        return ''
    operator = match.group(1)
    if '::' not in operator:
        operator = f'aten::{operator.lower()}'
    names = {module: name for name, module in model.named_modules()}
    inputs = args[0] if isinstance(args[0], tuple) else (args[0], )
    torch.jit._trace._trace_module_map = names
    try:
        graph, _ = torch.jit._get_trace_graph(model, inputs)
    except Exception:
        return ''
    finally:
        torch.jit._trace._trace_module_map = None
    types = {name: type(module).__name__ for module, name in names.items()}
    for node in graph.nodes():
        if node.kind() == operator:
            scopes = node.scopeName().split('/')
            return ' in '.join(f'{name} ({types.get(name, "?")})'
                               for name in reversed(scopes) if name)
    return ''


def _naming_failures(export: Callable, what: str) -> Callable:
    """Wrap ``export(model, ...)`` so a failure names the running module."""

    @functools.wraps(export)
    def wrapped(model, *args, **kwargs):
        with _running_modules(model) as stack:
            try:
                return export(model, *args, **kwargs)
            except ModelExportError:
                raise
            except Exception as err:
                # Innermost first: the module whose own code failed.
                where = ' in '.join(reversed(stack)) if stack else \
                    _module_of_operator(model, args, err)
                if not where:
                    raise
                raise ModelExportError(
                    f'{what} of {type(model).__name__} failed in module '
                    f'{where}: {type(err).__name__}: {err}\nThis module '
                    'cannot be exported; deploy a config without it or run the '
                    'model with PyTorch (kinet_mm.apis.init_kinet).') from err

    return wrapped


def _export_defaults_to_dynamo() -> bool:
    parameter = inspect.signature(torch.onnx.export).parameters.get('dynamo')
    return parameter is not None and parameter.default is True


def torchscript_exporter_for_mmdeploy() -> None:
    """Shim 1: ``dynamo=False`` for MMDeploy's ``torch.onnx.export`` calls, and
    export errors (ONNX and TorchScript) that name the failing module."""
    onnx_export = torch.onnx.export
    if getattr(onnx_export, '_kinet_mmdeploy', False):
        return
    dynamo_default = _export_defaults_to_dynamo()
    onnx_export = _naming_failures(onnx_export, 'ONNX export')
    jit_trace = _naming_failures(torch.jit.trace, 'TorchScript trace')

    @functools.wraps(torch.onnx.export)
    def export(*args, **kwargs):
        if not _called_from_mmdeploy():
            return export.__wrapped__(*args, **kwargs)
        if dynamo_default:
            kwargs.setdefault('dynamo', False)
        return onnx_export(*args, **kwargs)

    @functools.wraps(torch.jit.trace)
    def trace(*args, **kwargs):
        if not _called_from_mmdeploy():
            return trace.__wrapped__(*args, **kwargs)
        return jit_trace(*args, **kwargs)

    export._kinet_mmdeploy = trace._kinet_mmdeploy = True
    torch.onnx.export = export
    torch.jit.trace = trace


# -- 2. and 3. mmdeploy's VideoRecognition task ------------------------------


def fix_video_recognition(module: Any) -> None:
    """Shims 2, 3 and 5 on MMDeploy's ``VideoRecognition`` task."""
    task = module.VideoRecognition
    build = task.build_backend_model
    if 'data_preprocessor_updater' not in inspect.signature(build).parameters \
            and not getattr(build, '_kinet_mmdeploy', False):

        @functools.wraps(build)
        def build_backend_model(self,
                                model_files=None,
                                data_preprocessor_updater: Optional[Callable] = None,
                                **kwargs):
            if data_preprocessor_updater is not None:
                preprocessor = data_preprocessor_updater(
                    self.model_cfg.model.data_preprocessor)
                self.model_cfg.model.data_preprocessor = preprocessor
            return build(self, model_files, **kwargs)

        build_backend_model._kinet_mmdeploy = True
        task.build_backend_model = build_backend_model

    create = task.create_input
    if not getattr(create, '_kinet_mmdeploy', False):

        @functools.wraps(create)
        def create_input(self,
                         imgs,
                         input_shape=None,
                         data_preprocessor=None,
                         **kwargs):
            paths = [imgs] if isinstance(imgs, str) else imgs
            if isinstance(paths, (list, tuple)) and paths and all(
                    isinstance(p, str) and osp.isdir(p) for p in paths):
                return _frame_dir_input(self, paths, data_preprocessor)
            return create(self, imgs, input_shape, data_preprocessor, **kwargs)

        create_input._kinet_mmdeploy = True
        task.create_input = create_input

    init = task.__init__
    if not getattr(init, '_kinet_mmdeploy', False):

        @functools.wraps(init)
        def __init__(self, model_cfg, deploy_cfg, device, *args, **kwargs):
            init(self, deploy_config(model_cfg), deploy_cfg, device, *args, **kwargs)

        __init__._kinet_mmdeploy = True
        task.__init__ = __init__


def _frame_dir_input(task: Any, frame_dirs: List[str], data_preprocessor=None) -> tuple:
    """Shim 5: the export example of a frame directory (a flow stream's
    ``x_00001.jpg``, ``y_00001.jpg``, ...), through the config's own test
    pipeline and its test dataset's ``filename_tmpl`` and ``modality``."""
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    cfg = task.model_cfg
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    modality = dataset.get('modality', 'RGB')
    template = dataset.get('filename_tmpl', 'img_{:05}.jpg')
    prefix = template.format('x', 1)[:2] if modality == 'Flow' else None
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    pipeline = Compose(cfg.test_pipeline)
    data = []
    for frame_dir in frame_dirs:
        files = os.listdir(frame_dir)
        total = len([f for f in files if f.startswith(prefix)]) if prefix \
            else len(files)
        data.append(
            pipeline(
                dict(
                    frame_dir=frame_dir,
                    total_frames=total,
                    label=-1,
                    start_index=dataset.get('start_index', 1),
                    modality=modality,
                    filename_tmpl=template)))
    data = pseudo_collate(data)
    if data_preprocessor is not None:
        data = data_preprocessor(data, False)
    return data, data['inputs']


# -- 6. MMAction2 1.x's score field on backend predictions -----------------

#: The MMDeploy module of the backend model shim 6 fixes.
VIDEO_RECOGNITION_MODEL = \
    'mmdeploy.codebase.mmaction.deploy.video_recognition_model'


def fix_backend_predictions(module: Any) -> None:
    """Shim 6: ``End2EndModel`` predictions also carry ``pred_score``."""
    model = module.End2EndModel
    forward = model.forward
    if getattr(forward, '_kinet_mmdeploy', False):
        return

    @functools.wraps(forward)
    def predict(self, *args, **kwargs):
        samples = forward(self, *args, **kwargs)
        for sample in samples:
            if 'pred_scores' in sample and 'pred_score' not in sample:
                sample.set_pred_score(sample.pred_scores.item)
        return samples

    predict._kinet_mmdeploy = True
    model.forward = predict


# -- 4. dynamic batch: videos per call from the input, not the example -------

#: MMDeploy's module that registers the recognizer rewriter shim 4 replaces.
RECOGNIZER_REWRITER = 'mmdeploy.codebase.mmaction.models.recognizers.base'
RECOGNIZER_FORWARD = 'mmaction.models.recognizers.BaseRecognizer.forward'


def recognizer_forward(self,
                       inputs: torch.Tensor,
                       data_samples=None,
                       mode: str = 'tensor',
                       **kwargs) -> torch.Tensor:
    """MMDeploy's ``BaseRecognizer.forward`` rewrite with the views per video
    read from the traced input.

    Args:
        inputs (Tensor): ``(N, views, ...)``; ``N`` may be a dynamic axis.

    Returns:
        Tensor: ``(N, num_classes)``, the clip-averaged scores.
    """
    assert mode == 'predict'
    feats, predict_kwargs = self.extract_feat(inputs, test_mode=True)
    cls_scores = self.cls_head(feats, **predict_kwargs)
    # MMDeploy divides by len(data_samples), the example batch's size, which
    # tracing freezes: a batch of 2 was then averaged into one row.
    num_segs = cls_scores.shape[0] // inputs.shape[0]
    return self.cls_head.average_clip(cls_scores, num_segs=num_segs)


def fix_recognizer_rewriter(module: Any) -> None:
    """Shim 4: swap MMDeploy 1.3.1's registered recognizer rewrite for
    :func:`recognizer_forward` (later versions are left alone)."""
    import mmdeploy
    from mmdeploy.core import FUNCTION_REWRITER
    from mmengine.utils import digit_version
    if digit_version(mmdeploy.__version__) > digit_version('1.3.1'):
        return
    records = FUNCTION_REWRITER._registry._rewrite_records
    for record in records.get(RECOGNIZER_FORWARD, []):
        if record['_object'] is module.base_recognizer__forward:
            record['_object'] = recognizer_forward


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Run a function on a module right after it is first imported.

    MMDeploy imports its ``mmaction`` codebase only when a task is built, and
    importing it from ``import kinet_mm`` would add MMDeploy's import time to
    every kinet_mm user; this finder waits for MMDeploy's own import instead.
    """

    def __init__(self, hooks: Dict[str, Callable]) -> None:
        self.hooks = hooks

    def find_spec(self, name, path, target=None):
        if name not in self.hooks:
            return None
        sys.meta_path.remove(self)  # find the real spec without us
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader, self.hooks[name])
        return spec


class _PatchingLoader(importlib.abc.Loader):

    def __init__(self, loader, hook: Callable) -> None:
        self.loader = loader
        self.hook = hook

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        self.hook(module)


_AFTER_IMPORT = {
    VIDEO_RECOGNITION: fix_video_recognition,
    VIDEO_RECOGNITION_MODEL: fix_backend_predictions,
    RECOGNIZER_REWRITER: fix_recognizer_rewriter,
}
_FINDER = _AfterImport(_AFTER_IMPORT)


def apply_mmdeploy_shims() -> None:
    """Apply shim 1 now and shims 2-6 to MMDeploy's modules now or, if they
    are not imported yet, when MMDeploy imports them."""
    torchscript_exporter_for_mmdeploy()
    for name, fix in _AFTER_IMPORT.items():
        if name in sys.modules:
            fix(sys.modules[name])
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
