# MMDeploy's configs/mmaction/video-recognition/video-recognition_static.py:
# the input shape is the one the model config's test pipeline makes (e.g.
# (1, 8, 3, 112, 112) for the demo KINet, (1, 250, 3, 224, 224) at the
# paper's 25 segments x 10 crops).
_base_ = ['./_base_/onnx_config.py']
codebase_config = dict(type='mmaction', task='VideoRecognition')
