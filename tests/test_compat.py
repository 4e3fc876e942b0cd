"""Each shim of :mod:`kinet_mm.compat` is needed (fails without it) and works.

Checks that must run without the shims run in a fresh interpreter that never
imports :mod:`kinet_mm`.
"""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch.utils.data import Dataset

import kinet_mm  # noqa: F401  (applies the shims to this process)
from kinet_mm import compat


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter of this environment."""
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        capture_output=True,
        text=True,
        errors='replace',
        timeout=300)


# -- 1. mmaction2 1.2.0's wheel lacks mmaction.models.localizers.drn ----------


@pytest.mark.slow
def test_mmaction_models_does_not_import_without_shim():
    result = run_python('import mmaction.models')
    assert result.returncode != 0
    assert "No module named 'mmaction.models.localizers.drn'" in result.stderr


@pytest.mark.slow
def test_mmaction_models_imports_after_kinet_mm():
    result = run_python("""
        import kinet_mm
        import mmaction.models
        from mmaction.registry import MODELS
        print(MODELS.get('Recognizer2D').__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['Recognizer2D']


def test_building_drn_raises_clear_import_error():
    from mmaction.registry import MODELS
    with pytest.raises(ImportError, match='lacks mmaction.models.localizers'):
        MODELS.build(dict(type='DRN'))


# -- 2. Runner checkpoints under torch.load(weights_only=True) ----------------


class ToyDataset(Dataset):

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        inputs = torch.full((2, ), float(index))
        return dict(inputs=inputs, data_samples=inputs.sum(0, keepdim=True))


class ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outputs = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((outputs - data_samples)**2).mean())
        return outputs


def build_toy_runner(work_dir, max_iters: int, **kwargs) -> Runner:
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'toy_{os.path.basename(work_dir)}_{max_iters}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False)),
        log_processor=dict(by_epoch=False),
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint written by a real Runner after two iterations."""
    work_dir = tmp_path_factory.mktemp('toy_runner')
    build_toy_runner(work_dir, max_iters=2).train()
    return work_dir / 'iter_2.pth'


@pytest.mark.slow
def test_runner_checkpoint_is_refused_without_shim(runner_checkpoint):
    result = run_python(f"""
        import torch
        torch.load({str(runner_checkpoint)!r}, weights_only=True)
    """)
    assert result.returncode != 0
    assert 'Weights only load failed' in result.stderr
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in result.stderr


@pytest.mark.slow
def test_runner_checkpoint_loads_weights_only_after_kinet_mm(runner_checkpoint):
    # A fresh interpreter: nothing but kinet_mm has touched HistoryBuffer.
    result = run_python(f"""
        import kinet_mm, torch
        ckpt = torch.load({str(runner_checkpoint)!r}, weights_only=True)
        loss = ckpt['message_hub']['log_scalars']['train/loss']
        print(ckpt['meta']['iter'], type(loss).__name__, len(loss.data[0]),
              sorted(loss._statistics_methods))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        '2', 'HistoryBuffer', '2', "['current',", "'max',", "'mean',", "'min']"
    ]


@pytest.mark.slow
def test_runner_resumes_from_checkpoint(runner_checkpoint, tmp_path):
    runner = build_toy_runner(
        tmp_path, max_iters=3, load_from=str(runner_checkpoint), resume=True)
    runner.train()
    assert runner.iter == 3
    # The message hub went on from the two iterations of the checkpoint.
    log_history, _ = runner.message_hub.get_scalar('train/loss').data
    assert len(log_history) == 3
    resumed = CheckpointLoader.load_checkpoint(str(tmp_path / 'iter_3.pth'))
    assert resumed['meta']['iter'] == 3


# -- 2b. ... while a pickle that would run code is still refused --------------


class RunsShell:
    """Unpickling it would run a shell command."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class GetAttr:
    """Unpickling it calls ``builtins.getattr(obj, name)``."""

    def __init__(self, obj, name: str) -> None:
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


def test_pickle_running_a_command_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': RunsShell(marker)}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    # MMEngine's own loader (used by Runner.resume/load_checkpoint) too.
    with pytest.raises(pickle.UnpicklingError, match='system'):
        CheckpointLoader.load_checkpoint(str(path))
    assert not marker.exists()


@pytest.mark.parametrize('obj, name', [
    (HistoryBuffer, '__init__'),
    (HistoryBuffer, 'register_statistics'),
    (HistoryBuffer, '__class__'),
    (np.ndarray, 'tofile'),
    (torch.Tensor, 'new_empty'),
])
def test_getattr_beyond_statistics_methods_is_refused(tmp_path, obj, name):
    path = tmp_path / 'evil.pth'
    torch.save({'x': GetAttr(obj, name)}, path)
    with pytest.raises((pickle.UnpicklingError, RuntimeError), match='getattr'):
        torch.load(path, weights_only=True)


def test_getattr_stand_in_allows_statistics_methods(tmp_path):
    path = tmp_path / 'stats.pth'
    torch.save(
        {
            name: GetAttr(HistoryBuffer, name)
            for name in ('min', 'max', 'mean', 'current')
        }, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded == dict(
        min=HistoryBuffer.min,
        max=HistoryBuffer.max,
        mean=HistoryBuffer.mean,
        current=HistoryBuffer.current)


# -- 3. decord errors name the video ------------------------------------------

DECODE_CORRUPT = """
    from mmaction.datasets.transforms import DecordInit
    try:
        DecordInit().transform(dict(filename={path!r}))
    except RuntimeError as err:
        print(type(err).__name__, 'corrupt_clip' in str(err), flush=True)
"""


@pytest.fixture
def corrupt_video(tmp_path):
    path = tmp_path / 'corrupt_clip.mp4'
    path.write_bytes(os.urandom(4096))
    return path


@pytest.mark.slow
def test_corrupt_video_error_lacks_filename_without_shim(corrupt_video):
    result = run_python(DECODE_CORRUPT.format(path=str(corrupt_video)))
    assert result.returncode == 0, result.stderr
    # The last line; MMEngine logs its FileClient deprecation before.
    assert result.stdout.splitlines()[-1] == 'RuntimeError False'


def test_corrupt_video_error_names_file(corrupt_video):
    from mmaction.datasets.transforms import DecordInit
    with pytest.raises(compat.VideoReadError) as error:
        DecordInit().transform(dict(filename=str(corrupt_video)))
    assert str(error.value).startswith(f'decord cannot read video {corrupt_video}: ')


# -- 4. MMEngine's launcher and DDP wrapper assume a GPU per rank -------------

INIT_DIST_ON_CPU = '''
import os, socket, torch
{prelude}
from mmengine.dist import init_dist
from mmengine.model import MMDistributedDataParallel
with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
os.environ.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                  MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
assert not torch.cuda.is_available()
init_dist('pytorch', backend='gloo')
model = MMDistributedDataParallel(torch.nn.Linear(2, 1), device_ids=[0])
model(torch.ones(3, 2)).sum().backward()
print('trained', torch.distributed.get_world_size())
'''

INIT_SLURM_ON_CPU = '''
import os, socket, torch
{prelude}
from mmengine.dist import init_dist
with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
os.environ.update(SLURM_PROCID='0', SLURM_LOCALID='0', SLURM_NTASKS='1',
                  SLURM_NODELIST='node-[1-2]', MASTER_ADDR='127.0.0.1')
for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
    os.environ.pop(name, None)
init_dist('slurm', backend='nccl', port=port)  # as MMAction2's configs ask
print(torch.distributed.get_backend(), torch.distributed.get_world_size(),
      os.environ['RANK'], os.environ['LOCAL_RANK'],
      os.environ['MASTER_PORT'] == str(port))
'''


@pytest.mark.slow
def test_cpu_slurm_fails_without_shim():
    result = run_python(INIT_SLURM_ON_CPU.format(prelude=''))
    assert result.returncode != 0
    assert 'NVIDIA driver' in result.stderr


@pytest.mark.slow
def test_cpu_slurm_is_a_gloo_group_after_kinet_mm():
    result = run_python(INIT_SLURM_ON_CPU.format(prelude='import kinet_mm'))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['gloo', '1', '0', '0', 'True']


@pytest.mark.slow
def test_cpu_distributed_fails_without_shim():
    result = run_python(INIT_DIST_ON_CPU.format(prelude=''))
    assert result.returncode != 0
    assert 'NVIDIA driver' in result.stderr or 'device_ids' in result.stderr


@pytest.mark.slow
def test_cpu_distributed_runs_after_kinet_mm():
    result = run_python(INIT_DIST_ON_CPU.format(prelude='import kinet_mm'))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('trained 1')


# -- 5. Flip of RawFrameDecode's stacked (H, W, 2) flow frames ------------------


def flow_clip():
    """Two flow frames as mmaction2 1.x's RawFrameDecode returns them."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (4, 6, 2), dtype=np.uint8) for _ in range(2)]


def test_flip_of_stacked_flow_is_wrong_without_shim():
    from mmaction.datasets.transforms import Flip
    clip = flow_clip()
    unpatched = Flip._flip_imgs.__wrapped__
    flipped = unpatched(Flip(flip_ratio=1), [f.copy() for f in clip], 'Flow')
    # Both components of frame 0 inverted, none of frame 1.
    np.testing.assert_array_equal(flipped[0][..., 1], 255 - clip[0][:, ::-1, 1])
    np.testing.assert_array_equal(flipped[1][..., 0], clip[1][:, ::-1, 0])


def test_flip_negates_x_of_every_stacked_flow_frame():
    from mmaction.datasets.transforms import Flip
    clip = flow_clip()
    results = Flip(flip_ratio=1)(
        dict(imgs=[f.copy() for f in clip], modality='Flow', img_shape=(4, 6)))
    for before, after in zip(clip, results['imgs']):
        mirrored = before[:, ::-1]
        np.testing.assert_array_equal(after[..., 0], 255 - mirrored[..., 0])
        np.testing.assert_array_equal(after[..., 1], mirrored[..., 1])


# -- the version gates --------------------------------------------------------


def test_every_shim_matches_the_installed_versions():
    # A changed pin fails here, naming the shim (and warns on import).
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error', compat.CompatVersionWarning)
        for shim in compat.SHIMS:
            assert compat.version_gate(shim.name, shim.fixes), shim.name


def test_shim_for_other_versions_is_not_applied_and_says_so(monkeypatch):
    calls = []
    shim = compat.Shim('test shim', 'nothing', {'mmengine': '==0.9.0'},
                       lambda: calls.append(1))
    monkeypatch.setattr(compat, 'SHIMS', [shim])
    with pytest.warns(
            compat.CompatVersionWarning,
            match=r"'test shim' not applied: written and tested for "
            r'mmengine==0.9.0, found mmengine 0.10.7'):
        compat.apply_all()
    assert calls == []
    monkeypatch.setattr(
        compat, 'SHIMS',
        [shim._replace(fixes={
            'mmengine': '>=0.10,<0.11',
            'torch': '>=2.6'
        })])
    compat.apply_all()
    assert calls == [1]


@pytest.mark.parametrize('version,specifier,expected', [
    ('0.10.7', '==0.10.7', True),
    ('0.10.8', '==0.10.7', False),
    ('2.14.1+cpu', '>=2.6', True),
    ('2.5.1', '>=2.6', False),
    ('1.2.0', '>=1.2,<1.3', True),
    ('1.3.0', '>=1.2,<1.3', False),
    ('1.2.0rc1', '==1.2.0', True),
    ('2.6', '==2.6.0', True),
    ('8.2.1', '!=8.2.1', False),
])
def test_version_specifiers(version, specifier, expected):
    from kinet_mm_hook import matches
    assert matches(version, specifier) is expected
