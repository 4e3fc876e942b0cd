"""File writing that an interruption cannot leave half done."""
import os
import os.path as osp
import tempfile

#: Prefix of the temporary files of :func:`atomic_write` (hidden, like dotfiles).
TMP_PREFIX = '.tmp-'


def _fsync_dir(path: str) -> None:
    """Persist a rename in ``path`` (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    """Mode of a newly created file under the process umask (e.g. 0o644)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str, write_fn) -> None:
    """Write ``path`` so that it is either complete or absent, never partial.

    ``write_fn(fileobj)`` writes into a temporary file in the same directory
    (so the final rename stays on one filesystem and is atomic); the file is
    fsynced, then renamed over ``path``. On any error the temporary file is
    removed and the error re-raised.
    """
    dirname, basename = osp.split(osp.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=f'{TMP_PREFIX}{basename}.', dir=dirname)
    try:
        # mkstemp creates 0600 files; entries are shared like ordinary files.
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, 'wb') as fileobj:
            write_fn(fileobj)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    _fsync_dir(dirname)
