# ONNX Runtime, any number of clips per call: the batch axis is dynamic, the
# views per clip and the frame size stay those of the model's test pipeline.
_base_ = ['./video-recognition_onnxruntime_static.py']
onnx_config = dict(dynamic_axes=dict(input={0: 'batch'}, output={0: 'batch'}))
