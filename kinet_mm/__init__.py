"""kinet_mm: Knowledge Integration Networks (KINet, AAAI 2020) for MMAction2 1.x.

Importing the package applies the compatibility shims of :mod:`kinet_mm.compat`
and :mod:`kinet_mm.deployment.mmdeploy_compat` and registers every KINet
component in MMAction2's registries, so a config with
``custom_imports = dict(imports=['kinet_mm'])`` can use them.
"""
from . import compat

# The shims, the `kinet_mm::` config prefix among them (docs/compat.md).
compat.apply_all()

from .deployment import apply_mmdeploy_shims  # noqa: E402

apply_mmdeploy_shims()  # MMDeploy 1.3.1 with torch 2.14 (docs/deploy.md)

# isort: off
# yapf: disable
from . import (datasets, engine, evaluation,  # noqa: E402,F401 (registers)
               models, pseudo_labels)
from .version import __version__  # noqa: E402,F401
# yapf: enable
# isort: on
