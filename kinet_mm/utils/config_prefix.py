"""The ``kinet_mm::`` config prefix: ``_base_ = 'kinet_mm::kinet/xxx.py'``.

MMEngine resolves ``<package>::<path>`` bases only for the packages of its
``MODULE2PACKAGE`` table (``AssertionError: mmengine does not support to load
kinet_mm config.`` otherwise), then looks for ``<path>`` in the installed
package's ``.mim/configs`` (which an editable install, or a source checkout on
``PYTHONPATH``, does not have). Importing :mod:`kinet_mm` therefore

1. adds ``kinet_mm`` to ``MODULE2PACKAGE`` (MMEngine's own lookup then works
   for a regular install, whose wheel carries ``kinet_mm/.mim/configs``), and
2. resolves ``kinet_mm::`` paths next to the *imported* package first: its
   ``.mim/configs``, else the ``configs/`` of the source tree it lives in. So
   the configs always match the code that runs, whatever the install mode.

``kinet_mm`` must be imported before the config is parsed, which
``tools/train.py`` / ``tools/test.py`` of this repository (also the copies that
``mim train kinet_mm`` runs) do. MMAction2's own ``tools/train.py`` does not:
see ``docs/mim.md`` for what to run instead.

Configs reached through ``kinet_mm::`` are built in MMAction2's scope: every
kinet_mm module is registered in MMAction2's registries.
"""
import os.path as osp
from typing import Optional, Tuple

PREFIX = 'kinet_mm::'
#: The registry scope of configs read through :data:`PREFIX`.
SCOPE = 'mmaction'


def config_root() -> str:
    """Folder of kinet_mm's configs for the imported package.

    Returns:
        str: ``<package>/.mim/configs`` if present (wheel / ``pip install .``),
        else ``<source tree>/configs`` (editable install, checkout).
    """
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    candidates = (osp.join(package, '.mim', 'configs'),
                  osp.join(osp.dirname(package), 'configs'))
    for candidate in candidates:
        if osp.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f'kinet_mm configs not found at {" or ".join(candidates)}: reinstall '
        'kinet_mm (pip install .) so its wheel carries kinet_mm/.mim/configs.')


def resolve(cfg_path: str) -> Optional[Tuple[str, str]]:
    """``(absolute path, scope)`` of a ``kinet_mm::`` path, None for others."""
    if not cfg_path.startswith(PREFIX):
        return None
    path = osp.join(config_root(), cfg_path[len(PREFIX):])
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{cfg_path}: no such config under {config_root()} (names are '
            f'relative to configs/, e.g. {PREFIX}kinet/kinet_r18_1x1x3_'
            'realclips-cpu.py)')
    return path, SCOPE


def register_config_prefix() -> None:
    """Teach MMEngine's :class:`Config` the ``kinet_mm::`` prefix (idempotent)."""
    from mmengine.config import Config
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE.setdefault('kinet_mm', 'kinet_mm')
    original = Config.__dict__['_get_cfg_path'].__func__
    if getattr(original, '_kinet_mm', False):
        return

    def _get_cfg_path(cfg_path: str, filename: str):
        resolved = resolve(cfg_path)
        return resolved if resolved else original(cfg_path, filename)

    _get_cfg_path._kinet_mm = True
    _get_cfg_path.__doc__ = original.__doc__
    Config._get_cfg_path = staticmethod(_get_cfg_path)
