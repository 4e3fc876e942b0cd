"""Build hook of kinet_mm: the OpenMMLab ``.mim`` extension.

Metadata and dependencies are in ``setup.cfg``. This file only adds what
OpenMMLab packages add in their ``setup.py``: ``configs/``, ``tools/`` and
``model-index.yml`` go into ``kinet_mm/.mim/``, where ``mim`` (``mim search``,
``mim train kinet_mm ...``) and MMEngine's ``kinet_mm::`` config prefix look
for them. A wheel or sdist gets copies; an editable install gets symlinks, so
edits to ``configs/`` are seen at once.

It also installs ``kinet_mm_hook.pth`` next to the package, in a wheel and in
an editable install alike: the start-up hook of ``kinet_mm_hook.py`` (the
``kinet_mm::`` prefix wherever MMEngine reads a config, ``mim`` with an
editable kinet_mm; see ``docs/compat.md``).
"""
import os
import os.path as osp
import platform
import shutil
import sys
from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

MIM_FILES = ('configs', 'tools', 'model-index.yml')
#: Run by Python at start-up from site-packages (``import kinet_mm_hook``).
HOOK_PTH = 'kinet_mm_hook.pth'
REPO = osp.dirname(osp.abspath(__file__))


def mim_mode(argv) -> str:
    """``'symlink'``, ``'copy'`` or ``''`` (nothing to do) for a setup command."""
    if 'develop' in argv or 'editable_wheel' in argv:
        # `pip install -e .`: `develop` (legacy) or `editable_wheel` (PEP 660).
        return 'copy' if platform.system() == 'Windows' else 'symlink'
    if 'sdist' in argv or 'bdist_wheel' in argv:
        return 'copy'
    return ''


def add_mim_extension() -> None:
    """Put ``MIM_FILES`` into ``kinet_mm/.mim`` (as OpenMMLab's setup.py do)."""
    mode = mim_mode(sys.argv)
    if not mode:
        return
    mim_dir = osp.join(REPO, 'kinet_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(REPO, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithHook(build_py):
    """``build_py`` that also puts :data:`HOOK_PTH` at the root of the wheel."""

    def run(self) -> None:
        super().run()
        self.copy_file(osp.join(REPO, HOOK_PTH), osp.join(self.build_lib, HOOK_PTH))


class EditableWheelWithHook(editable_wheel):
    """``editable_wheel`` (``pip install -e .``) that installs :data:`HOOK_PTH`.

    An editable wheel holds only setuptools' own ``.pth`` and finder, whatever
    ``build_py`` wrote; we add ours to the unpacked wheel, whose every file
    setuptools writes into the wheel (setuptools<81, as requirements/build.txt
    pins it; tests/test_mim_packaging.py checks an editable install).
    """

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        outputs = super()._run_build_commands(dist_name, unpacked_wheel, build_lib,
                                              tmp_dir)
        shutil.copyfile(osp.join(REPO, HOOK_PTH), osp.join(unpacked_wheel, HOOK_PTH))
        return outputs


if __name__ == '__main__':
    add_mim_extension()
    setup(
        include_package_data=True,
        cmdclass=dict(build_py=BuildPyWithHook, editable_wheel=EditableWheelWithHook))
