# TensorRT on a GPU, the paper's test protocol (25 segments x 10 crops of
# 224x224 = 250 frames per video).
_base_ = ['./video-recognition_2d_tensorrt_static-112x112.py']
onnx_config = dict(input_shape=[224, 224])
shape = [1, 250, 3, 224, 224]
backend_config = dict(model_inputs=[
    dict(
        input_shapes=dict(
            input=dict(min_shape=shape, opt_shape=shape, max_shape=shape)))
])
