"""Slurm on this CPU-only machine: ``tools/slurm_{train,test}.sh`` and both
extractors under a stand-in ``srun`` (``tests/fixtures/slurm/``).

The stand-in starts the requested tasks with the variables a real srun sets;
``--launcher slurm`` turns them into a gloo group (``kinet_mm.compat`` shim 4).
Each run uses 4 real clips, batch 1, ResNet-18 TSN, 2 ranks; they check what a
single-process run would write (one checkpoint, one complete, ordered set of
predictions, one cache), one log per rank, disjoint data shards, a killed rank
ending the job and the same command resuming. ``mim train/test kinet_mm
--launcher slurm`` are in ``tests/test_mim_packaging.py`` (they need an
installed kinet_mm). See ``docs/distributed.md``.
"""
import json
import os
import pickle
import re
import sys
import time
from pathlib import Path

import pytest
import torch
from fixtures import run_command
from fixtures.slurm import (NUM_CLIPS, WORLD_SIZE, clip_names, rank_logs, slurm_env,
                            write_config)
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import CheckpointLoader

ITERS = NUM_CLIPS // WORLD_SIZE  # per rank and epoch, batch 1

pytestmark = pytest.mark.slow


def shards(work_dir: Path, epoch: int) -> dict:
    """``rank -> (video names, env)`` recorded by ``_TestShardHook``."""
    found = {}
    for rank in range(WORLD_SIZE):
        path = work_dir / f'shard_epoch{epoch}_rank{rank}.json'
        record = json.loads(path.read_text())
        found[rank] = ([os.path.basename(f) for f in record['files']], record['env'])
    return found


def assert_disjoint_shards(work_dir: Path, epoch: int, clips: list) -> dict:
    found = shards(work_dir, epoch)
    files = [found[rank][0] for rank in range(WORLD_SIZE)]
    assert all(len(f) == ITERS for f in files), files
    assert not set(files[0]) & set(files[1]), files
    assert sorted(files[0] + files[1]) == sorted(clips)
    return found


def train_iters(log: str) -> list:
    return re.findall(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/\d+\]', log)


def test_slurm_train_two_nodes_killed_rank_and_resume(tmp_path, real_clips):
    """``slurm_train.sh`` on 2 simulated nodes (1 task each): rank 1 is killed
    in the middle of epoch 2; the job ends; the same command (with
    ``--resume``) continues from epoch 1's checkpoint and finishes."""
    work_dir = tmp_path / 'work_dir'
    config = write_config(
        tmp_path, kill_rank=1, kill_epoch=2, once_file=str(tmp_path / 'killed_once'))
    command = [
        'bash', 'tools/slurm_train.sh', 'p', 'kinet', config, '--work-dir', work_dir,
        '--resume'
    ]
    env = slurm_env(GPUS=str(WORLD_SIZE), GPUS_PER_NODE='1', CPUS_PER_TASK='1')
    clips = clip_names(real_clips / 'train.txt')

    start = time.time()
    log = run_command(*command, ok=False, **env)
    assert 'task 1: exited with status 137' in log  # SIGKILL
    assert time.time() - start < 240
    # Epoch 1 finished and was saved once; epoch 2 was not.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    found = assert_disjoint_shards(work_dir, 1, clips)
    (first_run, ) = [p for p in work_dir.iterdir() if p.is_dir()]
    logs = rank_logs(first_run)
    assert sorted(logs) == [0, 1]
    # Epoch 1 complete on both ranks; rank 1 died before epoch 2's 2nd step.
    assert train_iters(logs[1]) == [('1', str(i + 1))
                                    for i in range(ITERS)] + [('2', '1')]
    # Two nodes: ranks from SLURM_PROCID, local ranks from SLURM_LOCALID.
    envs = [found[rank][1] for rank in range(WORLD_SIZE)]
    assert [e['SLURM_NODEID'] for e in envs] == ['0', '1']
    assert [e['RANK'] for e in envs] == ['0', '1']
    assert [e['LOCAL_RANK'] for e in envs] == ['0', '0']
    assert {e['WORLD_SIZE'] for e in envs} == {'2'}
    assert {e['MASTER_ADDR'] for e in envs} == {'127.0.0.1'}  # scontrol's first

    log = run_command(*command, **env)
    assert 'resumed epoch: 1, iter: 2' in log
    assert sorted(p.name
                  for p in work_dir.glob('*.pth')) == ['epoch_1.pth', 'epoch_2.pth']
    assert_disjoint_shards(work_dir, 2, clips)
    (second_run, ) = [p for p in work_dir.iterdir() if p.is_dir() and p != first_run]
    for rank, log in rank_logs(second_run).items():
        # Only epoch 2 was trained again.
        assert train_iters(log) == [('2', str(i + 1)) for i in range(ITERS)]
    checkpoint = CheckpointLoader.load_checkpoint(str(work_dir / 'epoch_2.pth'))
    assert checkpoint['meta']['epoch'] == 2
    assert checkpoint['meta']['iter'] == 2 * ITERS


def test_slurm_test_two_ranks_write_what_one_process_writes(tmp_path, real_clips):
    """``slurm_test.sh`` with 2 tasks dumps the predictions of all clips, in
    the dataset's order, equal to those of 1 task."""
    config = write_config(tmp_path)
    cfg = Config.fromfile(str(config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)

    dumps = {}
    for tasks in (1, WORLD_SIZE):
        work_dir = tmp_path / f'test_{tasks}'
        dumps[tasks] = work_dir / 'preds.pkl'
        run_command(
            'bash', 'tools/slurm_test.sh', 'p', 'kinet-test', config, checkpoint,
            '--work-dir', work_dir, '--dump', dumps[tasks],
            **slurm_env(GPUS=str(tasks), GPUS_PER_NODE=str(tasks), CPUS_PER_TASK='1'))
    logs = rank_logs(next(p for p in (tmp_path / 'test_2').iterdir() if p.is_dir()))
    assert sorted(logs) == [0, 1]
    for log in logs.values():  # each rank tested its half
        assert re.findall(r'Epoch\(test\)\s*\[(\d+)/(\d+)\]',
                          log)[-1] == (str(ITERS), str(ITERS))
    one, two = (pickle.loads(dumps[n].read_bytes()) for n in (1, WORLD_SIZE))
    assert len(one) == len(two) == NUM_CLIPS
    for a, b in zip(one, two):
        assert a['gt_label'] == b['gt_label']
        torch.testing.assert_close(
            b['pred_score'], a['pred_score'], rtol=1e-5, atol=1e-6)
    # The merged order is the dataset's: the labels of val.txt.
    labels = [
        int(line.split()[1])
        for line in (real_clips / 'val.txt').read_text().split('\n')[:NUM_CLIPS]
    ]
    assert [int(p['gt_label']) for p in two] == labels


def test_extract_pseudo_labels_slurm_two_tasks(tmp_path, real_clips):
    """``--launcher slurm``: 2 tasks extract one cache, each video once."""
    from test_pseudo_labels import CLIP_A, CLIP_B, _write_config

    from kinet_mm.pseudo_labels import PseudoLabelCache
    cfg = _write_config(tmp_path, [CLIP_A, CLIP_B])
    out = tmp_path / 'cache'
    run_command('srun', '--ntasks=2', '--kill-on-bad-exit=1', sys.executable,
                'tools/extract_pseudo_labels.py', cfg.filename, '--out', out,
                '--stride', '8', '--launcher', 'slurm', **slurm_env())
    cache = PseudoLabelCache(str(out))
    assert sorted(cache.keys()) == sorted([CLIP_A, CLIP_B])
    assert all(cache.is_complete(key) for key in cache.keys())
    stats = json.loads((out / 'extraction_stats.json').read_text())
    # Summed over the ranks: each video was extracted by exactly one rank.
    assert stats['world_size'] == WORLD_SIZE
    assert stats['done'] == 2 and stats['skipped'] == 0
    stored = sum(len(cache.read(key).frame_inds) for key in cache.keys())
    assert stats['frames'] == stored


def test_extract_segment_features_slurm_two_tasks(tmp_path, real_clips):
    """``--launcher slurm``: 2 tasks write one feature cache, a video each."""
    from kinet_mm.features import SegmentFeatureCache
    clips = ['v_CricketShot_g04_c01.mp4', 'TrumanShow_wave_f_nm_np1_fr_med_26.avi']
    ann = tmp_path / 'two.txt'
    ann.write_text(''.join(f'{clip} 0\n' for clip in clips))
    out = tmp_path / 'feats'
    log = run_command(
        'srun', '--ntasks=2', '--kill-on-bad-exit=1', sys.executable,
        'tools/misc/extract_segment_features.py',
        'configs/early_recognition/features/tsn_r50_realclips_progression10.py',
        '--split', 'val', '--out', out, '--launcher', 'slurm', '--cfg-options',
        f'val_dataloader.dataset.ann_file={ann}', 'model.backbone.depth=18',
        **slurm_env())
    assert 'rank 0/2: 1 videos' in log  # rank 1 took the other one
    cache = SegmentFeatureCache(str(out), dict(num_levels=10, feature_dim=512))
    assert sorted(cache.keys()) == sorted(clips)
