"""Check an MMAction2 annotation file line by line before a run depends on it.

MMAction2's ``VideoDataset`` parses ``<file> <label>`` lines with no check of
its own: a line without a label stops the dataset with ``not enough values to
unpack``, and a label outside ``[0, num_classes)`` only fails inside the loss
(``IndexError: Target 17 is out of bounds``), many steps later, naming neither
the file nor the line. This module reads the same lines the dataset will read
and reports every problem as ``<annotation file>:<line>: <what is wrong>``.
"""
import os
import os.path as osp
import tempfile
import threading
from dataclasses import dataclass
from typing import Dict, List, Sequence

from mmengine.utils import track_progress

from ..utils.mmaction_tools import load_mmaction_tool

#: Dataset types whose annotation lines this module understands.
SUPPORTED_TYPES = ('VideoDataset', 'RawframeDataset')


class AnnotationError(ValueError):
    """The annotation file (or the videos it lists) cannot be trained on."""


@dataclass
class AnnotationLine:
    """One well-formed annotation line."""

    lineno: int  # 1-based, as editors number lines
    path: str  # video file, or frame directory, as written in the file
    labels: List[int]


@dataclass
class Problem:
    """Something wrong with one line of an annotation file."""

    ann_file: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f'{self.ann_file}:{self.lineno}: {self.message}'


def parse_annotation_lines(ann_file: str,
                           dataset_type: str = 'VideoDataset',
                           delimiter: str = ' ',
                           multi_class: bool = False,
                           with_offset: bool = False) -> tuple:
    """Split an annotation file into well-formed lines and problems.

    Formats, as MMAction2 1.x parses them:

    * ``VideoDataset``: ``<file> <label>`` (``multi_class``: one or more labels);
    * ``RawframeDataset``: ``<dir> [<offset>] <total_frames> <label>...``.

    Args:
        ann_file (str): The annotation file.
        dataset_type (str): One of :data:`SUPPORTED_TYPES`.
        delimiter (str): The dataset's ``delimiter``. Defaults to ``' '``.
        multi_class (bool): Whether a line may carry several labels.
        with_offset (bool): ``RawframeDataset``'s ``with_offset``.

    Returns:
        tuple[list[AnnotationLine], list[Problem]]
    """
    if dataset_type not in SUPPORTED_TYPES:
        raise AnnotationError(f'Cannot check annotation files of {dataset_type}: only '
                              f'{SUPPORTED_TYPES} are supported.')
    if dataset_type == 'VideoDataset':
        num_fields, usage = 1, '<file> <label>'
    else:
        num_fields = 3 if with_offset else 2
        usage = ('<frame dir> <offset> <total frames> <label>'
                 if with_offset else '<frame dir> <total frames> <label>')
    lines, problems = [], []
    with open(ann_file, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, start=1):
            text = raw.rstrip('\n\r')
            # Split exactly as the dataset will: VideoDataset on its
            # delimiter (two spaces make an empty field), RawframeDataset on
            # any whitespace.
            fields = (
                text.strip().split(delimiter)
                if dataset_type == 'VideoDataset' else text.split())

            def bad(message: str) -> None:
                problems.append(Problem(ann_file, lineno, message))

            if not text.strip():
                bad(f'empty line (expected "{usage}")')
                continue
            if '' in fields:
                bad(f'an empty field in {text!r}: two delimiters '
                    f'({delimiter!r}) in a row (expected "{usage}")')
                continue
            extra = fields[num_fields:]
            if not extra:
                bad(f'no label in {text!r} (expected "{usage}")')
                continue
            if len(extra) > 1 and not multi_class:
                bad(f'{len(extra)} labels in {text!r} but the dataset is not '
                    f'multi_class (expected "{usage}")')
                continue
            try:
                numbers = [int(x) for x in fields[1:num_fields]]
                labels = [int(x) for x in extra]
            except ValueError:
                bad(f'a field that is not an integer in {text!r} '
                    f'(expected "{usage}")')
                continue
            if any(n < 0 for n in numbers):
                bad(f'negative frame count or offset in {text!r}')
                continue
            lines.append(AnnotationLine(lineno, fields[0], labels))
    return lines, problems


def check_labels(lines: Sequence[AnnotationLine], ann_file: str,
                 num_classes: int) -> List[Problem]:
    """Labels outside ``[0, num_classes)``."""
    return [
        Problem(
            ann_file, line.lineno,
            f'label {label} of {line.path!r} is outside [0, {num_classes})'
            f' (num_classes={num_classes})') for line in lines for label in line.labels
        if not 0 <= label < num_classes
    ]


def check_paths(lines: Sequence[AnnotationLine],
                ann_file: str,
                prefix: str,
                directories: bool = False) -> List[Problem]:
    """Videos (or frame directories) that do not exist under ``prefix``."""
    exists = osp.isdir if directories else osp.isfile
    kind = 'frame directory' if directories else 'video file'
    return [
        Problem(ann_file, line.lineno,
                f'{kind} {osp.join(prefix, line.path)!r} does not exist')
        for line in lines if not exists(osp.join(prefix, line.path))
    ]


def load_mmaction_check_videos():
    """MMAction2's shipped ``tools/analysis_tools/check_videos.py`` as a module.

    Reused rather than rewritten: its ``RandomSampleFrames`` transform (first,
    last and three random frames) and ``_do_check_videos`` worker define what
    "decodable" means for MMAction2. Loaded once: the script registers
    ``RandomSampleFrames`` in MMAction2's ``TRANSFORMS`` on import.
    """
    return load_mmaction_tool('analysis_tools/check_videos.py')


def check_decoding(lines: Sequence[AnnotationLine],
                   ann_file: str,
                   prefix: str,
                   decoder: str = 'Decord') -> List[Problem]:
    """Videos that MMAction2's ``check_videos.py`` cannot decode.

    Runs that script's check (``<decoder>Init``, ``RandomSampleFrames``,
    ``<decoder>Decode``) on every listed video, with a progress bar.

    Args:
        decoder (str): ``'Decord'``, ``'OpenCV'`` or ``'PyAV'``, as the
            script's ``--decoder``.
    """
    from mmaction.registry import TRANSFORMS
    from mmengine.dataset import Compose
    script = load_mmaction_check_videos()
    pipeline = Compose([
        TRANSFORMS.build(dict(type=f'{decoder}Init')),
        TRANSFORMS.build(dict(type='RandomSampleFrames')),
        TRANSFORMS.build(dict(type=f'{decoder}Decode')),
    ])
    fd, output_file = tempfile.mkstemp(prefix='.check_videos-', suffix='.txt')
    os.close(fd)
    by_path: Dict[str, AnnotationLine] = {}
    try:
        lock = threading.Lock()
        infos = []
        for line in lines:
            filename = osp.join(prefix, line.path)
            by_path[filename] = line
            infos.append(
                dict(
                    filename=filename,
                    label=line.labels[0],
                    start_index=0,
                    modality='RGB'))
        track_progress(
            lambda info: script._do_check_videos(lock, pipeline, output_file, info),
            infos)
        with open(output_file) as f:
            failed = [p.strip() for p in f if p.strip()]
    finally:
        os.remove(output_file)
    return [
        Problem(
            ann_file, by_path[p].lineno,
            f'video file {p!r} cannot be decoded with {decoder} '
            '(MMAction2 tools/analysis_tools/check_videos.py)') for p in failed
    ]


def format_problems(problems: Sequence[Problem], limit: int = 30) -> str:
    """All problems, one a line, at most ``limit`` of them then a count."""
    shown = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        shown.append(f'... and {len(problems) - limit} more')
    return '\n'.join(shown)
