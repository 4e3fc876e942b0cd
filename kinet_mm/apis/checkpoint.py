"""Load a checkpoint for inference, refusing one that does not fit the model."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_state_dict

#: Names listed per kind of mismatch before the rest is counted.
MAX_LISTED_KEYS = 10


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights are not those of the model the config builds."""


def _listed(keys: Sequence[str]) -> str:
    shown = ', '.join(keys[:MAX_LISTED_KEYS])
    more = len(keys) - MAX_LISTED_KEYS
    return shown + (f' (+{more} more)' if more > 0 else '')


def state_dict_mismatches(model: nn.Module, state_dict: Dict) -> List[str]:
    """Lines describing how ``state_dict`` differs from ``model.state_dict()``.

    BatchNorm's ``num_batches_tracked`` counters may be absent (MMEngine does
    not require them either). An empty list means the two match.
    """
    expected = model.state_dict()
    missing = [
        key for key in expected
        if key not in state_dict and not key.endswith('num_batches_tracked')
    ]
    unexpected = [key for key in state_dict if key not in expected]
    shapes = [
        f'{key}: checkpoint {tuple(state_dict[key].shape)} vs model '
        f'{tuple(expected[key].shape)}' for key in expected
        if key in state_dict and hasattr(state_dict[key], 'shape')
        and state_dict[key].shape != expected[key].shape
    ]
    lines = []
    if missing:
        lines.append(f'{len(missing)} model keys missing from the checkpoint: '
                     f'{_listed(missing)}')
    if unexpected:
        lines.append(f'{len(unexpected)} checkpoint keys the model does not have: '
                     f'{_listed(unexpected)}')
    if shapes:
        lines.append(f'{len(shapes)} shape mismatches: {_listed(shapes)}')
    return lines


def load_checkpoint_strict(model: nn.Module,
                           filename: str,
                           config_name: Optional[str] = None,
                           map_location: str = 'cpu') -> Dict:
    """Load ``filename`` into ``model`` only if every key and shape matches.

    MMAction2's ``init_recognizer`` loads non-strictly: a TSN checkpoint given
    to a KINet config only logs a warning and leaves the branches random. For
    inference that is always a mistake, so it is an error here.

    Args:
        model (nn.Module): The model built from the config.
        filename (str): Checkpoint path (a Runner checkpoint with
            ``state_dict`` or a bare state dict; a DDP ``module.`` prefix is
            removed as MMEngine does).
        config_name (str, optional): Named in the error message.
        map_location (str): Where to load the tensors. Defaults to ``'cpu'``.

    Returns:
        dict: The loaded checkpoint (``meta`` included when present).

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        CheckpointMismatchError: Listing the missing, unexpected and
            mis-shaped keys.
    """
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    # Weights-only unpickling (torch>=2.6 default; Runner checkpoints are
    # allow-listed by kinet_mm.compat).
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = {
        (key[len('module.'):] if key.startswith('module.') else key): value
        for key, value in state_dict.items()
    }
    problems = state_dict_mismatches(model, state_dict)
    if problems:
        target = f'the model of {config_name}' if config_name else 'the model'
        raise CheckpointMismatchError(
            f'checkpoint {filename} does not match {target}:\n  - ' +
            '\n  - '.join(problems) +
            '\nWas it trained with this config? (e.g. a TSN checkpoint given '
            'to a KINet config, or another model.cls_head.num_classes; a '
            'tools/export_deploy.py checkpoint needs its _deploy.py config)')
    load_state_dict(model, state_dict, strict=True)
    return checkpoint
