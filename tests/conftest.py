"""Shared pytest setup: MMAction2's registries and default scope, data paths.

Helpers shared by several test files live in ``tests/fixtures/`` (paths,
stand-in teachers); the fixtures here are what pytest injects.
"""
import pytest
from fixtures import REAL_CLIPS
from mmaction.utils import register_all_modules

import kinet_mm  # noqa: F401  (shims + registration before any test imports)


@pytest.fixture(autouse=True)
def mmaction_scope():
    """Build through MMAction2's registries, as its tools do.

    Per test: a Runner built by an earlier test (e.g. with MMEngine's scope)
    leaves its own default scope current.
    """
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def real_clips():
    """The shared real action clips (``../shared/data/real_clips``)."""
    if not (REAL_CLIPS / 'train.txt').is_file():
        pytest.fail(f'real clips not found at {REAL_CLIPS}; set KINET_SHARED')
    return REAL_CLIPS
