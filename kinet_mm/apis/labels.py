"""Class names of a model's action scores (a knowledge task names its own
classes: ``BaseKnowledge.class_names``)."""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.config import Config


class LabelMapError(ValueError):
    """A label map whose length is not the number of classes of the model."""


def read_label_map(path: str,
                   num_classes: int,
                   what: str = 'action',
                   config_key: str = 'model.cls_head.num_classes') -> List[str]:
    """Read a label map, one class name a line (blank lines are skipped).

    Args:
        path (str): The label map file (e.g. MMAction2's ``label_map_k400.txt``).
        num_classes (int): Classes the model predicts.
        what (str): ``'action'`` or ``'scene'``, for the error message.
        config_key (str): The config key that sets ``num_classes``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        LabelMapError: If it does not hold exactly ``num_classes`` names.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} label map not found: {path}')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    return _checked(names, num_classes, f'{what} label map {path}', what, config_key)


def _checked(names: Sequence[str], num_classes: int, source: str, what: str,
             config_key: str) -> List[str]:
    if len(names) != num_classes:
        raise LabelMapError(
            f'{source} has {len(names)} names but the model predicts '
            f'{num_classes} {what} classes ({config_key}); give one name a '
            f'line, {num_classes} lines, in the order of the training labels')
    return list(names)


def _indices(num_classes: int) -> List[str]:
    return [str(i) for i in range(num_classes)]


def action_class_names(cfg: Config,
                       num_classes: int,
                       label_map: Optional[str] = None) -> List[str]:
    """Action class names: ``label_map``, else the config's dataset classes.

    The config's ``test_dataloader.dataset.metainfo.classes`` (a list, or a
    file as in the real-clip configs) is the default; without either, the
    class indices are the names.
    """
    if label_map is not None:
        return read_label_map(label_map, num_classes)
    classes: Union[str, Sequence[str],
                   None] = cfg.get('test_dataloader', {}).get('dataset',
                                                              {}).get('metainfo',
                                                                      {}).get('classes')
    key = 'test_dataloader.dataset.metainfo.classes'
    if isinstance(classes, str):
        if not osp.isfile(classes):
            return _indices(num_classes)
        return _checked([line.strip() for line in _read_lines(classes)], num_classes,
                        f'{key} ({classes})', 'action', 'model.cls_head.num_classes')
    if classes:
        return _checked(classes, num_classes, key, 'action',
                        'model.cls_head.num_classes')
    return _indices(num_classes)


def _read_lines(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        return [line for line in f if line.strip()]
