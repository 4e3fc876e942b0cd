"""Run a model exported by MMDeploy (ONNX Runtime or TorchScript) like a
PyTorch recognizer: same test pipeline, same ``test_step``, same scores."""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config

#: Backend of an exported file, by extension (MMDeploy's file names).
BACKENDS = {'.onnx': 'onnxruntime', '.pt': 'torchscript'}


def default_deploy_config(backend_file: str) -> Config:
    """The deploy config MMDeploy needs to *run* ``backend_file`` (its
    backend and I/O names; configs/deploy/ has the export configs).

    Raises:
        ValueError: If the extension is neither ``.onnx`` nor ``.pt``.
    """
    ext = osp.splitext(str(backend_file))[1]
    if ext not in BACKENDS:
        raise ValueError(
            f'{backend_file}: unknown backend model type {ext!r}; expected one '
            f'of {sorted(BACKENDS)} (ONNX Runtime, TorchScript), or pass the '
            'deploy config it was exported with')
    io = dict(input_names=['input'], output_names=['output'], input_shape=None)
    ir = dict(onnx_config=dict(type='onnx', **io)) if ext == '.onnx' else \
        dict(ir_config=dict(type='torchscript', **io))
    return Config(
        dict(
            codebase_config=dict(type='mmaction', task='VideoRecognition'),
            backend_config=dict(type=BACKENDS[ext]),
            **ir))


class DeployedRecognizer(nn.Module):
    """An exported recognizer behind MMAction2's recognizer interface.

    Wraps MMDeploy's backend model (``task_processor.build_backend_model``):
    ``test_step`` takes the test pipeline's batch and returns
    ``ActionDataSample`` s with ``pred_score`` ``(num_classes, )``, as a
    PyTorch recognizer's does, so :func:`kinet_mm.apis.inference_kinet` and
    the demo score a video with it unchanged. It has no auxiliary branch
    output and no gradients (no Grad-CAM).

    Attributes:
        cfg (Config): The model config (its test pipeline decodes videos).
        backend_file (str): The exported file.
        backend (str): ``'onnxruntime'`` or ``'torchscript'``.
    """

    def __init__(self, backend_model: nn.Module, cfg: Config, backend_file: str,
                 backend: str) -> None:
        super().__init__()
        self.backend_model = backend_model
        self.cfg = cfg
        self.backend_file = backend_file
        self.backend = backend

    @property
    def data_preprocessor(self) -> nn.Module:
        return self.backend_model.data_preprocessor

    @torch.no_grad()
    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backend scores of preprocessed inputs ``(N, views, C, ...)``:
        ``(N, num_classes)``."""
        model = self.backend_model
        output = model.wrapper({model.input_name: inputs.to(model.device)})
        return output[model.output_names[0]].cpu()

    @torch.no_grad()
    def test_step(self, data: Dict) -> List:
        data = self.data_preprocessor(data, False)
        scores = self.scores(data['inputs'])
        samples = data['data_samples']
        for sample, score in zip(samples, scores):
            sample.set_pred_score(score)
        return samples


def init_deployed(config: Union[str, Path, Config],
                  backend_file: str,
                  device: str = 'cpu',
                  deploy_cfg: Union[str, Config, None] = None,
                  cfg_options: Optional[Dict] = None) -> DeployedRecognizer:
    """Load an exported model with MMDeploy's backend model.

    Args:
        config (str | Path | Config): The model config it was exported from
            (its test pipeline decodes videos; :func:`kinet_mm.deploy.
            deploy_config` is applied, so the training config works too).
        backend_file (str): ``end2end.onnx`` or ``end2end.pt``.
        device (str): Defaults to ``'cpu'``.
        deploy_cfg (str | Config, optional): Deploy config of the export;
            defaults to :func:`default_deploy_config` of the file's extension.
        cfg_options (dict, optional): Overrides merged into the config.

    Raises:
        FileNotFoundError: If ``backend_file`` does not exist.
    """
    from mmdeploy.apis.utils import build_task_processor
    from mmdeploy.utils import get_backend, load_config

    from ..deploy import deploy_config
    if not osp.isfile(str(backend_file)):
        raise FileNotFoundError(f'backend model not found: {backend_file}')
    cfg = Config.fromfile(config) if isinstance(config, (str, Path)) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg = deploy_config(cfg)
    deploy_cfg = load_config(deploy_cfg)[0] if deploy_cfg is not None else \
        default_deploy_config(backend_file)
    task = build_task_processor(cfg, deploy_cfg, device)
    backend_model = task.build_backend_model([str(backend_file)],
                                             task.update_data_preprocessor)
    return DeployedRecognizer(backend_model, cfg, str(backend_file),
                              get_backend(deploy_cfg).value)


def export_model(config: Union[str, Path, Config],
                 deploy_cfg: Union[str, Config],
                 video: str,
                 work_dir: str,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu') -> str:
    """MMDeploy's ``torch2onnx`` or ``torch2torchscript``, as its
    ``tools/deploy.py`` calls them; returns the written file.

    Args:
        video (str): A video the test pipeline decodes, for the export's
            example input (its shape is the static input shape).
    """
    from mmdeploy.apis import torch2onnx, torch2torchscript
    from mmdeploy.utils import IR, get_ir_config, load_config
    deploy_cfg = load_config(deploy_cfg)[0]
    ir = get_ir_config(deploy_cfg)
    export = torch2torchscript if IR.get(ir['type']) == IR.TORCHSCRIPT \
        else torch2onnx
    export(
        str(video), str(work_dir), ir['save_file'], deploy_cfg, config, checkpoint,
        device)
    return osp.join(str(work_dir), ir['save_file'])
