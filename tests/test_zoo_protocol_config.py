"""The zoo-protocol KINet-R50 differs from MMAction2's zoo TSN-R50 only by the
model (which is the paper's: both configs inherit configs/_base_/models/
kinet_r50.py)."""
from pathlib import Path

import mmaction
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[1] / 'configs' / 'kinet'
ZOO_TSN = str(
    Path(mmaction.__file__).parent / '.mim' / 'configs' / 'recognition' / 'tsn' /
    'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
ZOO_KINET = (
    CONFIGS / 'kinet_imagenet-pretrained-r50_8xb32-1x1x3-100e_'
    'kinetics400-rgb_zoo-protocol.py')


def unscoped(node):
    """``node`` without the ``_scope_='mmaction'`` that inheriting through
    ``mmaction::`` adds (MMAction2's default scope either way)."""
    if isinstance(node, dict):
        return {
            k: unscoped(v)
            for k, v in node.items() if (k, v) != ('_scope_', 'mmaction')
        }
    if isinstance(node, (list, tuple)):
        return type(node)(unscoped(v) for v in node)
    return node


def test_only_the_model_differs_from_the_zoo_tsn():
    zoo = unscoped(Config.fromfile(ZOO_TSN).to_dict())
    ours = unscoped(Config.fromfile(str(ZOO_KINET)).to_dict())
    # Every setting of the zoo config (dataloaders and pipelines, train/val/
    # test loops, schedule, optimizer, evaluators, hooks, runtime) is kept.
    for key in zoo.keys() - {'model'}:
        assert ours[key] == zoo[key], key
    assert ours.keys() - zoo.keys() == {'custom_imports'}
    assert ours['train_cfg']['max_epochs'] == 100
    assert ours['test_dataloader']['dataset']['pipeline'] == zoo['test_pipeline']
    # The model keeps the zoo's backbone and input normalisation.
    model, zoo_model = ours['model'], zoo['model']
    assert model['backbone']['backbone'] == zoo_model['backbone']
    assert model['data_preprocessor'] == zoo_model['data_preprocessor']
    assert (model['type'], zoo_model['type']) == ('KINet', 'Recognizer2D')
