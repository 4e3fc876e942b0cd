# MMDeploy's configs/_base_/torchscript_config.py (1.3.1).
ir_config = dict(
    type='torchscript',
    save_file='end2end.pt',
    input_names=['input'],
    output_names=['output'],
    input_shape=None)
