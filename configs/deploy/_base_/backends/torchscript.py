backend_config = dict(type='torchscript')
