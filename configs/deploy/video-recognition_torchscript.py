# TorchScript (MMDeploy's video-recognition_torchscript.py): a traced module
# (end2end.pt) that torch.jit.load runs without kinet_mm.
_base_ = ['./_base_/torchscript_config.py', './_base_/backends/torchscript.py']
codebase_config = dict(type='mmaction', task='VideoRecognition')
