"""kinet_mm's start-up hook: patches that must be in place before anything
imports :mod:`kinet_mm`.

An install of kinet_mm (wheel, ``pip install .`` or ``pip install -e .``) puts
``kinet_mm_hook.pth`` into site-packages; Python runs its one line,
``import kinet_mm_hook; kinet_mm_hook.install()``, at every interpreter start.
:func:`install` only adds a meta-path finder (about 1 ms of start-up, see
``docs/compat.md``); nothing is imported or patched until one of the watched
modules is first imported, right after that module has executed:

``mmengine.config``
    The ``kinet_mm::`` config prefix (:func:`register_config_prefix`):
    MMEngine reads ``_base_ = 'kinet_mm::...'`` in any tool, e.g. MMAction2's
    ``tools/train.py``, which parses the config before ``custom_imports``
    could import kinet_mm.
``mim.utils.utils``
    openmim's ``get_installed_path('kinet_mm')`` of an editable (PEP 660)
    install: mim looks for ``site-packages/kinet_mm``, which such an install
    does not have; we return the imported package's folder.
``mim.click.customcommand``
    openmim 0.3.9's ``CustomCommand.parse_args`` (a copy of click<8.3's)
    leaves click>=8.3's ``UNSET`` sentinel in unset options: ``mim train/test
    --launcher slurm`` without ``--srun-args`` fails on ``'Sentinel' object
    has no attribute 'split'``.

Each patch is gated on the versions it was written for (:func:`version_gate`);
:mod:`kinet_mm.compat` lists them with the others (``compat.SHIMS``).
``KINET_MM_NO_HOOK=1`` turns the hook off. This module imports nothing but
:mod:`sys` at start-up and never imports :mod:`kinet_mm` (whose import pulls
in MMAction2 and torch).
"""
import sys

#: Configs read through this prefix resolve in kinet_mm's ``configs/``.
PREFIX = 'kinet_mm::'
#: The registry scope of configs read through :data:`PREFIX`.
SCOPE = 'mmaction'


class CompatVersionWarning(UserWarning):
    """A shim of kinet_mm was not applied: the patched package's version is
    not one it was written and tested for."""


#: Distribution -> module whose ``__version__`` it is: read from the imported
#: module, the gate costs nothing (importlib.metadata and packaging would add
#: ~25 ms to every process that imports mmengine.config).
_MODULES = {
    'mmengine': 'mmengine',
    'mmaction2': 'mmaction',
    'torch': 'torch',
    'openmim': 'mim'
}


def installed_version(dist: str):
    """Version of ``dist``: its imported module's ``__version__``, else from
    the installed metadata; None if not installed."""
    module = sys.modules.get(_MODULES.get(dist, dist))
    if getattr(module, '__version__', None):
        return str(module.__version__)
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _release(text: str) -> tuple:
    """``'2.14.1+cpu'`` -> ``(2, 14, 1)``; ``'1.2.0rc1'`` -> ``(1, 2, 0)``."""
    numbers = []
    for part in text.split('+')[0].split('.'):
        digits = len(part) - len(part.lstrip('0123456789'))
        if not digits:
            break
        numbers.append(int(part[:digits]))
        if digits < len(part):  # 0rc1: stop at the pre-release tag
            break
    return tuple(numbers)


def matches(version: str, specifier: str) -> bool:
    """Whether ``version`` satisfies ``specifier``: comma-separated clauses of
    ``==``, ``!=``, ``>=``, ``<=``, ``>``, ``<`` (release numbers compared,
    padded with zeros), e.g. ``'>=2.6'``, ``'==0.10.7'``, ``'>=1.2,<1.3'``."""
    ops = {
        '==': tuple.__eq__,
        '!=': tuple.__ne__,
        '>=': tuple.__ge__,
        '<=': tuple.__le__,
        '>': tuple.__gt__,
        '<': tuple.__lt__
    }
    for clause in specifier.split(','):
        clause = clause.strip()
        op = next(o for o in ('==', '!=', '>=', '<=', '>', '<') if clause.startswith(o))
        have, want = _release(version), _release(clause[len(op):].strip())
        width = max(len(have), len(want))
        have += (0, ) * (width - len(have))
        want += (0, ) * (width - len(want))
        if not ops[op](have, want):
            return False
    return True


def version_gate(shim: str, fixes: dict) -> bool:
    """Whether the installed versions are those ``shim`` was written for.

    Args:
        shim (str): The shim's name, for the warning.
        fixes (dict): ``{distribution: specifier}``, e.g.
            ``{'mmengine': '==0.10.7'}`` (see :func:`matches`).

    Returns:
        bool: True if every distribution matches. Otherwise a
        :class:`CompatVersionWarning` names the shim and the versions found,
        and the caller must not apply it.
    """
    found = {dist: installed_version(dist) for dist in fixes}
    wrong = {
        dist: ver
        for dist, ver in found.items() if ver is None or not matches(ver, fixes[dist])
    }
    if not wrong:
        return True
    import warnings
    found = ', '.join(f'{dist} {ver or "(not installed)"}'
                      for dist, ver in wrong.items())
    wanted = ', '.join(f'{dist}{spec}' for dist, spec in fixes.items())
    warnings.warn(
        f'kinet_mm: shim {shim!r} not applied: written and tested for '
        f'{wanted}, found {found}. Run tests/test_compat.py with this version; '
        'widen the range in kinet_mm/compat.py (SHIMS) if it is still needed, '
        'drop the shim if not.',
        CompatVersionWarning,
        stacklevel=2)
    return False


# -- the kinet_mm:: config prefix ---------------------------------------------


def package_dir() -> str:
    """Folder of the kinet_mm package Python imports (without importing it)."""
    module = sys.modules.get('kinet_mm')
    if module is not None and getattr(module, '__file__', None):
        import os.path as osp
        return osp.dirname(osp.abspath(module.__file__))
    import importlib.util
    spec = importlib.util.find_spec('kinet_mm')
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "kinet_mm is not importable: install it (pip install -e .) or put "
            "its checkout on PYTHONPATH",
            name='kinet_mm')
    return list(spec.submodule_search_locations)[0]


def config_root() -> str:
    """Folder of kinet_mm's configs for the imported package.

    Returns:
        str: ``<package>/.mim/configs`` if present (wheel / ``pip install .``),
        else ``<source tree>/configs`` (editable install, checkout).
    """
    import os.path as osp
    package = package_dir()
    candidates = (osp.join(package, '.mim',
                           'configs'), osp.join(osp.dirname(package), 'configs'))
    for candidate in candidates:
        if osp.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f'kinet_mm configs not found at {" or ".join(candidates)}: reinstall '
        'kinet_mm (pip install .) so its wheel carries kinet_mm/.mim/configs.')


def resolve(cfg_path: str):
    """``(absolute path, scope)`` of a ``kinet_mm::`` path, None for others."""
    if not cfg_path.startswith(PREFIX):
        return None
    import os.path as osp
    path = osp.join(config_root(), cfg_path[len(PREFIX):])
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{cfg_path}: no such config under {config_root()} (names are '
            f'relative to configs/, e.g. {PREFIX}kinet/kinet_r18_1x1x3_'
            'realclips-cpu.py)')
    return path, SCOPE


#: Versions of MMEngine whose private ``Config._get_cfg_path`` and
#: ``MODULE2PACKAGE`` table the prefix patch was written for.
PREFIX_FIXES = {'mmengine': '==0.10.7'}


def register_config_prefix(config_module=None) -> None:
    """Teach MMEngine's :class:`Config` the ``kinet_mm::`` prefix (idempotent).

    MMEngine resolves ``<package>::<path>`` only for the packages of its
    ``MODULE2PACKAGE`` table, and looks for ``<path>`` in the installed
    package's ``.mim/configs``, which an editable install or a checkout on
    ``PYTHONPATH`` does not have. We add kinet_mm to the table and resolve its
    paths next to the imported package first (:func:`config_root`), so configs
    and code never come from two different copies.
    """
    if config_module is None:
        import mmengine.config as config_module
    config_class = config_module.Config
    original = config_class.__dict__['_get_cfg_path'].__func__
    if getattr(original, '_kinet_mm',
               False) or not version_gate('kinet_mm:: config prefix', PREFIX_FIXES):
        return
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE.setdefault('kinet_mm', 'kinet_mm')

    def _get_cfg_path(cfg_path: str, filename: str):
        resolved = resolve(cfg_path)
        return resolved if resolved else original(cfg_path, filename)

    _get_cfg_path._kinet_mm = True
    _get_cfg_path.__doc__ = original.__doc__
    config_class._get_cfg_path = staticmethod(_get_cfg_path)


# -- openmim ------------------------------------------------------------------

#: The openmim release whose ``get_installed_path`` / ``CustomCommand`` the
#: patches below were written for.
MIM_FIXES = {'openmim': '==0.3.9'}


def patch_mim_installed_path(utils_module) -> None:
    """``get_installed_path('kinet_mm')`` finds an editable kinet_mm."""
    original = utils_module.get_installed_path
    if getattr(original, '_kinet_mm',
               False) or not version_gate('mim: editable kinet_mm', MIM_FIXES):
        return
    import functools
    import os.path as osp

    @functools.wraps(original)
    def get_installed_path(package: str) -> str:
        path = original(package)
        # A PEP 660 editable install has kinet_mm's metadata in site-packages
        # but the package in the source tree.
        if package == 'kinet_mm' and not osp.isdir(path):
            return package_dir()
        return path

    get_installed_path._kinet_mm = True
    utils_module.get_installed_path = get_installed_path


def patch_mim_unset_options(command_module) -> None:
    """openmim's own ``parse_args`` hands unset options over as ``None``."""
    try:
        from click._utils import UNSET
    except ImportError:  # click<8.3 passes None itself
        return
    command_class = command_module.CustomCommand
    original = command_class.parse_args
    if getattr(original, '_kinet_mm', False) or not version_gate(
            'mim: unset options under click>=8.3', MIM_FIXES):
        return

    def parse_args(self, ctx, args):
        rest = original(self, ctx, args)
        # What click>=8.3's own Command.parse_args does after parsing.
        for name, value in ctx.params.items():
            if value is UNSET:
                ctx.params[name] = None
        return rest

    parse_args._kinet_mm = True
    parse_args.__doc__ = original.__doc__
    command_class.parse_args = parse_args


#: Module -> patch run right after the module first executes.
WATCHED = {
    'mmengine.config': register_config_prefix,
    'mim.utils.utils': patch_mim_installed_path,
    'mim.click.customcommand': patch_mim_unset_options,
}

# -- the import hook ----------------------------------------------------------


def _run_patch(name: str, module) -> None:
    try:
        WATCHED[name](module)
    except Exception as err:  # never break the user's import
        import warnings
        warnings.warn(
            f'kinet_mm_hook: patching {name} failed ({err!r}); '
            'set KINET_MM_NO_HOOK=1 and report it', CompatVersionWarning)


class _PatchingLoader:
    """Runs the real loader, then the module's patch."""

    def __init__(self, loader, name: str) -> None:
        self.loader = loader
        self.name = name

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        # Leave no trace of this wrapper in the module.
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _run_patch(self.name, module)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


class _Watcher:
    """Meta-path finder that wraps the loader of each watched module once."""

    def __init__(self, names) -> None:
        self.pending = set(names)

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in self.pending:
            return None
        self.pending.discard(fullname)
        if not self.pending and self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
            spec.loader = _PatchingLoader(spec.loader, fullname)
        return spec


def install() -> None:
    """Patch the watched modules when they are first imported (idempotent)."""
    import os
    if os.environ.get('KINET_MM_NO_HOOK'):
        return
    if any(
            type(f).__name__ == '_Watcher' and type(f).__module__ == __name__
            for f in sys.meta_path):
        return
    pending = []
    for name in WATCHED:
        if name in sys.modules:
            _run_patch(name, sys.modules[name])
        else:
            pending.append(name)
    if pending:
        sys.meta_path.insert(0, _Watcher(pending))
