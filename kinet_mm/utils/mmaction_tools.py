"""MMAction2's shipped scripts (``mmaction/.mim/tools/...``) as modules.

The mmaction2 wheel ships ``tools/`` under ``mmaction/.mim/``, a folder that is
not importable by name. Where kinet_mm reuses such a script's functions instead
of rewriting them (``check_videos.py``, ``flow_extraction.py``), it loads the
file once with :func:`load_mmaction_tool`.
"""
import importlib.util
import os.path as osp
import sys
from types import ModuleType


def mmaction_tool_path(relpath: str) -> str:
    """Path of ``tools/<relpath>`` in the installed mmaction2."""
    import mmaction
    return osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', relpath)


def load_mmaction_tool(relpath: str) -> ModuleType:
    """Load ``tools/<relpath>`` of the installed mmaction2, once per process.

    Args:
        relpath (str): e.g. ``'misc/flow_extraction.py'``.

    Returns:
        The module; it is cached in ``sys.modules`` as
        ``mmaction_tools_<name>`` (scripts may register transforms on import,
        which must happen once).
    """
    name = 'mmaction_tools_' + osp.splitext(osp.basename(relpath))[0]
    if name in sys.modules:
        return sys.modules[name]
    path = mmaction_tool_path(relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMAction2\'s tools/{relpath} is not at {path}: reinstall '
            'mmaction2 (its wheel ships tools/ under mmaction/.mim/).')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
