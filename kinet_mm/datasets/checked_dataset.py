"""MMAction2 datasets that check their annotation file before parsing it."""
import os.path as osp
from typing import List

from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.registry import DATASETS
from mmengine.logging import print_log

from .annotation_check import (AnnotationError, check_decoding, check_labels,
                               check_paths, format_problems, parse_annotation_lines)


class AnnotationCheckMixin:
    """Check the annotation file in ``load_data_list``, before it is parsed.

    ``load_data_list`` runs when the runner builds the dataloader: before the
    first iteration, and before the parent class reads a line. Every problem is
    reported at once as ``<annotation file>:<line>: <problem>``:

    * malformed lines (empty, no label, an empty field, a non-integer, several
      labels in a single-label dataset), which would otherwise stop
      ``VideoDataset`` with ``not enough values to unpack`` or ``invalid literal
      for int()``;
    * labels outside ``[0, num_classes)``, which would otherwise fail inside the
      loss, steps later (``IndexError: Target 17 is out of bounds``);
    * videos / frame directories that do not exist (``check_files``);
    * videos that do not decode (``check_videos``), found by MMAction2's own
      ``tools/analysis_tools/check_videos.py`` (reused through
      :func:`~kinet_mm.datasets.annotation_check.check_decoding`); it decodes
      five frames of each video, so it is off by default.

    ``num_classes`` is the dataset's own argument; when it is None, the length
    of ``metainfo.classes`` (a list, or a file with one class a line) is used.
    The classes exist only as keyword arguments; every other argument, and the
    config keys (``ann_file``, ``data_prefix``, ``pipeline``, ...), are the
    parent dataset's, so configs and ``--cfg-options`` keep working unchanged.
    """

    def __init__(self,
                 *args,
                 check_files: bool = True,
                 check_videos: bool = False,
                 decoder: str = 'Decord',
                 **kwargs) -> None:
        self.check_files = check_files
        self.check_videos = check_videos
        self.decoder = decoder
        super().__init__(*args, **kwargs)

    def _prefix_key(self) -> str:
        return 'video' if isinstance(self, VideoDataset) else 'img'

    def load_data_list(self) -> List[dict]:
        self.check_annotations()
        return super().load_data_list()

    def check_annotations(self) -> None:
        """Raise :class:`AnnotationError` naming every bad line, else log."""
        name = type(self).__name__
        if not osp.isfile(self.ann_file):
            raise AnnotationError(f'{name}: annotation file {self.ann_file!r} '
                                  'not found (check `ann_file` and `data_root`)')
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = len(self.metainfo.get('classes') or ()) or None
        if num_classes is None:
            raise AnnotationError(
                f'{name}({self.ann_file}): set `num_classes` or '
                '`metainfo.classes` of the dataset so the label range can be '
                'checked.')
        parent = 'VideoDataset' if self._prefix_key() == 'video' \
            else 'RawframeDataset'
        lines, problems = parse_annotation_lines(
            self.ann_file,
            parent,
            delimiter=getattr(self, 'delimiter', ' '),
            multi_class=self.multi_class,
            with_offset=getattr(self, 'with_offset', False))
        problems += check_labels(lines, self.ann_file, num_classes)
        prefix = self.data_prefix.get(self._prefix_key(), '')
        if self.check_files:
            missing = check_paths(
                lines, self.ann_file, prefix, directories=self._prefix_key() == 'img')
            problems += missing
            missing_lines = {p.lineno for p in missing}
            lines = [x for x in lines if x.lineno not in missing_lines]
        if self.check_videos and self._prefix_key() == 'video':
            problems += check_decoding(lines, self.ann_file, prefix, self.decoder)
        if problems:
            problems.sort(key=lambda p: p.lineno)
            raise AnnotationError(
                f'{name}: {len(problems)} problem(s) in {self.ann_file}; fix '
                'or remove these lines before training:\n' + format_problems(problems))
        done = ['format', f'labels in [0, {num_classes})']
        done += ['files exist'] if self.check_files else []
        done += ['videos decode'] if self.check_videos else []
        print_log(
            f'{name}: {self.ann_file}: {len(lines)} lines checked (' + ', '.join(done) +
            ')',
            logger='current')


@DATASETS.register_module()
class CheckedVideoDataset(AnnotationCheckMixin, VideoDataset):
    """:class:`mmaction.datasets.VideoDataset` whose annotation file is
    checked first (see :class:`AnnotationCheckMixin`).

    Args:
        check_files (bool): Report missing videos. Defaults to True.
        check_videos (bool): Decode every video with MMAction2's
            ``check_videos.py``. Defaults to False.
        decoder (str): ``'Decord'``, ``'OpenCV'`` or ``'PyAV'``.
        *args, **kwargs: ``VideoDataset``'s.
    """


@DATASETS.register_module()
class CheckedRawframeDataset(AnnotationCheckMixin, RawframeDataset):
    """:class:`mmaction.datasets.RawframeDataset` whose annotation file is
    checked first (see :class:`AnnotationCheckMixin`); ``check_files``
    checks that the frame directories exist."""
