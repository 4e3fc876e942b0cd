# ONNX Runtime, static shape (MMDeploy's video-recognition_onnxruntime_static.py).
_base_ = ['./video-recognition_static.py', './_base_/backends/onnxruntime.py']
