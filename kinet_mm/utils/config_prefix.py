"""The ``kinet_mm::`` config prefix: ``_base_ = 'kinet_mm::kinet/xxx.py'``.

The implementation lives in the top-level module :mod:`kinet_mm_hook`, which
an installed kinet_mm also runs at interpreter start-up (``kinet_mm_hook.pth``)
so that the prefix works wherever MMEngine reads a config, before anything
imports kinet_mm (MMAction2's ``tools/train.py``). Importing :mod:`kinet_mm`
registers it too, for a checkout on ``PYTHONPATH`` without the ``.pth``.

MMEngine resolves ``<package>::<path>`` bases only for the packages of its
``MODULE2PACKAGE`` table (``AssertionError: mmengine does not support to load
kinet_mm config.`` otherwise), then looks for ``<path>`` in the installed
package's ``.mim/configs`` (which an editable install, or a source checkout on
``PYTHONPATH``, does not have). Registering the prefix

1. adds ``kinet_mm`` to ``MODULE2PACKAGE``, and
2. resolves ``kinet_mm::`` paths next to the *imported* package first: its
   ``.mim/configs``, else the ``configs/`` of the source tree it lives in. So
   the configs always match the code that runs, whatever the install mode.

Configs reached through ``kinet_mm::`` are built in MMAction2's scope: every
kinet_mm module is registered in MMAction2's registries. See ``docs/mim.md``.
"""
from kinet_mm_hook import config_root  # noqa: F401
from kinet_mm_hook import PREFIX, SCOPE, register_config_prefix, resolve

__all__ = ['PREFIX', 'SCOPE', 'config_root', 'register_config_prefix', 'resolve']
