"""PSPNet-DenseNet-121 trained on LIP (Yukun-Huang/Single-Human-Parsing-LIP)
to the MMSeg segmentor of ``configs/teachers/pspnet_densenet121_lip.py``.

Source layout (``PSPNet_last``, a DataParallel state dict, ``module.`` prefix):

* ``feats``: DenseNet-121 with ``start_features.{conv0,norm0}``,
  ``denseblock{1-4}.denselayer{k}.{norm1,conv1,norm2,conv2}`` and
  ``transition{1-3}.{norm,conv}``; the same blocks are also held in the list
  ``blocks.{0-6}``, so each of their tensors is saved under both names;
* ``psp``: ``stages.{0-3}.1`` (1x1 convolutions, no bias) and ``bottleneck``;
* ``up_{1-3}.conv.{0,1,2}``: convolution, BatchNorm, PReLU;
* ``final.0``: the 20-way classifier;
* ``classifier``: an image-level auxiliary classifier used only by the
  training loss; the segmentor has no place for it and it is discarded.
"""
from typing import Dict

from torch import Tensor

from .key_accounting import KeyAccountant, strip_prefix
from .rename import apply_rules

#: ``feats.blocks`` index -> the canonical name of the same module.
_BLOCK_ALIASES = {
    0: 'denseblock1',
    1: 'transition1',
    2: 'denseblock2',
    3: 'transition2',
    4: 'denseblock3',
    5: 'transition3',
    6: 'denseblock4'
}


def map_lip_pspnet(state_dict: Dict[str, Tensor], source_name: str) -> KeyAccountant:
    """Map the LIP PSPNet-DenseNet-121 onto MMSeg ``EncoderDecoder`` with
    ``DenseNetStride8`` and ``PSPUpsampleHead``.

    Returns:
        KeyAccountant: filled; call ``finish`` with the target's state dict.
    """
    acc = KeyAccountant(strip_prefix(state_dict, 'module.'), source_name)
    apply_rules(acc, [
        (r'feats\.start_features\.conv0\.weight', 'backbone.stem.0.weight'),
        (r'feats\.start_features\.norm0\.(.+)', r'backbone.stem.1.\1'),
        (r'feats\.denseblock(\d)\.denselayer(\d+)\.(.+)',
         lambda m: f'backbone.stages.{int(m[1]) - 1}.block.'
         f'{int(m[2]) - 1}.{m[3]}'),
        (r'feats\.transition(\d)\.(norm|conv)\.(.+)',
         lambda m: f'backbone.transitions.{int(m[1]) - 1}.{m[2]}.{m[3]}'),
        (r'psp\.stages\.(\d)\.1\.weight', r'decode_head.psp_stages.\1.1.weight'),
        (r'psp\.bottleneck\.(weight|bias)', r'decode_head.bottleneck.conv.\1'),
        (r'up_(\d)\.conv\.0\.(.+)',
         lambda m: f'decode_head.up_stages.{int(m[1]) - 1}.conv.{m[2]}'),
        (r'up_(\d)\.conv\.1\.(.+)',
         lambda m: f'decode_head.up_stages.{int(m[1]) - 1}.bn.{m[2]}'),
        (r'up_(\d)\.conv\.2\.weight',
         lambda m: f'decode_head.up_stages.{int(m[1]) - 1}.activate.weight'),
        (r'final\.0\.(weight|bias)', r'decode_head.conv_seg.\1'),
    ])
    for key in list(acc.source):
        if key.startswith('feats.blocks.'):
            index, rest = key[len('feats.blocks.'):].split('.', 1)
            alias = _BLOCK_ALIASES.get(int(index))
            original = f'feats.{alias}.{rest}'
            if alias is not None and acc.has(original):
                acc.take_duplicate(key, original)
    acc.discard('classifier.', 'the training-only image-level classifier')
    return acc
