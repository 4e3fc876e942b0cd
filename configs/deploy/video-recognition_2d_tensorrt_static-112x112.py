# TensorRT on a GPU, the demo KINet's input (8 frames of 112x112), as MMDeploy's
# video-recognition_2d_tensorrt_static-224x224.py. Needs the tensorrt wheel
# and a CUDA device (docs/deploy.md records where it has run).
_base_ = ['./video-recognition_static.py', './_base_/backends/tensorrt.py']
onnx_config = dict(input_shape=[112, 112])
shape = [1, 8, 3, 112, 112]
backend_config = dict(
    common_config=dict(max_workspace_size=1 << 30),
    model_inputs=[
        dict(
            input_shapes=dict(
                input=dict(min_shape=shape, opt_shape=shape, max_shape=shape)))
    ])
