"""The one resumable loop of every extractor: skip what is done, extract the
rest video by video, log and list what cannot be decoded, show progress.

The pseudo-label (:mod:`kinet_mm.pseudo_labels.extractor`), segment-feature
(:mod:`kinet_mm.features.segment_feature_extractor`) and flow
(:mod:`kinet_mm.extraction.flow`) extractors differ in what they write and how
they know a video is finished; each writes a video atomically, so an
interrupted run leaves complete videos (skipped on the rerun) and nothing
half-written.
"""
import sys
from typing import Callable, Dict, Optional, Sequence, Tuple, Type

from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar


def run_resumable(videos: Sequence[Tuple[str, str]],
                  is_done: Callable[[str], bool],
                  extract: Callable[[str, str], int],
                  errors: Tuple[Type[Exception], ...] = (),
                  logger: Optional[MMLogger] = None,
                  show_progress: bool = True) -> Dict:
    """Extract every video of ``videos`` that is not done yet.

    Args:
        videos (Sequence[tuple]): ``(key, filename)`` pairs.
        is_done (Callable): ``is_done(key)``: whether the video's output is
            complete (it is then skipped).
        extract (Callable): ``extract(key, filename)`` writes the video's
            output atomically and returns how many frames it produced.
        errors (tuple[type]): Exceptions of an undecodable video: logged, the
            video listed in ``failed``, the others go on. Defaults to ``()``.
        logger (MMLogger, optional): Defaults to the current logger.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``done``, ``skipped``, ``frames`` (produced now) and ``failed``
        (filenames).
    """
    logger = logger or MMLogger.get_current_instance()
    stats = dict(done=0, skipped=0, frames=0, failed=[])
    progress = ProgressBar(len(videos)) if show_progress and videos else None
    for key, filename in videos:
        if is_done(key):
            stats['skipped'] += 1
        else:
            try:
                frames = extract(key, filename)
            except errors as err:
                logger.error(f'skipping video {key!r}: {err}')
                stats['failed'].append(filename)
            else:
                stats['done'] += 1
                stats['frames'] += frames
        if progress is not None:
            progress.update()
    if progress is not None:
        sys.stdout.write('\n')
    return stats
