"""UCF-101's official split lists to MMAction2 annotation files, and a proxy.

UCF-101 ships ``classInd.txt`` (``<1-based index> <Class>``),
``trainlist0{1,2,3}.txt`` (``<Class>/<video>.avi <index>``) and
``testlist0{1,2,3}.txt`` (``<Class>/<video>.avi``). MMAction2's
``tools/data/build_file_list.py ucf101`` turns them into
``ucf101_{train,val}_split_{1,2,3}_{videos,rawframes}.txt``; run as shipped in
the wheel it fails (``No module named 'tools'``) and it reads
``data/ucf101/annotations`` relative to the working directory, so
:func:`build_file_lists` runs it unchanged from a directory where both hold.

:func:`build_realclip_proxy` lays out the UCF-101 clips among the real clips
(``../shared/data/real_clips``) as a miniature UCF-101 with split lists in
the official format, so the same path runs end to end on a CPU.
"""
import os
import os.path as osp
import subprocess
import sys
import tempfile
from typing import Dict, List, Sequence

#: Official class indices (UCF-101 ``classInd.txt``, 1-based) of the proxy's
#: classes.
PROXY_CLASSES = {
    'ApplyEyeMakeup': 1,
    'Basketball': 8,
    'CricketShot': 24,
    'SoccerJuggling': 84
}

#: Real clip -> its place in the proxy's ``videos/`` tree. Four are UCF-101
#: clips (the eye-make-up one lost its group and clip numbers, given here);
#: the two basketball clips show UCF-101's ``Basketball`` action (shooting)
#: and give that class a second clip, so that two classes can be tested.
PROXY_VIDEOS = {
    'v_ApplyEyeMakeup.avi': 'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi',
    'basketball_outdoor.mp4': 'Basketball/v_Basketball_g01_c01.mp4',
    'basketball_indoor.mp4': 'Basketball/v_Basketball_g02_c01.mp4',
    'v_CricketShot_g04_c01.mp4': 'CricketShot/v_CricketShot_g04_c01.mp4',
    'v_SoccerJuggling_g23_c01.avi': 'SoccerJuggling/v_SoccerJuggling_g23_c01.avi',
    'v_SoccerJuggling_g24_c01.avi': 'SoccerJuggling/v_SoccerJuggling_g24_c01.avi',
}

#: Test videos of each proxy split (the rest train): one clip of each class
#: that has two, a different pair per split.
PROXY_TEST_VIDEOS = (
    ('SoccerJuggling/v_SoccerJuggling_g24_c01', 'Basketball/v_Basketball_g02_c01'),
    ('SoccerJuggling/v_SoccerJuggling_g23_c01', 'Basketball/v_Basketball_g01_c01'),
    ('SoccerJuggling/v_SoccerJuggling_g24_c01', 'Basketball/v_Basketball_g01_c01'),
)


def mmaction_data_tool(name: str) -> str:
    """Path of a script of MMAction2's ``tools/data/`` in the installed wheel."""
    import mmaction
    path = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', 'data', name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f"MMAction2's tools/data/{name} is not at {path}: reinstall "
            'mmaction2 (its wheel ships tools/ under mmaction/.mim/).')
    return path


def build_file_lists(data_root: str,
                     data_format: str = 'videos',
                     seed: int = 0) -> List[str]:
    """Run MMAction2's ``build_file_list.py ucf101`` on ``data_root``.

    Args:
        data_root (str): A UCF-101 folder holding ``annotations/`` (the official
            lists) and ``videos/<Class>/`` (or ``rawframes/<Class>/``).
        data_format (str): ``'videos'`` or ``'rawframes'``.
        seed (int): Seed of the tool's ``--shuffle``.

    Returns:
        list[str]: The six annotation files written into ``data_root``:
        ``ucf101_{train,val}_split_{1,2,3}_<data_format>.txt``.
    """
    script = mmaction_data_tool('build_file_list.py')
    tools_root = osp.dirname(osp.dirname(osp.dirname(script)))  # .mim
    data_root = osp.abspath(data_root)
    for needed in ('annotations/classInd.txt', data_format):
        if not osp.exists(osp.join(data_root, needed)):
            raise FileNotFoundError(
                f'{osp.join(data_root, needed)} does not exist: put the '
                'official split files in annotations/ (docs/ucf101.md) and '
                f'the {data_format} in {data_format}/<Class>/.')
    with tempfile.TemporaryDirectory(prefix='ucf101-lists-') as work:
        # The tool reads and writes data/ucf101/... under its working dir.
        os.makedirs(osp.join(work, 'data'))
        os.symlink(data_root, osp.join(work, 'data', 'ucf101'))
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                filter(None, [tools_root, os.environ.get('PYTHONPATH')])))
        subprocess.run([
            sys.executable, script, 'ucf101', f'data/ucf101/{data_format}/', '--level',
            '2', '--format', data_format, '--shuffle', '--seed',
            str(seed)
        ],
                       cwd=work,
                       env=env,
                       check=True)
    return [
        osp.join(data_root, f'ucf101_{subset}_split_{k}_{data_format}.txt')
        for k in (1, 2, 3) for subset in ('train', 'val')
    ]


def build_realclip_proxy(real_clips: str, data_root: str) -> Dict[str, Dict]:
    """A miniature UCF-101 at ``data_root`` from the real clips.

    ``videos/<Class>/`` holds links to the clips of :data:`PROXY_VIDEOS`;
    ``annotations/`` holds ``classInd.txt`` (the official indices of the
    proxy's classes) and three train/test lists in the official format.

    Returns:
        dict: Number of train and test videos of each split.
    """
    videos_dir = osp.join(data_root, 'videos')
    annotations = osp.join(data_root, 'annotations')
    os.makedirs(annotations, exist_ok=True)
    for clip, target in PROXY_VIDEOS.items():
        source = osp.abspath(osp.join(real_clips, 'videos', clip))
        if not osp.isfile(source):
            raise FileNotFoundError(f'{source} does not exist; point '
                                    '--real-clips at ../shared/data/real_clips')
        link = osp.join(videos_dir, target)
        os.makedirs(osp.dirname(link), exist_ok=True)
        if osp.lexists(link):
            os.remove(link)
        os.symlink(source, link)
    _write(
        osp.join(annotations, 'classInd.txt'),
        [f'{index} {name}' for name, index in PROXY_CLASSES.items()])
    videos = [osp.splitext(v)[0] for v in PROXY_VIDEOS.values()]
    counts = {}
    for k, test in enumerate(PROXY_TEST_VIDEOS, 1):
        train = [v for v in videos if v not in test]
        # Official lines: ".avi" whatever the file (the tool matches stems).
        _write(
            osp.join(annotations, f'trainlist0{k}.txt'),
            [f'{v}.avi {PROXY_CLASSES[v.split("/")[0]]}' for v in train])
        _write(osp.join(annotations, f'testlist0{k}.txt'), [f'{v}.avi' for v in test])
        counts[f'split {k}'] = dict(train=len(train), test=len(test))
    return counts


def _write(path: str, lines: Sequence[str]) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(f'{line}\n' for line in lines))
