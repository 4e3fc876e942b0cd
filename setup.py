"""Build hook of kinet_mm: the OpenMMLab ``.mim`` extension.

Metadata and dependencies are in ``setup.cfg``. This file only adds what
OpenMMLab packages add in their ``setup.py``: ``configs/``, ``tools/`` and
``model-index.yml`` go into ``kinet_mm/.mim/``, where ``mim`` (``mim search``,
``mim train kinet_mm ...``) and MMEngine's ``kinet_mm::`` config prefix look
for them. A wheel or sdist gets copies; an editable install gets symlinks, so
edits to ``configs/`` are seen at once.
"""
import os
import os.path as osp
import platform
import shutil
import sys

from setuptools import setup

MIM_FILES = ('configs', 'tools', 'model-index.yml')


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
    repo = osp.dirname(osp.abspath(__file__))
    mim_dir = osp.join(repo, 'kinet_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(repo, name)
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
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(include_package_data=True)
