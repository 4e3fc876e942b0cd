# MMDeploy's configs/_base_/onnx_config.py (1.3.1): the ONNX intermediate
# representation. MMDeploy's configs live in its repository, not in the
# mmdeploy wheel, so the few this project uses are restated here.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=None,
    optimize=True)
