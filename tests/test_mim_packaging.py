"""kinet_mm as an OpenMMLab package: ``kinet_mm::`` configs, ``.mim``, ``mim``.

A user's config lives outside the repository and inherits ours through the
``kinet_mm::`` prefix; it trains through our ``tools/train.py`` and through
``mim train`` of a non-editable install. MMAction2's own ``tools/train.py``
parses the config before anything imports kinet_mm: from a bare checkout on
``PYTHONPATH`` it cannot read the prefix (the test pins the error
``docs/mim.md`` shows); from an install, whose ``kinet_mm_hook.pth`` registers
the prefix at start-up, it can. The wheel is built from a copy of the
repository (the build writes ``kinet_mm/.mim`` into its source tree) and
installed into a scratch folder on ``PYTHONPATH``; the README's editable install
goes into a throwaway venv (``editable``), where ``mim search`` and ``mim
train/test kinet_mm --launcher slurm`` (stand-in srun) run.
"""
import json
import os
import os.path as osp
import re
import shutil
import site as sitepackages
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import mmaction
import pytest
from fixtures import run_command
from fixtures.slurm import free_port, rank_logs, slurm_env
from mmengine.config import Config

from kinet_mm.utils.config_prefix import config_root

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('KINET_SHARED', REPO.parent / 'shared'))
SHARED = (REPO / SHARED).resolve()  # the configs read it relative to the cwd
BIN = Path(sys.executable).parent
MMACTION_TRAIN = Path(mmaction.__file__).parent / '.mim' / 'tools' / 'train.py'
BASE = 'kinet_mm::tsn/tsn_r50_1x1x3_realclips-cpu.py'
# One iteration: 2 clips in one batch, no validation, no checkpoint file.
ONE_STEP = [
    '--cfg-options', 'train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=2',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'default_hooks.checkpoint.interval=100', 'default_hooks.checkpoint.save_last=False'
]
#: ResNet-18 instead of the config's 50, to keep the runs short.
SMALL_TSN = ['model.backbone.depth=18', 'model.cls_head.in_channels=512']


def run(*args, cwd: Path, pythonpath: str = str(REPO), ok: bool = True) -> str:
    return run_command(
        *args, cwd=cwd, ok=ok, KINET_SHARED=str(SHARED), PYTHONPATH=pythonpath)


@pytest.fixture
def user_config(tmp_path) -> Path:
    """A user's config in a folder of their own, inheriting ours."""
    folder = tmp_path / 'my_project'
    folder.mkdir()
    path = folder / 'my_tsn.py'
    # The user's diff: a ResNet-18 TSN (also keeps the test fast).
    path.write_text(f"_base_ = '{BASE}'\n"
                    'model = dict(backbone=dict(depth=18),\n'
                    '             cls_head=dict(in_channels=512, '
                    'dropout_ratio=0.25))\n'
                    "work_dir = 'work_dirs/my_tsn'\n")
    return path


def test_prefix_resolves_next_to_the_imported_package(user_config):
    cfg = Config.fromfile(str(user_config))
    assert cfg.model.cls_head.dropout_ratio == 0.25
    assert cfg.model.backbone.depth == 18
    assert cfg.model.cls_head.num_classes == 10  # from our TSN config
    assert cfg.train_dataloader.dataset.type == 'CheckedVideoDataset'
    # This checkout's configs (an editable install links .mim/configs to
    # them): the code and the configs always match.
    assert osp.realpath(config_root()) == str(REPO / 'configs')


def test_prefix_error_names_the_config_folder(tmp_path):
    path = tmp_path / 'typo.py'
    path.write_text("_base_ = 'kinet_mm::tsn/no_such_config.py'\n")
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(f'no such config under {config_root()}')):
        Config.fromfile(str(path))


@pytest.mark.slow
def test_user_config_trains_with_our_train_tool(user_config):
    run(sys.executable,
        REPO / 'tools/train.py',
        user_config,
        '--no-validate',
        *ONE_STEP,
        cwd=user_config.parent)
    # Exactly one training iteration was logged, in the config's work_dir.
    scalars = list(
        (user_config.parent / 'work_dirs/my_tsn').glob('*/vis_data/scalars.json'))
    assert len(scalars) == 1
    records = [json.loads(line) for line in scalars[0].read_text().splitlines()]
    assert [r['step'] for r in records if 'loss' in r] == [1]


@pytest.mark.slow
def test_mmaction_train_tool_cannot_read_the_prefix(user_config):
    # Without the start-up hook: a checkout on PYTHONPATH with no kinet_mm
    # installed has no kinet_mm_hook.pth; KINET_MM_NO_HOOK=1 stands for that
    # here (this environment may have one, from the README's install).
    # Documented in docs/mim.md with the alternatives.
    log = run_command(
        sys.executable,
        MMACTION_TRAIN,
        user_config,
        '--no-validate',
        cwd=user_config.parent,
        ok=False,
        KINET_SHARED=str(SHARED),
        PYTHONPATH=str(REPO),
        KINET_MM_NO_HOOK='1')
    assert 'AssertionError: mmengine does not support to load kinet_mm ' \
        'config.' in log


# ------------------------------------------------------ packaging and mim


def copy_repo(dst: Path) -> Path:
    shutil.copytree(
        REPO,
        dst,
        ignore=shutil.ignore_patterns('.git', '.venv', 'work_dirs', '__pycache__',
                                      '*.pyc', '.mim', 'build', 'dist', '*.egg-info',
                                      '.pytest_cache', '.scratch', 'checkpoints'))
    return dst


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp('wheel')
    src = copy_repo(tmp / 'src')
    run(sys.executable,
        '-m',
        'pip',
        'wheel',
        '--no-deps',
        '--no-build-isolation',
        '-q',
        '-w',
        tmp / 'dist',
        src,
        cwd=tmp)
    (path, ) = (tmp / 'dist').glob('kinet_mm-*.whl')
    return path


MIM_FILES = [
    'kinet_mm/.mim/model-index.yml',
    'kinet_mm/.mim/configs/kinet/metafile.yml',
    'kinet_mm/.mim/configs/teachers/pspnet_densenet121_lip.py',
    'kinet_mm/.mim/configs/tsn/tsn_r50_1x1x3_realclips-cpu.py',
    'kinet_mm/.mim/tools/train.py',
    'kinet_mm/.mim/tools/model_converters/lip_pspnet_to_mmseg.py',
    # The start-up hook and the .pth that runs it (docs/compat.md).
    'kinet_mm_hook.py',
    'kinet_mm_hook.pth',
]


def test_wheel_carries_the_mim_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in MIM_FILES:
        assert name in names, name
    assert not [n for n in names if n.endswith('.pyc')]


def test_wheel_built_from_the_sdist_carries_them_too(tmp_path):
    src = copy_repo(tmp_path / 'src')
    run(sys.executable, 'setup.py', '-q', 'sdist', '-d', tmp_path / 'sdist', cwd=src)
    (sdist, ) = (tmp_path / 'sdist').glob('kinet_mm-*.tar.gz')
    run(sys.executable,
        '-m',
        'pip',
        'wheel',
        '--no-deps',
        '--no-build-isolation',
        '-q',
        '-w',
        tmp_path / 'dist',
        sdist,
        cwd=tmp_path)
    (built, ) = (tmp_path / 'dist').glob('kinet_mm-*.whl')
    names = zipfile.ZipFile(built).namelist()
    for name in MIM_FILES:
        assert name in names, name


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory) -> Path:
    """A non-editable install of the wheel, in a folder put on PYTHONPATH."""
    target = tmp_path_factory.mktemp('site')
    run(sys.executable,
        '-m',
        'pip',
        'install',
        '--no-deps',
        '-q',
        '--target',
        target,
        wheel,
        cwd=target)
    return target


def test_mim_search_lists_the_metafile_models(installed):
    log = run(
        BIN / 'mim', 'search', 'kinet_mm', cwd=installed, pythonpath=str(installed))
    for model in ('kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400'
                  '-rgb', 'kinet-r50_akg-dot_kinetics400'):
        assert model in log


@pytest.mark.slow
def test_mim_train_runs_a_user_config_with_the_installed_tool(installed, user_config):
    # The base is resolved in the installed kinet_mm/.mim/configs. (`mim test
    # kinet_mm <config name>` runs .mim/tools/test.py the same way; it is left
    # out here only to keep the suite fast, see docs/mim.md.)
    log = run(
        BIN / 'mim',
        'train',
        'kinet_mm',
        user_config,
        '--no-validate',
        *ONE_STEP,
        cwd=user_config.parent,
        pythonpath=str(installed))
    tools = installed / 'kinet_mm' / '.mim' / 'tools'
    assert f'Training command is {sys.executable} {tools}/train.py' in log
    assert re.search(r'Epoch\(train\)\s*\[1\]\[1/1\]', log)


# ------------------------------------- the README's editable install, and mim


@pytest.fixture(scope='module')
def editable(tmp_path_factory) -> SimpleNamespace:
    """``pip install -e`` of a copy of the repository, as tools/setup_env.sh
    does, into a throwaway venv layered on this environment: the venv's own
    site-packages (where the install writes its ``.pth`` files, run at start-up)
    comes first, this environment's site-packages is only a path entry, so its
    own kinet_mm install is not imported."""
    tmp = tmp_path_factory.mktemp('editable')
    src = copy_repo(tmp / 'src')
    venv = tmp / 'venv'
    run(sys.executable, '-m', 'venv', '--without-pip', venv, cwd=tmp)
    python = venv / 'bin' / 'python'
    site = Path(
        run(python,
            '-c', 'import sysconfig; '
            'print(sysconfig.get_paths()["purelib"])',
            cwd=tmp,
            pythonpath='').strip())
    (site /
     '_base_environment.pth').write_text('\n'.join(sitepackages.getsitepackages()) +
                                         '\n')
    run(python,
        '-m',
        'pip',
        'install',
        '-q',
        '--no-deps',
        '--no-build-isolation',
        '-e',
        src,
        cwd=tmp,
        pythonpath='')
    mim = venv / 'bin' / 'mim'  # the console script pip would write
    mim.write_text(f'#!{python}\nimport sys\nfrom mim.cli import cli\n'
                   'sys.exit(cli())\n')
    mim.chmod(0o755)
    return SimpleNamespace(python=python, mim=mim, src=src, site=site, tmp=tmp)


@pytest.mark.slow
def test_editable_install_registers_the_start_up_hook(editable):
    assert (editable.site / 'kinet_mm_hook.pth').is_file()
    out = run(
        editable.python,
        '-c', ('import sys, mmengine.config as c, kinet_mm_hook\n'
               'print(kinet_mm_hook.__file__)\n'
               'print(getattr(c.Config._get_cfg_path, "_kinet_mm", False))\n'
               "print('kinet_mm' in sys.modules)\n"),
        cwd=editable.tmp,
        pythonpath='')
    # The hook of the installed (editable) copy patched MMEngine's Config when
    # mmengine.config was imported, without importing kinet_mm.
    assert out.split() == [str(editable.src / 'kinet_mm_hook.py'), 'True', 'False']


@pytest.mark.slow
def test_mim_search_finds_the_editable_install(editable):
    log = run(editable.mim, 'search', 'kinet_mm', cwd=editable.tmp, pythonpath='')
    assert 'kinet-r50_akg-dot_kinetics400' in log
    # openmim 0.3.9 alone looks for site-packages/kinet_mm (docs/compat.md).
    log = run_command(
        editable.mim,
        'search',
        'kinet_mm',
        cwd=editable.tmp,
        ok=False,
        PYTHONPATH='',
        KINET_MM_NO_HOOK='1')
    assert 'please upgrade your kinet_mm' in log


@pytest.mark.slow
def test_mmaction_train_tool_reads_the_prefix_with_the_hook(editable, user_config):
    # MMAction2's own tools/train.py parses the config before anything imports
    # kinet_mm; the start-up hook made MMEngine read `kinet_mm::` already.
    run(editable.python,
        MMACTION_TRAIN,
        user_config,
        '--no-validate',
        *ONE_STEP,
        cwd=user_config.parent,
        pythonpath='')
    scalars = list(
        (user_config.parent / 'work_dirs/my_tsn').glob('*/vis_data/scalars.json'))
    assert len(scalars) == 1


@pytest.fixture(scope='module')
def mim_slurm_train(editable) -> Path:
    """``mim train kinet_mm CONFIG --launcher slurm --gpus 2 --gpus-per-node 2
    --partition p`` (no ``--srun-args``) with the stand-in srun, from the
    editable install's checkout."""
    work_dir = editable.tmp / 'mim_slurm'
    log = run_command(
        editable.mim,
        'train',
        'kinet_mm',
        'configs/tsn/tsn_r50_1x1x3_realclips-cpu.py',
        '--launcher',
        'slurm',
        '--gpus',
        '2',
        '--gpus-per-node',
        '2',
        '--partition',
        'p',
        '--port',
        str(free_port()),
        '--work-dir',
        work_dir,
        '--no-validate',
        '--cfg-options',
        *SMALL_TSN,
        'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=4',
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'log_level=DEBUG',
        cwd=editable.src,
        **dict(slurm_env(), PYTHONPATH=''))
    tools = editable.src / 'kinet_mm' / '.mim' / 'tools'
    assert (f'Training command is srun -p p --gres=gpu:2 --ntasks=2 '
            f'--ntasks-per-node=2 --cpus-per-task=2 --kill-on-bad-exit=1 '
            f'--job-name=tsn_r50_1x1x3_realclips-cpu_train {editable.python} '
            f'-u {tools}/train.py') in log
    return work_dir


@pytest.mark.slow
def test_mim_train_slurm_trains_two_ranks(mim_slurm_train):
    assert sorted(p.name for p in mim_slurm_train.glob('*.pth')) == ['epoch_1.pth']
    (run_dir, ) = [p for p in mim_slurm_train.iterdir() if p.is_dir()]
    logs = rank_logs(run_dir)
    assert sorted(logs) == [0, 1]
    for log in logs.values():  # 4 clips over 2 ranks: 2 steps each
        assert re.findall(r'Epoch\(train\)\s*\[1\]\[\s*(\d+)/(\d+)\]',
                          log) == [('1', '2'), ('2', '2')]


@pytest.mark.slow
def test_mim_test_slurm_with_srun_args_finds_config_by_name(editable, mim_slurm_train):
    log = run_command(
        editable.mim,
        'test',
        'kinet_mm',
        'tsn_r50_1x1x3_realclips-cpu.py',
        '--checkpoint',
        mim_slurm_train / 'epoch_1.pth',
        '--launcher',
        'slurm',
        '--gpus',
        '2',
        '--gpus-per-node',
        '2',
        '--partition',
        'p',
        '--port',
        str(free_port()),
        '--srun-args',
        '--job-name=kinet-test --time=5',
        '--work-dir',
        editable.tmp / 'mim_test',
        '--cfg-options',
        *SMALL_TSN,
        'test_dataloader.dataset.indices=4',
        'test_dataloader.num_workers=0',
        cwd=editable.tmp,
        **dict(slurm_env(), PYTHONPATH=''))
    configs = editable.src / 'configs' / 'tsn'
    assert f'will use {configs}/tsn_r50_1x1x3_realclips-cpu.py' in log
    assert '--job-name=kinet-test --time=5' in log
    assert re.search(r'Epoch\(test\)\s*\[2/2\].*acc/top1', log)
